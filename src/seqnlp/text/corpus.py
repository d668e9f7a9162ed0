"""Readers of plain-text corpora: language-model token lines (PTB, WikiText), one-line word
streams (text8), and labelled texts (`label<TAB>text`, e.g. IMDB).

Every reader streams its file (transparent `.xz`/`.gz`) and raises `DataFormatError`
naming the file and the 1-based line of the first malformed input.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

from seqnlp.errors import DataFormatError
from seqnlp.fileio import COMPRESSION_ERRORS, PathLike, iter_lines, open_binary

_BLOCK_BYTES = 1 << 20  # read_word_stream reads 1 MiB at a time


def read_lm_lines(path: PathLike, eos: str | None = "<eos>") -> Iterator[list[str]]:
    """Yield the tokens of each line followed by `eos`, as PyTorch's word_language_model does.

    Tokens are split on whitespace (`str.split()`), so PTB's leading space and WikiText's
    blank lines (`" "`) add no token; a blank line yields `[eos]`, and every line of the
    file yields one list (WikiText-2 train: 36,718 lists, 2,088,628 tokens).

    Args:
        path: a UTF-8 text file, optionally `.xz` or `.gz`.
        eos: the end-of-sentence token appended to every line; None appends nothing.

    Returns:
        An iterator over token lists, one per line.

    Raises:
        DataFormatError: on an empty file, invalid UTF-8 or a truncated archive.
    """
    tail = [] if eos is None else [eos]
    for _, text in iter_lines(path):
        yield text.split() + tail


def read_word_stream(path: PathLike, chunk_words: int = 10_000) -> Iterator[list[str]]:
    """Yield the words of a text8-style file in lists of `chunk_words` words.

    The file is read in 1 MiB byte blocks through an incremental UTF-8 decoder, so memory
    stays bounded by one block plus one chunk. Words are separated by whitespace
    (newlines included); a word cut by a block boundary is carried over whole, never split.
    Every list holds exactly `chunk_words` words except the last, which holds the tail.

    Args:
        path: the corpus (text8 is a single line of lower-case words), optionally `.xz`/`.gz`.
        chunk_words: number of words per yielded list; must be positive.

    Returns:
        An iterator over lists of words.

    Raises:
        ValueError: if `chunk_words` is not positive.
        DataFormatError: on invalid UTF-8 (the message gives the byte offset in the
            decompressed stream), a truncated archive, or a file without any word.
    """
    if chunk_words <= 0:
        raise ValueError(f"chunk_words must be positive, got {chunk_words}")
    pending: list[str] = []
    any_words = False
    for words in _iter_block_words(path):
        any_words = True
        pending.extend(words)
        start = 0
        while len(pending) - start >= chunk_words:
            yield pending[start : start + chunk_words]
            start += chunk_words
        del pending[:start]
    if pending:
        yield pending
    if not any_words:
        raise DataFormatError(path, None, "file has no words")


def _iter_block_words(path: PathLike) -> Iterator[list[str]]:
    """Yield the complete words of each byte block; a word cut by the block end waits."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # bytes of the (decompressed) stream read before the current block
    newlines = 0  # b"\n" seen before the current block, for the line in error messages
    carry = ""  # the unfinished word at the end of the previous block
    with open_binary(path) as stream:
        while True:
            block = _read_block(stream, path, newlines + 1)
            text = _decode_block(decoder, block, offset, newlines, path)
            offset += len(block)
            newlines += block.count(b"\n")
            text = carry + text
            words = text.split()
            if block and words and not text[-1].isspace():
                carry = words.pop()  # may continue in the next block
            else:
                carry = ""
            if words:
                yield words
            if not block:
                return


def _read_block(stream: BinaryIO, path: PathLike, line: int) -> bytes:
    try:
        return stream.read(_BLOCK_BYTES)
    except COMPRESSION_ERRORS as exc:
        raise DataFormatError(
            path, line, f"compressed data is truncated or corrupt ({exc})"
        ) from None


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


class LabeledText(NamedTuple):
    """One labelled text of a `label<TAB>text` file.

    Attributes:
        label: the class index (IMDB: 1 positive, 0 negative).
        text: everything after the first TAB, unchanged.
        line: the 1-based line of the file it came from.
    """

    label: int
    text: str
    line: int


def read_labeled(path: PathLike, num_labels: int | None = None) -> Iterator[LabeledText]:
    """Yield one `LabeledText` per line of a `label<TAB>text` file (IMDB TSV).

    The line is split on its first TAB only; the text may contain further TABs and quotes
    (no CSV quoting is applied) and may be empty.

    Args:
        path: the TSV file, optionally `.xz` or `.gz`.
        num_labels: when given, every label must lie in `[0, num_labels)`.

    Returns:
        An iterator over `LabeledText(label, text, line)`.

    Raises:
        DataFormatError: on a line without a TAB, a label that is not a non-negative
            decimal integer, a label out of range, an empty file or invalid UTF-8.
    """
    if num_labels is not None and num_labels <= 0:
        raise ValueError(f"num_labels must be positive, got {num_labels}")
    for lineno, line in iter_lines(path):
        label, tab, text = line.partition("\t")
        if not tab:
            raise DataFormatError(path, lineno, "missing TAB between label and text")
        if not (label.isascii() and label.isdigit()):
            raise DataFormatError(
                path, lineno, f"label {label!r} is not a non-negative integer"
            )
        value = int(label)
        if num_labels is not None and value >= num_labels:
            raise DataFormatError(
                path, lineno, f"label {value} is outside [0, {num_labels})"
            )
        yield LabeledText(value, text, lineno)
