"""Errors that seqnlp reports to users as one line (the CLI prints them without a traceback)."""

from __future__ import annotations

import os


def one_of(choices: object) -> str:
    """Choices as a message shows them: `rnn, lstm or gru` (never a Python tuple)."""
    names = [str(choice) for choice in choices]  # type: ignore[attr-defined]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


class SeqnlpError(Exception):
    """Base class of every error that is the user's input, not a bug in seqnlp."""


class DataFormatError(SeqnlpError, ValueError):
    """A data file is malformed. The message names the file, the line and the problem.

    Args:
        path: the file that was being read.
        line: 1-based line number, or None when the problem is not tied to one line
            (an empty file, a truncated archive found before any line).
        message: what is wrong, in words a user can act on.
    """

    def __init__(self, path: str | os.PathLike[str], line: int | None, message: str) -> None:
        self.path = os.fspath(path)
        self.line = line
        self.message = message
        where = self.path if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {message}")


class FileAccessError(DataFormatError, OSError):
    """The operating system refuses a file or folder: no such file, a directory where a file
    is expected, permission denied, a read-only file system, no space left, file exists.

    The message is `PATH: REASON` in plain words (`"out.bin: cannot write: read-only file
    system"`). It is a `DataFormatError` (for an input, a missing file is as unusable as a
    malformed one, and callers that catch that keep working) and an `OSError` carrying the
    original `errno` (callers that catch OSError keep working).

    Args:
        path: the file or folder.
        reason: what went wrong, e.g. "permission denied" or "cannot write: is a directory".
        errno: the operating system's error number, when there is one.
    """

    def __init__(
        self, path: str | os.PathLike[str], reason: str, errno: int | None = None
    ) -> None:
        super().__init__(path, None, reason)
        self.errno = errno


class DatasetError(SeqnlpError):
    """A dataset is unknown, missing from the data home, or could not be fetched."""


class ChecksumError(DatasetError):
    """A file's sha256 differs from the registry's. The message shows both digests."""

    def __init__(self, path: str | os.PathLike[str], expected: str, actual: str) -> None:
        self.path = os.fspath(path)
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{self.path}: sha256 mismatch: expected {expected}, got {actual}"
        )
