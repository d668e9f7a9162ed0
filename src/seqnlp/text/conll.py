"""Reader of CoNLL-2003 column files (Tjong Kim Sang & De Meulder, 2003): one token per line
as `word POS chunk NE`, a blank line between sentences, and a `-DOCSTART- -X- O O` line
before each document. Tags are returned as stored (IOB1 in the original files).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from seqnlp.errors import DataFormatError
from seqnlp.fileio import PathLike, iter_lines

DOCSTART = "-DOCSTART-"
_NUM_COLUMNS = 4


class ConllSentence(NamedTuple):
    """One sentence of a CoNLL-2003 file; the four tuples have one entry per token.

    Attributes:
        tokens: the words (column 1).
        pos: part-of-speech tags (column 2).
        chunk: syntactic chunk tags (column 3).
        tags: named-entity tags (column 4), as stored.
        line: 1-based line of the sentence's first token.
        doc_start: True for the first sentence of a document: the sentence that follows a
            `-DOCSTART-` line, or, with `include_docstart=True`, the `-DOCSTART-` itself.
    """

    tokens: tuple[str, ...]
    pos: tuple[str, ...]
    chunk: tuple[str, ...]
    tags: tuple[str, ...]
    line: int
    doc_start: bool


def read_conll(path: PathLike, include_docstart: bool = False) -> Iterator[ConllSentence]:
    """Yield the sentences of a CoNLL-2003 file.

    A `-DOCSTART-` line ends the current sentence like a blank line does. With
    `include_docstart=False` it is skipped and the next sentence gets `doc_start=True`
    (eng.train: 14,041 sentences, 203,621 tokens). With `include_docstart=True` it is
    yielded as a one-token sentence with `doc_start=True`, as the published sentence
    counts do (eng.train: 14,987 sentences, of which 946 are `-DOCSTART-`).

    Args:
        path: the column file, optionally `.xz` or `.gz`.
        include_docstart: yield each `-DOCSTART-` line as its own sentence.

    Returns:
        An iterator over `ConllSentence`s, in file order.

    Raises:
        DataFormatError: on a line without exactly 4 whitespace-separated columns,
            invalid UTF-8, a truncated archive or an empty file.
    """
    rows: list[list[str]] = []
    first_line = 0
    new_document = False
    for lineno, text in iter_lines(path):
        columns = text.split()
        if columns and len(columns) != _NUM_COLUMNS:
            raise DataFormatError(
                path, lineno,
                f"expected {_NUM_COLUMNS} columns (word POS chunk NE), found {len(columns)}",
            )
        if rows and (not columns or columns[0] == DOCSTART):
            yield _sentence(rows, first_line, new_document)
            rows, new_document = [], False
        if not columns:
            continue
        if columns[0] == DOCSTART:
            new_document = True
            if include_docstart:
                yield _sentence([columns], lineno, True)
                new_document = False
            continue
        if not rows:
            first_line = lineno
        rows.append(columns)
    if rows:
        yield _sentence(rows, first_line, new_document)


def _sentence(rows: list[list[str]], line: int, doc_start: bool) -> ConllSentence:
    tokens, pos, chunk, tags = zip(*rows)
    return ConllSentence(tokens, pos, chunk, tags, line, doc_start)
