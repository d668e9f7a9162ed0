"""Readers of plain-text corpora: language-model token lines (PTB, WikiText), one-line word
streams (text8), and labelled texts (`label<TAB>text`, e.g. IMDB).

Every reader streams its file (transparent `.xz`/`.gz`, a UTF-8 byte-order mark dropped)
and raises `DataFormatError` naming the file and the 1-based line of the first malformed
input.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from seqnlp.errors import DataFormatError
from seqnlp.fileio import PathLike, iter_lines, iter_text_blocks


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

    The file is read in 1 MiB byte blocks through an incremental UTF-8 decoder
    (`seqnlp.fileio.iter_text_blocks`, shared with word2vec's corpus reader), so memory
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
    for piece in iter_text_blocks(path):
        pending.extend(piece.split())
        any_words = any_words or bool(pending)
        start = 0
        while len(pending) - start >= chunk_words:
            yield pending[start : start + chunk_words]
            start += chunk_words
        del pending[:start]
    if pending:
        yield pending
    if not any_words:
        raise DataFormatError(path, None, "file has no words")


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
            if not line.strip():
                raise DataFormatError(path, lineno, "blank line (each line is label<TAB>text)")
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
