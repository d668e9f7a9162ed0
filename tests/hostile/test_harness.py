"""The harness can fail: a run that succeeds, leaves a file, says the wrong words or raises
is caught."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqnlp.errors import SeqnlpError
from tests.hostile.conftest import Row, check_row

OUTCOME = (AssertionError, pytest.fail.Exception)


def test_a_successful_run_fails_the_row(hostile_env: dict[str, Path], capsys) -> None:
    with pytest.raises(OUTCOME, match="exit 0"):
        check_row(Row("ok", ("version",)), hostile_env, capsys)


def test_missing_words_fail_the_row(hostile_env: dict[str, Path], capsys) -> None:
    row = Row("words", ("w2v", "similar", "none.bin", "x"), words=("something else",))
    with pytest.raises(OUTCOME, match="something else"):
        check_row(row, hostile_env, capsys)


def test_an_escaping_exception_fails_the_row(hostile_env, capsys, monkeypatch) -> None:
    from seqnlp.cli import w2v

    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(w2v, "_load", boom)
    row = Row("escape", ("w2v", "similar", "{vectors}", "the"))
    with pytest.raises(OUTCOME, match="an exception escaped"):
        check_row(row, hostile_env, capsys)


def test_a_file_left_behind_fails_the_row(hostile_env, capsys, monkeypatch) -> None:
    from seqnlp.cli import main as main_module

    def leaves_a_file(args: list[str]) -> None:
        Path("half-written.tmp").write_text("x")
        raise SeqnlpError("failed after writing")

    monkeypatch.setattr(main_module, "_invoke", leaves_a_file)
    with pytest.raises(OUTCOME, match="half-written.tmp"):
        check_row(Row("left", ("anything",)), hostile_env, capsys)
