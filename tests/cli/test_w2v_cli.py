"""`seqnlp w2v` smoke runs on a small vectors file in every format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from seqnlp.cli import main as cli_main
from seqnlp.cli.w2v import _table, app
from seqnlp.embeddings import evaluate_analogies, evaluate_word_pairs
from seqnlp.errors import DatasetError
from seqnlp.word2vec import KeyedVectors, OutOfVocabularyError
from tests.conftest import shared_file

WORDS = "king queen man woman paris france berlin germany rome italy boy girl".split()

runner = CliRunner()


@pytest.fixture(scope="module")
def kv() -> KeyedVectors:
    rng = np.random.default_rng(0)
    return KeyedVectors(rng.standard_normal((len(WORDS), 10)).astype(np.float32), WORDS)


@pytest.fixture(params=["text", "binary", "native"])
def vectors_path(request, tmp_path: Path, kv: KeyedVectors) -> Path:
    path = tmp_path / f"vectors.{request.param}"
    if request.param == "native":
        kv.save(path)
    else:
        kv.save_word2vec_format(path, binary=request.param == "binary")
    return path


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def table_rows(output: str) -> list[list[str]]:
    lines = output.strip().splitlines()
    start = next(i for i, line in enumerate(lines) if set(line) <= {"-", " "}) + 1
    return [line.split() for line in lines[start:]]


def test_w2v_is_registered_in_the_main_cli() -> None:
    assert ("w2v", "seqnlp.cli.w2v", "Train, query, evaluate and plot word vectors.") in cli_main.SUBCOMMANDS


def test_train_command_of_the_trainer_is_registered() -> None:
    result = invoke("train", "--help")
    assert result.exit_code == 0
    assert "CORPUS" in result.output


def test_similar_prints_the_neighbours_in_order(vectors_path: Path, kv: KeyedVectors) -> None:
    result = invoke("similar", vectors_path, "king", "-n", 4)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split() == ["rank", "word", "cosine"]
    expected = kv.most_similar("king", topn=4)
    assert table_rows(result.output) == [[str(i), w, f"{s:.4f}"] for i, (w, s) in enumerate(expected, 1)]


def test_analogy_is_b_plus_c_minus_a(vectors_path: Path, kv: KeyedVectors) -> None:
    result = invoke("analogy", vectors_path, "man", "king", "woman", "-n", 3)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "man : king :: woman : ?"
    expected = kv.most_similar(positive=["king", "woman"], negative=["man"], topn=3)
    assert [row[1] for row in table_rows(result.output)] == [w for w, _ in expected]


def test_unknown_word_fails_with_the_word_named(tmp_path: Path, kv: KeyedVectors) -> None:
    kv.save_word2vec_format(tmp_path / "v.txt")
    result = invoke("similar", tmp_path / "v.txt", "kong")
    assert result.exit_code == 1
    assert isinstance(result.exception, OutOfVocabularyError)
    assert "'kong'" in str(result.exception)


def test_table_aligns_text_left_and_numbers_right() -> None:
    text = _table(["word", "n", "score"], [("a", 10, 0.5), ("longer", 2, -0.25)])
    assert text.splitlines() == [
        "word     n    score",
        "------  --  -------",
        "a       10   0.5000",
        "longer   2  -0.2500",
    ]


def test_eval_with_explicit_files_prints_what_the_library_computes(tmp_path: Path) -> None:
    analogies = shared_file("wordsim", "questions-words.txt")
    wordsim = shared_file("wordsim", "wordsim353.tsv")
    rng = np.random.default_rng(0)
    words = sorted({"athens", "greece", "baghdad", "iraq", "tiger", "cat", "love", "sex", "king", "queen"})
    kv = KeyedVectors(rng.standard_normal((len(words), 6)).astype(np.float32), words)
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    result = invoke("eval", tmp_path / "v.bin", "--analogies", analogies, "--pairs", wordsim,
                    "--method", "3cosmul", "--restrict-vocab", 100)
    assert result.exit_code == 0, result.output
    expected = evaluate_analogies(kv, analogies, restrict_vocab=100, method="3cosmul")
    rows = {row[0]: row for row in table_rows(result.output.split("\n\n")[0])}
    assert len(rows) == 14 + 3
    total = expected.total
    assert rows["total"] == ["total", str(total.correct), str(total.answered),
                             f"{100 * total.accuracy:.2f}", str(total.oov)]
    pairs = evaluate_word_pairs(kv, wordsim)
    assert table_rows(result.output.split("\n\n")[1])[0] == [
        "wordsim353", str(pairs.pairs), str(pairs.oov), f"{pairs.spearman:.4f}", f"{pairs.pearson:.4f}"
    ]


def test_eval_names_each_pair_file_row_after_its_file(tmp_path: Path) -> None:
    words = ["king", "queen", "man", "woman", "cat"]
    kv = KeyedVectors(np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32), words)
    kv.save_word2vec_format(tmp_path / "v.txt", binary=False)
    (tmp_path / "a").mkdir()
    files = [tmp_path / "men.txt", tmp_path / "my-pairs.tsv", tmp_path / "a" / "men.txt"]
    for path in files:
        path.write_text("king queen 8\nman woman 7\ncat king 1\n", encoding="utf-8")
    args = [arg for path in files for arg in ("--pairs", path)]
    result = invoke("eval", tmp_path / "v.txt", *args)
    assert result.exit_code == 0, result.output
    names = [row[0] for row in table_rows(result.output)]
    assert names == [str(files[0]), "my-pairs", str(files[2])]  # two men.txt: full names


def test_eval_defaults_to_the_wordsim_dataset_in_the_data_home(
    tmp_path: Path, data_home: Path, shared_datasets: Path
) -> None:
    from seqnlp.datasets import fetch

    words = sorted({"love", "sex", "tiger", "cat", "old", "new", "smart", "intelligent", "hard", "difficult"})
    kv = KeyedVectors(np.random.default_rng(1).standard_normal((10, 5)).astype(np.float32), words)
    kv.save(tmp_path / "kv")
    missing = invoke("eval", tmp_path / "kv")
    assert isinstance(missing.exception, DatasetError)
    assert "seqnlp data get wordsim" in str(missing.exception)
    fetch("wordsim", from_dir=shared_datasets / "wordsim", progress=False)
    result = invoke("eval", tmp_path / "kv")
    assert result.exit_code == 0, result.output
    assert "capital-common-countries" in result.output
    assert [row[0] for row in table_rows(result.output.split("\n\n")[1])] == ["wordsim353", "simlex999"]


@pytest.mark.parametrize(
    "args, complaint",
    [
        (["eval", "--method", "3cosmax", "--analogies", "x"], "--method"),
        (["plot", "--kind", "radar", "--top", "3", "-o", "x.png"], "--kind"),
        (["plot", "--kind", "pca", "--top", "3", "--words", "king,man", "-o", "x.png"], "--words"),
        (["plot", "--kind", "pca", "-o", "x.png"], "--words"),
        (["plot", "--kind", "tsne", "--words", "king,man", "-o", "x.png"], "at least 3 words"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path: Path, kv: KeyedVectors, args, complaint) -> None:
    if complaint == "at least 3 words":
        pytest.importorskip("matplotlib")  # the word count is checked after the import
    kv.save_word2vec_format(tmp_path / "v.txt")
    result = invoke(args[0], tmp_path / "v.txt", *args[1:])
    assert result.exit_code == 2
    assert complaint in result.output


@pytest.mark.parametrize(
    "kind, choice",
    [("heatmap", ["--words", "king,queen,man,woman"]), ("pca", ["--top", "12"]),
     ("tsne", ["--words", "king, queen,man,woman,paris,france"])],
)
def test_plot_writes_a_png(tmp_path: Path, kv: KeyedVectors, kind: str, choice: list[str]) -> None:
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    kv.save(tmp_path / "kv")
    out = tmp_path / "fig" / f"{kind}.png"
    result = invoke("plot", tmp_path / "kv", "--kind", kind, *choice, "-o", out)
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == f"wrote {out}"
    if kind == "tsne":  # the slow one says what it is doing (on stderr, mixed in here)
        assert "t-SNE of 6 chosen words: done in" in result.output
    assert out.read_bytes().startswith(b"\x89PNG") and out.stat().st_size > 5_000
