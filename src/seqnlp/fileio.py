"""File plumbing shared by every subpackage: transparent .xz/.gz reading by lines or by
blocks, with exact line numbers in errors and a UTF-8 byte-order mark dropped; one-line
errors for what the operating system refuses; output paths checked before any work; and
atomic writes (a temporary file renamed into place, so that an interrupted write never
leaves a half-written file behind).
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import gzip
import lzma
import os
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, BinaryIO

from seqnlp.errors import DataFormatError, FileAccessError

PathLike = str | os.PathLike[str]

# What a truncated or corrupt compressed stream raises while being read (public: readers
# that stream bytes themselves catch the same errors).
COMPRESSION_ERRORS = (EOFError, lzma.LZMAError, gzip.BadGzipFile, zlib.error)

BLOCK_BYTES = 1 << 20  # iter_text_blocks reads 1 MiB of (decompressed) bytes at a time
# The longest run of characters without whitespace that iter_text_blocks accepts: a "word"
# longer than this is a binary file or a corpus without spaces, and carrying it from block
# to block would cost memory and time without bound.
MAX_WORD_CHARS = 1 << 20

# The longest line iter_lines accepts: text8, one 100 MB line, still reads; /dev/zero or a
# large binary file ends in an error here, not in memory exhaustion.
MAX_LINE_BYTES = 1 << 28

_BOM = "\ufeff"

# errno -> the words an error message uses (lower case, as in "x: permission denied").
_OS_REASONS = {
    errno.ENOENT: "no such file",
    errno.EISDIR: "is a directory",
    errno.ENOTDIR: "not a directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EEXIST: "file exists",
    errno.ENAMETOOLONG: "file name too long",
    errno.ELOOP: "too many levels of symbolic links",
    errno.EIO: "input/output error",
}


def os_error_reason(exc: OSError) -> str:
    """The reason of an OSError in a few lower-case words ("permission denied")."""
    reason = _OS_REASONS.get(exc.errno) if exc.errno is not None else None
    if reason is None:
        reason = (exc.strerror or str(exc) or type(exc).__name__).lower()
    return reason


def access_error(path: PathLike, exc: OSError, action: str = "") -> FileAccessError:
    """A `FileAccessError` for `exc`, naming `path`: `PATH: [ACTION: ]REASON`."""
    reason = os_error_reason(exc)
    return FileAccessError(path, f"{action}: {reason}" if action else reason, exc.errno)


def open_binary(path: PathLike) -> BinaryIO:
    """Open `path` for binary reading, decompressing `.xz` and `.gz` transparently.

    Raises:
        FileAccessError: no such file, a directory, permission denied, and so on.
    """
    name = os.fspath(path)
    if os.path.isdir(name):
        raise FileAccessError(name, "is a directory, not a file", errno.EISDIR)
    try:
        if name.endswith(".xz"):
            return lzma.open(name, "rb")  # type: ignore[return-value]
        if name.endswith(".gz"):
            return gzip.open(name, "rb")  # type: ignore[return-value]
        return open(name, "rb")
    except OSError as exc:
        raise access_error(name, exc) from None


def iter_lines(path: PathLike, *, allow_empty: bool = False) -> Iterator[tuple[int, str]]:
    """Yield `(line_number, text)` for each line of a UTF-8 file, 1-based.

    The line ending (LF or CRLF) is removed, and so is a byte-order mark at the start of
    the file. A `.xz` or `.gz` file is decompressed on the fly, so memory stays bounded by
    the longest line.

    Raises:
        DataFormatError: naming the file and line, on invalid UTF-8, a line longer than
            `MAX_LINE_BYTES`, or a truncated or corrupt compressed stream; and on an empty
            file unless `allow_empty`.
        FileAccessError: the file cannot be opened or read.
    """
    lineno = 0
    delivered = 0  # bytes of the (decompressed) stream before the current line
    with open_binary(path) as stream:
        try:
            lines = iter(lambda: stream.readline(MAX_LINE_BYTES + 1), b"")
            for lineno, raw in enumerate(lines, start=1):
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    raise DataFormatError(
                        path, lineno, f"line is longer than {MAX_LINE_BYTES:,} bytes: "
                        "this is not a text file"
                    )
                text = decode_line(raw, path, lineno)
                yield lineno, text[1:] if lineno == 1 and text.startswith(_BOM) else text
                delivered += len(raw)
        except COMPRESSION_ERRORS as exc:
            raise damage_error(path, exc, delivered, lineno) from None
        except OSError as exc:
            raise access_error(path, exc, "cannot read") from None
    if lineno == 0 and not allow_empty:
        raise DataFormatError(path, None, "file is empty")


def damage_error(
    path: PathLike, exc: BaseException, delivered: int, newlines: int
) -> DataFormatError:
    """The error for a compressed file that broke after `delivered` good bytes holding
    `newlines` line breaks, naming the line where the damage is.

    A reader loses what the failing decompression step produced (up to a buffer of
    several KiB, many lines), so the file is decompressed again, at full speed up to the
    bytes already seen good and then in steps of `_SCAN_STEP` bytes, to count the lines
    before the first byte that cannot be delivered.
    """
    name = os.fspath(path)
    # (a pipe cannot be read again: reopening it would wait for a writer)
    found = _newlines_before_damage(name, delivered) if os.path.isfile(name) else None
    line = (newlines if found is None else max(found, newlines)) + 1
    return DataFormatError(path, line, f"compressed data is truncated or corrupt ({exc})")


_SCAN_STEP = 64  # bytes of output per decompression step near the damage
_SCAN_FAST = 1 << 16  # ... and before it
_SCAN_INPUT = 1 << 14  # compressed bytes read at a time


def _newlines_before_damage(name: str, delivered: int) -> int | None:
    """Line breaks decompressed from `.gz`/`.xz` file `name` before it fails; None when
    it does not fail this time (or cannot be opened)."""
    gz = name.endswith(".gz")
    new = (lambda: zlib.decompressobj(wbits=31)) if gz else lzma.LZMADecompressor
    produced = newlines = 0
    try:
        with open(name, "rb") as raw:
            decoder, data, exhausted = new(), b"", False
            while True:
                if decoder.eof:  # the next gzip member or xz stream, if any
                    data = decoder.unused_data or raw.read(_SCAN_INPUT)
                    if not data:
                        return None
                    decoder = new()
                if not data and not exhausted and (gz or decoder.needs_input):
                    data = raw.read(_SCAN_INPUT)
                    exhausted = not data
                ahead = delivered - produced  # bytes known to decompress well
                out = decoder.decompress(data, _SCAN_STEP if ahead <= 0 else min(_SCAN_FAST, ahead))
                data = decoder.unconsumed_tail if gz else b""  # xz keeps its input itself
                produced += len(out)
                newlines += out.count(b"\n")
                if not out and not data and exhausted and not decoder.eof:
                    return newlines  # the file ends inside a stream
    except (zlib.error, lzma.LZMAError, EOFError):
        return newlines
    except OSError:
        return None


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


def iter_text_blocks(path: PathLike, block_bytes: int | None = None) -> Iterator[str]:
    """Yield the text of a UTF-8 file in pieces of about `block_bytes` bytes, each cut
    right after whitespace (or at the end of the file), so that no word spans two pieces.

    The pieces joined are the file's text, minus a leading byte-order mark. Memory stays
    bounded by about two blocks however long a line is (text8 is one 100 MB line), so
    this is how word streams and word2vec corpora are read. `.xz`/`.gz` are transparent.

    Args:
        path: the file.
        block_bytes: bytes read at a time; None uses `BLOCK_BYTES` (1 MiB).

    Returns:
        An iterator over non-empty strings.

    Raises:
        DataFormatError: naming the file and line: invalid UTF-8 (with its byte offset in
            the decompressed stream), a truncated or corrupt compressed stream, or more
            than `MAX_WORD_CHARS` characters without whitespace (not a text file).
        FileAccessError: the file cannot be opened or read.
    """
    size = BLOCK_BYTES if block_bytes is None else block_bytes
    if size < 1:
        raise ValueError(f"block_bytes must be positive, got {size}")
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # bytes of the (decompressed) stream before the current block
    newlines = 0  # b"\n" before the current block, for the line in error messages
    carry = ""  # the unfinished word at the end of the previous block
    with open_binary(path) as stream:
        while True:
            block = _read_block(stream, path, size, offset, newlines)
            text = _decode_block(decoder, block, offset, newlines, path)
            if offset == 0 and text.startswith(_BOM):
                text = text[1:]
            offset += len(block)
            newlines += block.count(b"\n")
            if not block:  # end of file: the carried word ends here
                if carry:
                    yield carry
                return
            head, carry = _split_last_word(carry + text)
            if len(carry) > MAX_WORD_CHARS:
                raise DataFormatError(
                    path, newlines + 1, f"more than {MAX_WORD_CHARS:,} characters without "
                    "a space or a line break: this is not a text file"
                )
            if head:
                yield head


def _split_last_word(text: str) -> tuple[str, str]:
    """`(head, word)`: `text` cut before its last word when nothing follows that word (it
    may continue in the next block); `(text, "")` when `text` ends with whitespace."""
    if not text or text[-1].isspace():
        return text, ""
    word = text.rsplit(None, 1)[-1]  # scans from the end: cost of the last word only
    return text[: len(text) - len(word)], word


def _read_block(
    stream: BinaryIO, path: PathLike, size: int, offset: int, newlines: int
) -> bytes:
    """Up to `size` bytes, `offset` bytes and `newlines` line breaks into the stream; on a
    corrupt stream, the error names the line where it broke (see `damage_error`)."""
    pieces: list[bytes] = []
    got = 0
    try:
        while got < size:
            piece = stream.read1(size - got)  # type: ignore[attr-defined]
            if not piece:
                break
            pieces.append(piece)
            got += len(piece)
    except COMPRESSION_ERRORS as exc:
        newlines += sum(piece.count(b"\n") for piece in pieces)
        raise damage_error(path, exc, offset + got, newlines) from None
    except OSError as exc:
        raise access_error(path, exc, "cannot read") from None
    return b"".join(pieces)


def _decode_block(
    decoder: codecs.IncrementalDecoder, block: bytes, offset: int, newlines: int, path: PathLike
) -> str:
    """Decode one block (an empty block ends the stream); report a bad byte's offset and line."""
    buffered = decoder.getstate()[0]  # bytes of a character cut by the previous block
    try:
        return decoder.decode(block, final=not block)
    except UnicodeDecodeError as exc:
        # exc.start counts from the start of buffered + block; a cut character holds no b"\n".
        start = offset - len(buffered) + exc.start  # offset in the whole stream
        line = newlines + block[: max(0, exc.start - len(buffered))].count(b"\n") + 1
        what = "truncated UTF-8 sequence at end of file" if not block else "invalid UTF-8"
        raise DataFormatError(path, line, f"{what} at byte offset {start}") from None


def check_writable(path: PathLike) -> None:
    """Refuse, before any work is done, an output file that could not be written.

    The path must not be a directory, and the nearest existing folder above it must let
    a file be created (tried with a temporary file, removed at once; missing folders
    below it are created by `atomic_write` later).

    Raises:
        FileAccessError: `PATH: cannot write: REASON` (is a directory, not a directory,
            permission denied, read-only file system, ...).
    """
    target = Path(path)
    if target.is_dir():
        raise FileAccessError(target, "cannot write: is a directory", errno.EISDIR)
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise FileAccessError(folder, "cannot write below it: not a directory", errno.ENOTDIR)
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=folder)
    except OSError as exc:
        raise access_error(target, exc, "cannot write") from None
    os.close(fd)
    os.unlink(probe)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# What writing a file's bytes raises when the disk, not the program, is at fault: such an
# error (it names no file) raised inside `atomic_write`'s block is reported on the target.
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS})


@contextlib.contextmanager
def atomic_write(path: PathLike, mode: str = "wb", **kwargs: object) -> Iterator[IO]:
    """Open a temporary file beside `path`; rename it onto `path` only on success.

    If the block raises (or the process dies), `path` keeps its previous content and the
    temporary file is removed (or, after a hard kill, left as `.<name>.*.tmp`, never under
    the final name).

    Raises:
        FileAccessError: the operating system refused to create, write or rename the file
            (`PATH: cannot write: REASON`: permission denied, no space left on device, ...).
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise access_error(target, exc, "cannot write") from None
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        with os.fdopen(fd, mode, **kwargs) as handle:  # type: ignore[call-overload]
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, FileAccessError) and (
            exc.errno in _WRITE_ERRNOS and exc.filename is None or exc.filename == tmp
        ):
            raise access_error(target, exc, "cannot write") from None
        raise
