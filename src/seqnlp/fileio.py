"""File plumbing shared by every subpackage: transparent .xz/.gz reading with exact line
numbers in errors, and atomic writes (a temporary file renamed into place, so that an
interrupted write never leaves a half-written file behind)."""

from __future__ import annotations

import contextlib
import gzip
import lzma
import os
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, BinaryIO

from seqnlp.errors import DataFormatError

PathLike = str | os.PathLike[str]

# What a truncated or corrupt compressed stream raises while being read (public: readers
# that stream bytes themselves catch the same errors).
COMPRESSION_ERRORS = (EOFError, lzma.LZMAError, gzip.BadGzipFile, zlib.error)


def open_binary(path: PathLike) -> BinaryIO:
    """Open `path` for binary reading, decompressing `.xz` and `.gz` transparently."""
    name = os.fspath(path)
    if not os.path.exists(name):
        raise DataFormatError(name, None, "no such file")
    if name.endswith(".xz"):
        return lzma.open(name, "rb")  # type: ignore[return-value]
    if name.endswith(".gz"):
        return gzip.open(name, "rb")  # type: ignore[return-value]
    return open(name, "rb")


def iter_lines(path: PathLike, *, allow_empty: bool = False) -> Iterator[tuple[int, str]]:
    """Yield `(line_number, text)` for each line of a UTF-8 file, 1-based.

    The line ending (LF or CRLF) is removed. A `.xz` or `.gz` file is decompressed on
    the fly, so memory stays bounded by the longest line.

    Raises:
        DataFormatError: naming the file and line, on invalid UTF-8 or a truncated or
            corrupt compressed stream; and on an empty file unless `allow_empty`.
    """
    lineno = 0
    with open_binary(path) as stream:
        try:
            for lineno, raw in enumerate(stream, start=1):
                yield lineno, decode_line(raw, path, lineno)
        except COMPRESSION_ERRORS as exc:
            raise DataFormatError(
                path, lineno + 1, f"compressed data is truncated or corrupt ({exc})"
            ) from None
    if lineno == 0 and not allow_empty:
        raise DataFormatError(path, None, "file is empty")


def decode_line(raw: bytes, path: PathLike, lineno: int) -> str:
    """Decode one raw line as UTF-8 and strip its LF or CRLF ending."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            path, lineno, f"invalid UTF-8 at byte {exc.start} of the line"
        ) from None
    if text.endswith("\n"):
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
    return text


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path: PathLike, mode: str = "wb", **kwargs: object) -> Iterator[IO]:
    """Open a temporary file beside `path`; rename it onto `path` only on success.

    If the block raises (or the process dies), `path` keeps its previous content and the
    temporary file is removed (or, after a hard kill, left as `.<name>.*.tmp`, never under
    the final name).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        with os.fdopen(fd, mode, **kwargs) as handle:  # type: ignore[call-overload]
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
