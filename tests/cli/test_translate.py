"""`seqnlp translate` through the real entry point: train on two small parallel files,
evaluate, translate arguments and stdin (greedy, beam, n-best), draw the attention, print
the configuration; parallel files of different line counts give one error line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import run_cli
from tests.tasks.test_translation import toy_pairs, write_pairs

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Path, Path, Path]:
    """A model trained by `seqnlp translate train` on 300 toy pairs, and its two files."""
    import contextlib
    import io

    from seqnlp.cli.main import main

    folder = tmp_path_factory.mktemp("translate")
    source, target = write_pairs(folder, toy_pairs(300))
    model = folder / "toy.pt"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            pytest.raises(SystemExit) as exited:
        main(["translate", "train", "--data", f"{source},{target}", "--tokenizer", "words",
              "--embedding-dim", "24", "--hidden-size", "24", "--dropout", "0",
              "--label-smoothing", "0", "--epochs", "8", "--lr", "0.01", "--batch-size", "32",
              "--dev-fraction", "0.1", "--threads", "1", "--no-progress", "-o", str(model)])
    assert exited.value.code == 0, err.getvalue()
    assert "epoch 8: train loss" in out.getvalue() and "dev BLEU" in out.getvalue()
    return model, source, target


def test_train_saves_a_model_that_eval_scores(trained: tuple[Path, Path, Path],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    model, source, target = trained
    code, out, err = run_cli(capsys, "translate", "eval", str(model), "--data",
                             f"{source},{target}", "--beam", "3")
    assert code == 0, err
    assert "300 sentences" in out and "tok:13a" in out and "chrF" in out
    bleu = float(out.split("BLEU ")[1].split()[0])
    assert bleu > 50
    assert "beam 3" in out


def test_run_translates_arguments_and_stdin(trained: tuple[Path, Path, Path],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    model = str(trained[0])
    code, out, _ = run_cli(capsys, "translate", "run", model, "Zwei drei.", "Eins.")
    assert code == 0 and len(out.splitlines()) == 2
    code, out_stdin, _ = run_cli(capsys, "translate", "run", model, "--beam", "2",
                                 stdin="Zwei drei.\n\nEins.\n")
    assert code == 0 and out_stdin.splitlines()[1] == ""
    assert len(out_stdin.splitlines()) == 3
    code, nbest, _ = run_cli(capsys, "translate", "run", model, "--beam", "3", "--n-best",
                             "2", "Vier.")
    assert code == 0 and len(nbest.splitlines()) == 2 and "\t-" in nbest


def test_run_draws_the_attention_of_the_first_sentence(trained: tuple[Path, Path, Path],
                                                       capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    picture = tmp_path / "attention.png"
    code, _, err = run_cli(capsys, "translate", "run", str(trained[0]), "Fünf sechs eins.",
                           "--attention-plot", str(picture))
    assert code == 0, err
    assert picture.read_bytes()[:4] == b"\x89PNG" and "drawn to" in err


def test_config_prints_the_training_configuration(trained: tuple[Path, Path, Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "translate", "config", str(trained[0]))
    assert code == 0 and 'tokenizer = "words"' in out and "[model]" in out


def test_different_line_counts_give_one_error_line_naming_both(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, target = write_pairs(tmp_path, toy_pairs(20), extra_target=3)
    code, _, err = run_cli(capsys, "translate", "train", "--data", f"{source},{target}",
                           "-o", str(tmp_path / "m.pt"))
    assert code == 1
    assert err.count("\n") == 1 and "has 20 lines" in err and "has 23" in err
    assert not (tmp_path / "m.pt").exists()


def test_n_best_above_the_beam_is_refused(trained: tuple[Path, Path, Path],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "translate", "run", str(trained[0]), "--n-best", "3",
                           "Eins.")
    assert code == 1 and "--beam of at least 3" in err


def test_both_stopping_rules_translate_and_another_is_refused(
        trained: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    model = str(trained[0])
    outputs = {}
    for rule in ("exact", "heuristic"):
        code, outputs[rule], err = run_cli(capsys, "translate", "run", model, "--beam", "3",
                                           "--stopping", rule, "Zwei drei.", "Eins.")
        assert code == 0, err
        assert len(outputs[rule].splitlines()) == 2
    code, _, err = run_cli(capsys, "translate", "run", model, "--beam", "3", "--stopping",
                           "soon", "Eins.")
    assert code == 1 and "--stopping must be one of" in err and "soon" in err


def test_the_command_line_and_the_translator_share_the_default_stopping_rule() -> None:
    import inspect

    from seqnlp.cli import translate as cli
    from seqnlp.tasks.translation import DEFAULT_STOPPING, Translator

    assert cli.STOPPING.default == DEFAULT_STOPPING == "heuristic"
    assert inspect.signature(Translator.translate).parameters["stopping"].default == \
        DEFAULT_STOPPING
