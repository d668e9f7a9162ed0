"""The word2vec C tool's text and binary vector files (Mikolov et al., 2013), readable and
writable interchangeably with gensim. (The fast native format is in `word2vec/native.py`.)

Readers never trust a header: its counts must be plausible, a plain file's size bounds the
allocation before it is made, and memory grows only with what is read. Every malformed row,
and every NaN or infinite value, raises `DataFormatError` with the file and the line (text)
or the word's 1-based position (binary).

    text:    "V E\\n" then V lines "word v1 v2 ... vE\\n"
    binary:  "V E\\n" then V records "word " + E little-endian float32 [+ "\\n", as the C tool]
"""

from __future__ import annotations

import codecs
import logging
import os
from collections.abc import Sequence
from typing import BinaryIO

import numpy as np

from seqnlp.errors import DataFormatError
from seqnlp.fileio import COMPRESSION_ERRORS, PathLike, access_error, atomic_write, open_binary

logger = logging.getLogger(__name__)

# Sane limits on what a header may claim, checked before anything is allocated. Published
# vectors have E = 50..1024 and V up to a few million (GoogleNews: 3,000,000 x 300).
MAX_VECTOR_SIZE = 1 << 16
MAX_WORDS = 1 << 32

_FLOAT32_LE = np.dtype("<f4")
_BOM = b"\xef\xbb\xbf"  # a UTF-8 byte-order mark, which some editors put before the header
_MAX_HEADER_BYTES = 256  # "V E\n" is a few dozen bytes; more means this is not a header
_MAX_WORD_BYTES = 1 << 16  # a word (text or binary) must end within this many bytes
_MAX_VALUE_BYTES = 64  # the longest text value and its spaces ("-1.2345678901234567e-308")
_SNIFF_BYTES = 4096  # bytes after the header looked at to tell text from binary
_READ_AHEAD_BYTES = 1 << 16  # binary records are read in blocks of this size
_TEXT_BLOCK_ROWS = 8192  # text rows parsed per NumPy conversion

Parsed = tuple[np.ndarray, list[str]]  # vectors (V, E) float32, index_to_key


# ----------------------------------------------------------------------------- writing


def write_word2vec(
    path: PathLike, vectors: np.ndarray, keys: Sequence[str], binary: bool = False
) -> None:
    """Write vectors in the word2vec C format, atomically.

    Text rows hold the shortest decimal that reads back as the same float32, so a text
    round trip is exact. Binary records end with a newline, as the C tool writes them
    (gensim's reader accepts both).

    Args:
        path: the output file.
        vectors: (V, E) array, stored as float32.
        keys: the V words; none may be empty or contain a space or a newline.
        binary: binary records instead of text rows.

    Raises:
        ValueError: a word that the format cannot hold, or a shape mismatch.
    """
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != len(keys):
        raise ValueError(f"vectors of shape {matrix.shape} do not match {len(keys)} keys")
    for key in keys:
        _check_writable_key(key)
    with atomic_write(path, "wb") as out:
        out.write(f"{matrix.shape[0]} {matrix.shape[1]}\n".encode("ascii"))
        if binary:
            little = matrix.astype(_FLOAT32_LE, copy=False)
            for key, row in zip(keys, little):
                out.write(key.encode("utf-8") + b" " + row.tobytes() + b"\n")
        else:
            for key, row in zip(keys, matrix):
                values = " ".join(map(str, row))  # str(np.float32): shortest round trip
                out.write(f"{key} {values}\n".encode("utf-8"))


def _check_writable_key(key: str) -> None:
    if not isinstance(key, str) or not key or " " in key or "\n" in key:
        raise ValueError(
            f"word {key!r} cannot be stored in word2vec format "
            "(it must be a non-empty string without spaces or newlines)"
        )


# ----------------------------------------------------------------------------- reading


def read_word2vec(
    path: PathLike,
    binary: bool | None = None,
    limit: int | None = None,
    unicode_errors: str = "strict",
) -> Parsed:
    """Read a word2vec C-format file, text or binary (`.gz`/`.xz` decompressed on the fly).

    The header is checked against sane limits (`MAX_WORDS`, `MAX_VECTOR_SIZE`) and, for a
    plain file, against the file's size, before anything is allocated; after that, memory
    grows only with the rows actually read, so a compressed file that lies about its size
    fails at its end, in time proportional to its real content. A byte-order mark before
    the header is skipped.

    Args:
        path: the file.
        binary: True or False to force the format; None detects it from the first record.
        limit: read at most this many words (the first ones in the file).
        unicode_errors: how to decode words that are not valid UTF-8: "strict" raises
            DataFormatError, "replace" or "ignore" behave as in `bytes.decode` (the C tool
            may cut a multi-byte character in two).

    Returns:
        `(vectors, index_to_key)`: a (V, E) float32 array and the V words in file order.
        A word repeated in the file keeps its first vector (as gensim does); the later
        copies are dropped with a warning.

    Raises:
        DataFormatError: a bad or implausible header, a truncated file, a row with the
            wrong number of values, a value that is not a number, a value that is NaN or
            infinite (or beyond float32's range), or undecodable bytes.
        FileAccessError: no such file, a directory, permission denied.
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    try:
        codecs.lookup_error(unicode_errors)
    except LookupError:
        raise ValueError(f"unknown unicode_errors handler {unicode_errors!r}") from None
    with open_binary(path) as stream:
        try:
            vectors, keys, binary = _read_stream(stream, path, binary, limit, unicode_errors)
        except COMPRESSION_ERRORS as exc:
            raise DataFormatError(
                path, None, f"compressed data is truncated or corrupt ({exc})"
            ) from None
        except OSError as exc:
            raise access_error(path, exc, "cannot read") from None
    bad = first_non_finite_row(vectors)
    if bad is not None:
        where = (None, f"word {bad + 1} ({keys[bad]!r})") if binary else (bad + 2, repr(keys[bad]))
        raise DataFormatError(
            path, where[0], f"the vector of {where[1]} holds NaN or infinity (a value that is "
            "not a finite float32)"
        )
    return _drop_duplicates(vectors, keys, path)


def first_non_finite_row(vectors: np.ndarray, rows_per_check: int = 1 << 14) -> int | None:
    """The index of the first row of `vectors` (V, E) holding NaN or +-inf, or None.

    Checked a slice of rows at a time, so the temporary mask stays small.
    """
    for start in range(0, len(vectors), rows_per_check):
        finite = np.isfinite(vectors[start : start + rows_per_check]).all(axis=1)
        if not finite.all():
            return start + int(np.argmin(finite))
    return None


def _read_stream(
    stream: BinaryIO, path: PathLike, binary: bool | None, limit: int | None,
    unicode_errors: str,
) -> tuple[np.ndarray, list[str], bool]:
    """The rows of an open file, and whether they were read as binary records."""
    rows, size = _read_header(stream, path)
    wanted = rows if limit is None else min(rows, limit)
    header_bytes = stream.tell()
    remaining = _plain_file_size(path) - header_bytes if _is_plain(path) else None
    sniff = _peek(stream, _SNIFF_BYTES)
    if binary is None:
        binary = not _looks_like_text(sniff, size)
    record_bytes = 4 * size + 1 if binary else 2 * size + 1
    if remaining is not None and wanted * record_bytes > remaining:
        raise DataFormatError(
            path, 1, f"header declares {rows} words of {size} dimensions, which needs "
            f"at least {wanted * record_bytes} bytes, but only {remaining} bytes follow"
        )
    reader = _read_binary_rows if binary else _read_text_rows
    vectors, keys = reader(stream, path, wanted, size, unicode_errors)
    return vectors, keys, binary


def _read_header(stream: BinaryIO, path: PathLike) -> tuple[int, int]:
    raw = stream.readline(_MAX_HEADER_BYTES)
    if not raw:
        raise DataFormatError(path, None, "file is empty")
    if raw.startswith(_BOM) and not raw.endswith(b"\n"):
        raw = raw[len(_BOM):] + stream.readline(_MAX_HEADER_BYTES)
    raw = raw.removeprefix(_BOM)
    if not raw.endswith(b"\n"):
        raise DataFormatError(path, 1, "header line 'V E' is missing or too long")
    fields = raw.decode("ascii", errors="replace").split()
    if len(fields) != 2 or not all(f.isascii() and f.isdigit() for f in fields):
        raise DataFormatError(
            path, 1, f"header must be two non-negative integers 'V E', got {raw[:80]!r}"
        )
    rows, size = int(fields[0]), int(fields[1])
    if size < 1:
        raise DataFormatError(path, 1, f"vector size must be >= 1, got {size}")
    if size > MAX_VECTOR_SIZE:
        raise DataFormatError(
            path, 1, f"vector size {size:,} is more than {MAX_VECTOR_SIZE:,}: "
            "this header is damaged, or the file is not word vectors"
        )
    if rows > MAX_WORDS:
        raise DataFormatError(
            path, 1, f"{rows:,} words is more than {MAX_WORDS:,}: "
            "this header is damaged, or the file is not word vectors"
        )
    return rows, size


def _is_plain(path: PathLike) -> bool:
    return not os.fspath(path).endswith((".gz", ".xz"))


def _plain_file_size(path: PathLike) -> int:
    return os.stat(path).st_size


def _peek(stream: BinaryIO, count: int) -> bytes:
    """The next `count` bytes of `stream`, left unread (works on plain and compressed files)."""
    if hasattr(stream, "peek"):
        data = b""
        while len(data) < count:
            more = stream.peek(count)  # type: ignore[attr-defined]
            if len(more) <= len(data):
                break
            data = more
        return data[:count]
    position = stream.tell()
    data = stream.read(count)
    stream.seek(position)
    return data


def _looks_like_text(sample: bytes, size: int) -> bool:
    """Whether the bytes after the header read as text rows rather than binary records.

    Text if the first row is a word and `size` numbers, or if the sample is clean text
    (so that a malformed text file gets the text reader's precise error). Binary float32
    data is almost never either.
    """
    first = sample.split(b"\n", 1)[0]
    values = first.decode("utf-8", errors="replace").partition(" ")[2].split()
    if len(values) == size and all(_is_float(v) for v in values):
        return True
    text = sample.decode("utf-8", errors="ignore")
    clean = len(text.encode("utf-8")) >= len(sample) - 3  # a cut final character is fine
    return clean and not any(ch < " " and ch not in "\t\n\r" for ch in text)


def _words(count: int) -> str:
    return f"{count} word" if count == 1 else f"{count} words"


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_text_rows(
    stream: BinaryIO, path: PathLike, wanted: int, size: int, unicode_errors: str
) -> tuple[np.ndarray, list[str]]:
    keys: list[str] = []
    blocks: list[np.ndarray] = []
    pending: list[str] = []  # the value strings of up to _TEXT_BLOCK_ROWS rows
    first_line = 2  # the header is line 1
    longest = _MAX_WORD_BYTES + size * _MAX_VALUE_BYTES  # no honest row is longer
    for lineno in range(2, wanted + 2):
        raw = stream.readline(longest + 1)
        if not raw:
            raise DataFormatError(
                path, lineno, f"file ends after {_words(len(keys))}; the header declares {wanted}"
            )
        if len(raw) > longest:
            raise DataFormatError(
                path, lineno, f"row is longer than {longest:,} bytes, more than a word and "
                f"{size} numbers can take"
            )
        word, values = _split_text_row(raw, path, lineno, size, unicode_errors)
        keys.append(word)
        pending.extend(values)
        if len(pending) >= _TEXT_BLOCK_ROWS * size:
            blocks.append(_text_block(pending, size, path, first_line))
            pending, first_line = [], lineno + 1
    if pending:
        blocks.append(_text_block(pending, size, path, first_line))
    vectors = np.concatenate(blocks) if blocks else np.zeros((0, size), np.float32)
    return vectors, keys


def _split_text_row(
    raw: bytes, path: PathLike, lineno: int, size: int, unicode_errors: str
) -> tuple[str, list[str]]:
    try:
        text = raw.decode("utf-8", errors=unicode_errors)
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            path, lineno, f"invalid UTF-8 at byte {exc.start} of the line "
            "(unicode_errors='replace' reads it anyway)"
        ) from None
    word, _, rest = text.rstrip("\r\n").partition(" ")
    values = rest.split()
    if not word:
        raise DataFormatError(path, lineno, "row starts with a space: the word is missing")
    if len(values) != size:
        raise DataFormatError(
            path, lineno, f"expected {size} values after {word!r}, found {len(values)}"
        )
    return word, values


def _text_block(values: list[str], size: int, path: PathLike, first_line: int) -> np.ndarray:
    """Parse the values of consecutive rows; a value too large for float32 becomes inf
    (refused afterwards with the other non-finite values)."""
    try:
        as_float64 = np.array(values, dtype=np.float64)
    except (ValueError, OverflowError):
        for position, value in enumerate(values):
            if not _is_float(value):
                raise DataFormatError(
                    path, first_line + position // size, f"value {value!r} is not a number"
                ) from None
        raise
    with np.errstate(over="ignore", invalid="ignore"):
        return as_float64.astype(np.float32).reshape(-1, size)


def _read_binary_rows(
    stream: BinaryIO, path: PathLike, wanted: int, size: int, unicode_errors: str
) -> tuple[np.ndarray, list[str]]:
    record = _BinaryRecords(stream, path)
    keys: list[str] = []
    vectors = _GrowingRows(wanted, size)
    for index in range(1, wanted + 1):
        word_bytes = record.read_word(index).lstrip(b"\n")  # C tool: "\n" after each vector
        try:
            word = word_bytes.decode("utf-8", errors=unicode_errors)
        except UnicodeDecodeError as exc:
            raise DataFormatError(
                path, None, f"word {index}: invalid UTF-8 at byte {exc.start} "
                "(unicode_errors='replace' reads it anyway)"
            ) from None
        if not word:
            raise DataFormatError(path, None, f"word {index}: the word is empty")
        vectors.append(record.read_vector(index, size))
        keys.append(word)
    return vectors.array(), keys


class _BinaryRecords:
    """Reads `word ` and float32 blocks from a stream, naming the record on truncation.

    Bytes are read ahead into a buffer consumed from a moving position, so each byte is
    copied a bounded number of times (a buffer re-sliced per word, or grown by `+=`, would
    copy quadratically).
    """

    def __init__(self, stream: BinaryIO, path: PathLike) -> None:
        self._stream = stream
        self._path = path
        self._buffer = b""
        self._pos = 0  # the first unread byte of _buffer

    def _fill(self) -> bool:
        """Append one read-ahead block to the unread bytes; False at the end of the file."""
        more = self._stream.read(_READ_AHEAD_BYTES)
        if not more:
            return False
        self._buffer = self._buffer[self._pos :] + more
        self._pos = 0
        return True

    def read_word(self, index: int) -> bytes:
        searched = self._pos  # the unread bytes before this hold no space
        while True:
            space = self._buffer.find(b" ", searched)
            if space >= 0:
                word = self._buffer[self._pos : space]
                self._pos = space + 1
                return word
            if len(self._buffer) - self._pos > _MAX_WORD_BYTES:
                raise DataFormatError(
                    self._path, None,
                    f"word {index}: no space within {_MAX_WORD_BYTES} bytes (not a binary record)",
                )
            searched = len(self._buffer) - self._pos
            if not self._fill():
                raise DataFormatError(
                    self._path, None, f"word {index}: file ends before the word does "
                    f"(only {_words(index - 1)} complete)"
                )

    def read_vector(self, index: int, size: int) -> np.ndarray:
        need = 4 * size  # at most 4 * MAX_VECTOR_SIZE bytes: the header was checked
        while len(self._buffer) - self._pos < need:
            if not self._fill():
                raise DataFormatError(
                    self._path, None, f"word {index}: file ends inside its vector "
                    f"({len(self._buffer) - self._pos} of {need} bytes)"
                )
        data = self._buffer[self._pos : self._pos + need]
        self._pos += need
        return np.frombuffer(data, dtype=_FLOAT32_LE)


class _GrowingRows:
    """A (rows, E) float32 buffer that grows by doubling, never past `limit` rows.

    Memory stays proportional to what was actually read, whatever a header claims.
    """

    def __init__(self, limit: int, size: int) -> None:
        self._limit = limit
        self._data = np.empty((0, size), np.float32)
        self._count = 0

    def append(self, row: np.ndarray) -> None:
        if self._count == len(self._data):
            capacity = min(self._limit, max(16, 2 * len(self._data)))
            grown = np.empty((capacity, self._data.shape[1]), np.float32)
            grown[: self._count] = self._data[: self._count]
            self._data = grown
        self._data[self._count] = row
        self._count += 1

    def array(self) -> np.ndarray:
        return self._data[: self._count]


def _drop_duplicates(vectors: np.ndarray, keys: list[str], path: PathLike) -> Parsed:
    first: dict[str, int] = {}
    for index, key in enumerate(keys):
        first.setdefault(key, index)
    if len(first) == len(keys):
        return vectors, keys
    logger.warning(
        "%s: %d repeated words, keeping the first vector of each", path, len(keys) - len(first)
    )
    rows = np.fromiter(first.values(), dtype=np.int64, count=len(first))
    return np.ascontiguousarray(vectors[rows]), list(first)
