"""`seqnlp caption` through the real entry point: train a tiny captioner, evaluate it on
held-out digit images, caption composed digits and draw the attention per word."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import run_cli

pytest.importorskip("sklearn")
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import contextlib
    import io

    from seqnlp.cli.main import main

    path = tmp_path_factory.mktemp("caption") / "digits.pt"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
        main(["caption", "train", "--examples", "300", "--dev-examples", "40", "--channels",
              "8", "--hidden-size", "8", "--embedding-dim", "8", "--epochs", "1",
              "--threads", "1", "--no-progress", "-o", str(path)])
    assert exited.value.code == 0
    assert "held out for test" in out.getvalue() and "dev exact" in out.getvalue()
    return path


def test_eval_reports_exact_match_by_number_of_digits(model: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "caption", "eval", str(model), "--examples", "40")
    assert code == 0, err
    assert "held-out images" in out and "exact match" in out and "4 digit(s)" in out
    code, out, _ = run_cli(capsys, "caption", "eval", str(model), "--examples", "10",
                           "--digits", "4", "--beam", "2")
    assert code == 0 and "4-4 digits" in out and "1 digit(s)" not in out


def test_run_captions_composed_digits_and_draws_the_attention(
        model: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    picture = tmp_path / "sat.png"
    code, out, err = run_cli(capsys, "caption", "run", str(model), "3 1 4", "27",
                             "--attention-plot", str(picture))
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["314", "27"]
    assert picture.read_bytes()[:4] == b"\x89PNG"


def test_bad_digits_are_one_error_line(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "caption", "run", str(model), "3 x")
    assert code == 1 and err.count("\n") == 1 and "'x' is not a digit" in err


def test_config_prints_the_training_configuration(model: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "caption", "config", str(model))
    assert code == 0 and "examples = 300" in out
