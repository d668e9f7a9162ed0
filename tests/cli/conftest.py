"""Shared CLI test helper: run `seqnlp ARGS` through the real entry point."""

from __future__ import annotations

import io
import sys

import pytest

from seqnlp.cli.main import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str, stdin: str | None = None
            ) -> tuple[int, str, str]:
    """Run `seqnlp ARGS`, optionally reading `stdin`; return the exit status, stdout and stderr."""
    saved = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdin = saved
    out, err = capsys.readouterr()
    return code, out, err
