"""Readers of Chinese word-segmentation data (SIGHAN 2005 bakeoff, Emerson 2005; PFR People's
Daily 1998): segmented text, raw test sentences, training word lists, and width
normalisation of full-width ASCII forms.

The SIGHAN test and gold files use CRLF (removed by `seqnlp.fileio.iter_lines`); a UTF-8
byte-order mark at the start of a file is dropped. Blank lines are skipped by the line
readers, so a raw test file and its gold file stay aligned whenever their blank lines
coincide (PKU test and gold both end with one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from seqnlp.errors import DataFormatError
from seqnlp.fileio import PathLike, iter_lines

# Words are separated by runs of ASCII spaces (SIGHAN/PFR use two; one PKU gold line uses
# one, in "－ 8", and the official word count 104,372 counts it as two words) or TABs.
# Other spaces, such as the ideographic space U+3000, are characters, not separators.
_SEPARATOR = re.compile(r"[ \t]+")

# U+FF01..U+FF5E are the full-width forms of ASCII U+0021..U+007E, at a fixed offset.
_FULL_TO_HALF = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def normalize_width(text: str) -> str:
    """Map full-width ASCII forms to ASCII, e.g. `"１９９８年，ＡＢ"` -> `"1998年,AB"`.

    Exactly the 94 characters U+FF01..U+FF5E (full-width `！` .. `～`: digits, Latin
    letters and ASCII punctuation) become U+0021..U+007E. On those characters this is what
    Unicode NFKC does, so full-width `，` `（` `）` `：` `；` `？` `！` become ASCII. Everything
    else is kept, including the ideographic space U+3000 (NFKC would make it a space and so
    a word separator), `。` `、` `“` `”` `《` `》` `—` `…` (which NFKC keeps too), and the
    other characters NFKC would change (half-width katakana, `￥`, ligatures, circled digits).

    Args:
        text: any string.

    Returns:
        The string with full-width ASCII forms replaced; same length as `text`.
    """
    return text.translate(_FULL_TO_HALF)


def _lines(path: PathLike) -> Iterator[tuple[int, str]]:
    """`iter_lines` (which drops a leading byte-order mark), minus blank lines."""
    for lineno, text in iter_lines(path):
        if text.strip(" \t"):
            yield lineno, text


def read_segmented(path: PathLike) -> Iterator[list[str]]:
    """Yield the words of each non-blank line of a segmented file (SIGHAN gold, PFR 1998).

    Words are separated by runs of ASCII spaces or TABs; leading and trailing separators
    are ignored. Characters are kept as stored (apply `normalize_width` to compare
    full-width PFR text with half-width test data).

    Args:
        path: UTF-8 file, LF or CRLF, optionally `.xz` or `.gz`.

    Returns:
        An iterator over lists of words, one per non-blank line.

    Raises:
        DataFormatError: on invalid UTF-8, a truncated archive or an empty file.
    """
    for _, text in _lines(path):
        yield _SEPARATOR.split(text.strip(" \t"))


def read_raw_lines(path: PathLike, strip: bool = True) -> Iterator[str]:
    """Yield each non-blank line of an unsegmented test file (SIGHAN `*_test.utf8`).

    Args:
        path: UTF-8 file, LF or CRLF, optionally `.xz` or `.gz`.
        strip: remove leading and trailing ASCII spaces and TABs (5 MSR test lines have a
            stray one); spaces inside a line are always kept.

    Returns:
        An iterator over the sentences, one per non-blank line.

    Raises:
        DataFormatError: on invalid UTF-8, a truncated archive or an empty file.
    """
    for _, text in _lines(path):
        yield text.strip(" \t") if strip else text


def read_word_list(path: PathLike) -> Iterator[str]:
    """Yield the words of a one-word-per-line list (SIGHAN `*_training_words.utf8`).

    Surrounding ASCII spaces and TABs are removed and blank lines skipped.

    Args:
        path: UTF-8 file, optionally `.xz` or `.gz`.

    Returns:
        An iterator over the words, in file order.

    Raises:
        DataFormatError: on a line holding more than one word, invalid UTF-8, a
            truncated archive or an empty file.
    """
    for lineno, text in _lines(path):
        word = text.strip(" \t")
        if _SEPARATOR.search(word):
            raise DataFormatError(
                path, lineno, f"expected one word per line, found {word!r}"
            )
        yield word


def _is_han(text: str) -> bool:
    return all("\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" for c in text)


def split_to_lexicon(words: list[str], lexicon: frozenset[str] | set[str]) -> list[str]:
    """Words re-cut toward another revision of a standard, given that revision's word list.

    A word of Han characters that the lexicon lacks, but that is a sequence of lexicon
    words, is replaced by such a sequence: the fewest pieces, ties going to the longest
    pieces from the left (`不能` -> `不 能` where `不能` is not a word of the list but `不` and
    `能` are). Words in the lexicon, words that cannot be cut into lexicon words and words
    with other characters (digits, Latin letters, punctuation) are kept. Words are never
    joined. Used to bring pfr1998's segmentation toward the SIGHAN 2005 PKU training
    file's (same text, revised segmentation) through that file's word list.

    Args:
        words: one sentence's words.
        lexicon: the target revision's words.

    Returns:
        The sentence's words; the characters are unchanged.
    """
    out: list[str] = []
    for word in words:
        if len(word) < 2 or word in lexicon or not _is_han(word):
            out.append(word)
            continue
        out.extend(_fewest_pieces(word, lexicon) or [word])
    return out


def _fewest_pieces(word: str, lexicon: frozenset[str] | set[str]) -> list[str] | None:
    """`word` as the fewest lexicon words (ties: longest from the left), or None."""
    n = len(word)
    pieces: list[int | None] = [None] * n + [0]  # fewest pieces for word[i:]
    cut: list[int] = [n] * (n + 1)
    for i in range(n - 1, -1, -1):
        for j in range(n, i, -1):  # the longest piece first: ties keep it
            rest = pieces[j]
            if rest is not None and word[i:j] in lexicon and (
                    pieces[i] is None or rest + 1 < pieces[i]):
                pieces[i], cut[i] = rest + 1, j
    if pieces[0] is None:
        return None
    out, i = [], 0
    while i < n:
        out.append(word[i:cut[i]])
        i = cut[i]
    return out
