"""Readers of word-vector evaluation sets: analogy questions `a b c d` under `: section`
headers (Mikolov et al., 2013) and scored word pairs such as WordSim-353 (Finkelstein et
al., 2002) and SimLex-999 (Hill et al., 2015)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple

from seqnlp.errors import DataFormatError
from seqnlp.fileio import PathLike, iter_lines


class AnalogyQuestion(NamedTuple):
    """One question `a : b :: c : d` ("a is to b as c is to d"), words as stored.

    Attributes:
        section: the name of the `: section` header above it (e.g. `"capital-common-countries"`).
        a, b, c: the three given words.
        d: the expected answer.
    """

    section: str
    a: str
    b: str
    c: str
    d: str


class WordPair(NamedTuple):
    """Two words and their human similarity or relatedness score.

    Attributes:
        word1, word2: the words, as stored.
        score: the mean human rating (0-10 in WordSim-353 and SimLex-999).
    """

    word1: str
    word2: str
    score: float


def read_analogies(path: PathLike) -> Iterator[AnalogyQuestion]:
    """Yield the questions of an analogy file such as `questions-words.txt`.

    A line starting with `:` names the section of the questions below it; every other
    non-blank line holds four whitespace-separated words. Case is kept as stored
    (lower-casing is the evaluator's choice).

    Args:
        path: the file, optionally `.xz` or `.gz`.

    Returns:
        An iterator over `AnalogyQuestion`s, in file order.

    Raises:
        DataFormatError: on a question line without exactly 4 words, a question before
            any section header, a header without a name, invalid UTF-8, an empty file or
            a file without any question.
    """
    section: str | None = None
    found = False
    for lineno, text in iter_lines(path):
        if text.startswith(":"):
            section = text[1:].strip()
            if not section:
                raise DataFormatError(path, lineno, "section header ':' has no name")
            continue
        words = text.split()
        if not words:
            continue
        if len(words) != 4:
            raise DataFormatError(
                path, lineno, f"expected 4 words (a b c d), found {len(words)}"
            )
        if section is None:
            raise DataFormatError(
                path, lineno, "question before the first ': section' header"
            )
        found = True
        yield AnalogyQuestion(section, *words)
    if not found:
        raise DataFormatError(path, None, "no questions: expected lines 'a b c d' under "
                              "': section' headers")


def read_word_pairs(path: PathLike) -> Iterator[WordPair]:
    """Yield the scored pairs of a word-similarity file (`word1<TAB>word2<TAB>score`).

    Lines starting with `#` and blank lines are skipped. A line with a TAB is split on
    TABs (so a word may contain spaces); a line without one is split on whitespace.

    Args:
        path: the file, optionally `.xz` or `.gz`.

    Returns:
        An iterator over `WordPair`s, in file order.

    Raises:
        DataFormatError: on a line without exactly 3 fields, a score that is not a
            finite number, invalid UTF-8, an empty file or a file without any pair.
    """
    found = False
    for lineno, text in iter_lines(path):
        if text.startswith("#") or not text.strip():
            continue
        fields = text.split("\t") if "\t" in text else text.split()
        fields = [field.strip() for field in fields]
        if len(fields) != 3 or not fields[0] or not fields[1]:
            raise DataFormatError(
                path, lineno, f"expected 3 fields (word1 word2 score), found {fields!r}"
            )
        found = True
        yield WordPair(fields[0], fields[1], _parse_score(fields[2], path, lineno))
    if not found:
        raise DataFormatError(path, None, "no word pairs: expected lines 'word1 word2 score'")


def _parse_score(field: str, path: PathLike, lineno: int) -> float:
    try:
        score = float(field)
    except ValueError:
        raise DataFormatError(path, lineno, f"score {field!r} is not a number") from None
    if not math.isfinite(score):
        raise DataFormatError(path, lineno, f"score {field!r} is not a finite number")
    return score
