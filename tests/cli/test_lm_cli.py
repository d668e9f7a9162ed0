"""`seqnlp lm train|eval|generate|score`, run through the real entry point on tiny text."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqnlp.cli.main import main
from tests.cli.conftest import run_cli as run

SENTENCES = ["the cat sat on the mat", "a dog ran in the park", "the dog sat on a log"]
CHINESE = ["我爱北京天安门，天安门上太阳升。", "今天天气很好，我们去公园散步。"]
TINY = ["--embedding-dim", "16", "--hidden-size", "16", "--num-layers", "1",
        "--batch-size", "4", "--bptt", "10", "--eval-batch-size", "2", "--threads", "1"]


pytestmark = pytest.mark.usefixtures("one_thread")


def result_lines(out: str) -> list[str]:
    """The lines after the resolved configuration (TOML) that `train` prints first."""
    return [line for line in out.splitlines()
            if line and not line.startswith(("#", "[")) and " = " not in line]


@pytest.fixture(scope="module")
def word_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("lm-cli")
    text = folder / "toy.txt"
    text.write_text("\n".join(SENTENCES * 60) + "\n", encoding="utf-8")
    model = folder / "toy.lm"
    with pytest.raises(SystemExit) as done:
        main(["lm", "train", "--data", str(text), "-o", str(model), *TINY, "--epochs", "4",
              "--optimizer", "adam", "--lr", "0.02", "--checkpoint-dir", str(folder / "ckpt")])
    assert done.value.code == 0
    return text, model


def test_train_prints_epochs_and_saves_a_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = tmp_path / "toy.txt"
    text.write_text("\n".join(SENTENCES * 40) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "lm", "train", "--data", str(text), "-o",
                         str(tmp_path / "m.lm"), *TINY, "--epochs", "2", "--sampled-softmax", "5",
                         "--variable-bptt", "--tie-weights", "--dropout", "0.2")
    assert code == 0, err
    lines = result_lines(out)
    assert lines[0].startswith(f"{text} (word level): vocabulary 13; tokens train 756,")
    assert [line.split()[:2] for line in lines[1:3]] == [["epoch", "1"], ["epoch", "2"]]
    assert "lr 20" in lines[1] and "valid ppl" in lines[1]
    assert lines[-1].startswith("best valid ppl") and lines[-1].endswith(f"saved {tmp_path / 'm.lm'}")
    assert (tmp_path / "m.lm").is_file()


def test_eval_prints_the_perplexity_of_a_split(
    capsys: pytest.CaptureFixture[str], word_model: tuple[Path, Path]
) -> None:
    text, model = word_model
    code, out, _ = run(capsys, "lm", "eval", str(model), "--data", str(text), "--split", "valid",
                       "--batch-size", "2")
    assert code == 0
    assert out.startswith("valid perplexity ") and "0.00% read as <unk>" in out
    assert float(out.split()[2]) < 1.5


def test_generate_continues_the_prompt_and_notes_unknown_words(
    capsys: pytest.CaptureFixture[str], word_model: tuple[Path, Path]
) -> None:
    _, model = word_model
    code, out, err = run(capsys, "lm", "generate", str(model), "--prompt", "a zebra dog")
    assert code == 0
    assert out.startswith("a <unk> dog ")
    assert "not in the vocabulary, read as <unk>: 'zebra'" in err
    code, out, _ = run(capsys, "lm", "generate", str(model), "--prompt", "the",
                       "--strategy", "beam", "--beam", "4", "-n", "3")
    assert code == 0 and len(out.splitlines()) == 3
    code, out, _ = run(capsys, "lm", "generate", str(model), "--prompt", "the", "--strategy",
                       "sample", "-n", "2", "--top-k", "3", "--top-p", "0.9", "--temperature", "0.7")
    assert code == 0 and len(out.splitlines()) == 2


def test_score_prints_one_row_per_stdin_line(
    capsys: pytest.CaptureFixture[str], word_model: tuple[Path, Path]
) -> None:
    _, model = word_model
    code, out, err = run(capsys, "lm", "score", str(model),
                         stdin="the cat sat on the mat\nmat the on sat cat the\nhello cat\n")
    assert code == 0
    rows = [line.split("\t") for line in out.splitlines()]
    assert [row[4] for row in rows] == ["the cat sat on the mat", "mat the on sat cat the",
                                        "hello cat"]
    assert [row[1] for row in rows] == ["7", "7", "3"]
    assert [row[2] for row in rows] == ["0", "0", "1"]  # unknown words per line
    assert float(rows[0][0]) > float(rows[1][0])
    assert "line 3: read as <unk>: 'hello'" in err
    assert "not comparable" in err


def test_generate_with_no_repeat_ngram_never_repeats_one(
    capsys: pytest.CaptureFixture[str], word_model: tuple[Path, Path]
) -> None:
    _, model = word_model
    for strategy in ("greedy", "beam"):
        code, out, _ = run(capsys, "lm", "generate", str(model), "--prompt", "the cat",
                           "--strategy", strategy, "--no-repeat-ngram", "2", "--max-len", "40")
        assert code == 0
        words = out.split()
        bigrams = list(zip(words, words[1:]))
        assert len(bigrams) == len(set(bigrams)), out


def test_resume_continues_from_the_checkpoint(
    capsys: pytest.CaptureFixture[str], word_model: tuple[Path, Path], tmp_path: Path
) -> None:
    text, model = word_model
    code, out, err = run(capsys, "lm", "train", "--data", str(text), "-o", str(tmp_path / "r.lm"),
                         *TINY, "--epochs", "5", "--optimizer", "adam", "--lr", "0.02",
                         "--checkpoint-dir", str(model.parent / "ckpt"), "--resume")
    assert code == 0, err
    epochs = [line for line in result_lines(out) if line.startswith("epoch")]
    assert [line.split()[1] for line in epochs] == ["1", "2", "3", "4", "5"]


def test_char_level_chinese_trains_generates_and_scores(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = tmp_path / "zh.txt"
    text.write_text("\n".join(CHINESE * 80) + "\n", encoding="utf-8")
    model = tmp_path / "zh.lm"
    code, out, err = run(capsys, "lm", "train", "--data", str(text), "--level", "char",
                         "-o", str(model), *TINY, "--epochs", "3", "--optimizer", "adam",
                         "--lr", "0.02")
    assert code == 0, err
    assert "(char level): vocabulary 25;" in out
    code, out, _ = run(capsys, "lm", "generate", str(model), "--prompt", "今天")
    assert code == 0 and out.startswith("今天") and " " not in out.strip()
    code, out, _ = run(capsys, "lm", "score", str(model), stdin="今天天气很好\n")
    assert code == 0 and out.split("\t")[1] == "7"


def test_a_too_short_corpus_is_one_error_line_naming_both_numbers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "short.txt").write_text("one two three\n" * 30, encoding="utf-8")
    code, out, err = run(capsys, "lm", "train", "--data", str(tmp_path / "short.txt"), "-o",
                         str(tmp_path / "x.lm"), "--batch-size", "16", "--bptt", "35")
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("seqnlp: error: the training text has 108 tokens")
    assert "batch size 16 and BPTT length 35" in err


def test_a_model_of_another_kind_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from torch import nn

    from seqnlp.models.artifact import save_artifact
    from seqnlp.models.language_model import LanguageModelConfig

    path = tmp_path / "clf.pt"
    save_artifact(path, "classifier", LanguageModelConfig(vocab_size=5), nn.Linear(2, 2))
    code, _, err = run(capsys, "lm", "generate", str(path), "--prompt", "hi")
    assert code == 1
    assert err == f"seqnlp: error: {path}: is a 'classifier' model, expected a 'language_model' model\n"
