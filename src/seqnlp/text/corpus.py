"""Readers of plain-text corpora: language-model token lines (PTB, WikiText), one-line word
streams (text8), and labelled texts (`label<TAB>text`, e.g. IMDB).

Every reader streams its file (transparent `.xz`/`.gz`, a UTF-8 byte-order mark dropped)
and raises `DataFormatError` naming the file and the 1-based line of the first malformed
input.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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
    """One labelled text of a `label<TAB>text` file whose labels are class indices.

    Attributes:
        label: the class index (IMDB: 1 positive, 0 negative).
        text: everything after the first TAB, unchanged.
        line: the 1-based line of the file it came from.
    """

    label: int
    text: str
    line: int


class LabeledLine(NamedTuple):
    """One line of a `label<TAB>text` file, its label as written ("pos", "sports", "1").

    Attributes:
        label: the text before the first TAB, unchanged.
        text: everything after the first TAB, unchanged.
        line: the 1-based line of the file it came from.
    """

    label: str
    text: str
    line: int


def _split_lines(path: PathLike) -> Iterator[LabeledLine]:
    """Every line split on its first TAB (DataFormatError on a line without one)."""
    for lineno, line in iter_lines(path):
        label, tab, text = line.partition("\t")
        if not tab:
            if not line.strip():
                raise DataFormatError(path, lineno, "blank line (each line is label<TAB>text)")
            raise DataFormatError(path, lineno, "missing TAB between label and text")
        yield LabeledLine(label, text, lineno)


def is_index_label(label: str) -> bool:
    """Whether a label is written as a class index: ASCII digits only ("0", "12")."""
    return label.isascii() and label.isdigit()


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
    for label, text, lineno in _split_lines(path):
        if not is_index_label(label):
            raise DataFormatError(
                path, lineno, f"label {label!r} is not a non-negative integer"
            )
        value = int(label)
        if num_labels is not None and value >= num_labels:
            raise DataFormatError(
                path, lineno, f"label {value} is outside [0, {num_labels})"
            )
        yield LabeledText(value, text, lineno)


def read_label_lines(path: PathLike) -> list[LabeledLine]:
    """Every line of a `label<TAB>text` file whose labels are all class indices (0, 1, ...)
    or all names (pos, neg, sports, ...), never a mixture.

    The first line decides the form. A name is any label that is not ASCII digits alone;
    it must not be empty or have spaces around it (`"pos "` and `"pos"` would be two
    classes).

    Args:
        path: the TSV file, optionally `.xz` or `.gz`.

    Returns:
        The lines, labels as written; `is_index_label(lines[0].label)` tells the form.

    Raises:
        DataFormatError: on a line without a TAB, an empty label, one with spaces around
            it, a label of the other form than the first line's (naming both lines), an
            empty file or invalid UTF-8.
    """
    lines: list[LabeledLine] = []
    for record in _split_lines(path):
        label = record.label
        if not label:
            raise DataFormatError(path, record.line, "empty label before the TAB")
        if label != label.strip():
            raise DataFormatError(path, record.line, f"label {label!r} has spaces around it")
        if lines and is_index_label(label) != is_index_label(lines[0].label):
            raise DataFormatError(path, record.line, _mixed_forms(label, lines[0]))
        lines.append(record)
    return lines


def _mixed_forms(label: str, first: LabeledLine) -> str:
    if is_index_label(first.label):
        said = (f"label {label!r} is not a non-negative integer, but line {first.line}'s "
                f"label {first.label} is")
    else:
        said = (f"label {label!r} is a class index, but line {first.line}'s label "
                f"{first.label!r} is a name")
    return (f"{said}; the labels of a file are either all class indices 0..C-1 or all "
            "names (pos, neg, ...)")


def label_ids(path: PathLike, lines: Sequence[LabeledLine], names: Sequence[str],
              whose: str = "the") -> list[int]:
    """The class of each line among the classes `names` (index = class): a class index
    below len(names), or one of the names (the form of `lines[0]`, as `read_label_lines`
    checked).

    Args:
        whose: who owns the classes, for the message ("the model's").

    Raises:
        DataFormatError: a label outside the classes, naming the first such line and the
            labels outside.
    """
    if not lines:
        return []
    if is_index_label(lines[0].label):
        ids = [int(line.label) for line in lines]
        outside = [line for line, i in zip(lines, ids) if i >= len(names)]
        if outside:
            labels = sorted({int(line.label) for line in outside})
            raise DataFormatError(
                path, outside[0].line,
                f"label {outside[0].label} is outside {whose} {len(names)} classes "
                f"0..{len(names) - 1} (labels outside: {_some(labels)}); give a file of "
                "these classes")
        return ids
    index = {name: i for i, name in enumerate(names)}
    unknown = [line for line in lines if line.label not in index]
    if unknown:
        raise DataFormatError(
            path, unknown[0].line,
            f"label {unknown[0].label!r} is not one of {whose} labels ({_some(list(names))}); "
            "give a file of these classes")
    return [index[line.label] for line in lines]


def _some(values: Sequence[object], shown: int = 6) -> str:
    """`values` for a message, the first few only: "1, 2, 3, ... (997 in all)"."""
    if len(values) <= shown:
        return ", ".join(map(str, values))
    return f"{', '.join(map(str, values[:shown]))}, ... ({len(values):,} in all)"
