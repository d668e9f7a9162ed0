"""Chunk tag schemes for sequence labelling: labelled spans <-> per-token tags in IOB1
(CoNLL-2003), BIO (IOB2), BIOES, and BMES (Chinese word segmentation, one tag per character).

A tag is `PREFIX-LABEL`, or just `PREFIX` when the label is empty (`B`, `M`, `E`, `S` in
word segmentation); `O` is outside any span. Decoding follows conlleval's chunk rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

OUTSIDE = "O"

# The prefixes each scheme writes. BMES is BIOES with M for "middle" instead of I.
SCHEMES: dict[str, frozenset[str]] = {
    "iob1": frozenset("BI"),
    "bio": frozenset("BI"),
    "bioes": frozenset("BIES"),
    "bmes": frozenset("BMES"),
}


class Span(NamedTuple):
    """A labelled chunk of tokens `[start, end)` (end exclusive); label "" when unlabelled."""

    start: int
    end: int
    label: str = ""


def _check_scheme(scheme: str) -> frozenset[str]:
    try:
        return SCHEMES[scheme]
    except KeyError:
        choices = ", ".join(SCHEMES)
        raise ValueError(f"unknown tag scheme {scheme!r}; choose one of: {choices}") from None


def _split_tag(tag: str, prefixes: frozenset[str], scheme: str, position: int) -> tuple[str, str]:
    """`"B-PER"` -> `("B", "PER")`, `"S"` -> `("S", "")`, `"O"` -> `("O", "")`."""
    if tag == OUTSIDE:
        return OUTSIDE, ""
    prefix, _, label = tag.partition("-")
    if prefix not in prefixes:
        raise ValueError(f"tag {tag!r} at position {position} is not a {scheme} tag")
    return prefix, label


def _join_tag(prefix: str, label: str) -> str:
    return f"{prefix}-{label}" if label else prefix


def _ends_chunk(prev: str, prev_label: str, prefix: str, label: str) -> bool:
    """Whether the chunk open at the previous token ends before this one (conlleval)."""
    if prev in ("E", "S"):
        return True
    if prev in ("B", "I") and prefix in ("B", "S", OUTSIDE):
        return True
    return prev != OUTSIDE and prev_label != label


def _starts_chunk(prev: str, prev_label: str, prefix: str, label: str) -> bool:
    """Whether a new chunk starts at this token (conlleval)."""
    if prefix in ("B", "S"):
        return True
    if prev in ("E", "S", OUTSIDE) and prefix in ("I", "E"):
        return True
    return prefix != OUTSIDE and prev_label != label


def spans_from_tags(tags: Sequence[str], scheme: str) -> list[Span]:
    """Decode per-token tags into spans, tolerating ill-formed sequences as conlleval does.

    The same rules decode every scheme (BMES's M is read as I). A chunk ends after an `E`
    or `S`; before a `B`, `S` or `O`; and where the label changes. A chunk starts at a
    `B` or `S`; at an `I` or `E` that follows `O`, `E` or `S` (so `O I-PER` is a PER span
    in BIO, and `I-ORG I-ORG B-ORG` is two ORG spans in IOB1); and where the label changes
    (`B-PER I-LOC` is two spans). Ill-formed input therefore never loses a tagged token:
    every non-`O` token lies in exactly one span.

    Args:
        tags: one tag per token.
        scheme: "iob1", "bio", "bioes" or "bmes"; tags must use its prefixes.

    Returns:
        The spans in order.

    Raises:
        ValueError: an unknown scheme, or a tag with a prefix the scheme does not use.
    """
    prefixes = _check_scheme(scheme)
    spans: list[Span] = []
    prev, prev_label, start = OUTSIDE, "", 0
    for position, tag in enumerate(tags):
        prefix, label = _split_tag(tag, prefixes, scheme, position)
        if prefix == "M":
            prefix = "I"
        if prev != OUTSIDE and _ends_chunk(prev, prev_label, prefix, label):
            spans.append(Span(start, position, prev_label))
        if _starts_chunk(prev, prev_label, prefix, label):
            start = position
        prev, prev_label = prefix, label
    if prev != OUTSIDE:
        spans.append(Span(start, len(tags), prev_label))
    return spans


def tags_from_spans(spans: Iterable[Span], length: int, scheme: str) -> list[str]:
    """Encode non-overlapping spans as one tag per token; tokens outside spans get `O`.

    - "bio": `B-X` on the first token of a span, `I-X` on the rest.
    - "iob1": `I-X` everywhere, except `B-X` on the first token of a span that starts
      right where another span of the same label ends (CoNLL-2003's original scheme).
    - "bioes": a one-token span is `S-X`; longer ones are `B-X I-X ... E-X`.
    - "bmes": as "bioes" with `M` for `I`; unlabelled spans give bare `B M E S`.

    Raises:
        ValueError: an unknown scheme, or a span that is empty, out of `[0, length)`, or
            overlaps another.
    """
    _check_scheme(scheme)
    tags = [OUTSIDE] * length
    prev_end, prev_label = -1, None
    for start, end, label in sorted(spans):
        if not 0 <= start < end <= length:
            raise ValueError(f"span {(start, end, label)} is empty or outside [0, {length})")
        if start < prev_end:
            raise ValueError(f"span {(start, end, label)} overlaps the span before it")
        _write_span(tags, start, end, label, scheme, start == prev_end and label == prev_label)
        prev_end, prev_label = end, label
    return tags


def _write_span(
    tags: list[str], start: int, end: int, label: str, scheme: str, follows_same: bool
) -> None:
    if scheme == "iob1":
        tags[start:end] = [_join_tag("I", label)] * (end - start)
        if follows_same:
            tags[start] = _join_tag("B", label)
    elif scheme == "bio":
        tags[start:end] = [_join_tag("B", label)] + [_join_tag("I", label)] * (end - start - 1)
    elif end - start == 1:
        tags[start] = _join_tag("S", label)
    else:
        inside = "I" if scheme == "bioes" else "M"
        tags[start:end] = (
            [_join_tag("B", label)]
            + [_join_tag(inside, label)] * (end - start - 2)
            + [_join_tag("E", label)]
        )


def convert_tags(tags: Sequence[str], src: str, dst: str) -> list[str]:
    """Re-tag a sequence from scheme `src` to scheme `dst` through its spans.

    Ill-formed input is decoded as `spans_from_tags` does, so the output is well formed.
    """
    _check_scheme(dst)
    return tags_from_spans(spans_from_tags(tags, src), len(tags), dst)


def bmes_from_words(words: Iterable[str]) -> list[str]:
    """One BMES tag per character of segmented text: `S` for a one-character word, else
    `B M ... E`.

    Example:
        >>> bmes_from_words(["我", "喜欢", "北京大学"])
        ['S', 'B', 'E', 'B', 'M', 'M', 'E']

    Raises:
        ValueError: a word is empty.
    """
    tags: list[str] = []
    for position, word in enumerate(words):
        if not word:
            raise ValueError(f"word {position} is empty")
        tags.extend(["S"] if len(word) == 1 else ["B"] + ["M"] * (len(word) - 2) + ["E"])
    return tags


def words_from_bmes(chars: Sequence[str], tags: Sequence[str]) -> list[str]:
    """Join characters into words by their BMES tags (labels, if any, are ignored).

    Ill-formed tags are decoded as `spans_from_tags` does (`B B` is two words, a stray
    `M` or `E` after `S` starts a word); a character tagged `O` becomes a word of its own.
    So `"".join(words) == "".join(chars)` always.

    Args:
        chars: the characters (a string, or a list of tokens such as `chinese_chars` gives).
        tags: one BMES tag per character.

    Raises:
        ValueError: `chars` and `tags` differ in length, or a tag is not a BMES tag.
    """
    if len(chars) != len(tags):
        raise ValueError(f"got {len(chars)} characters but {len(tags)} tags")
    words, covered = [], 0
    for start, end, _ in spans_from_tags(tags, "bmes"):
        words.extend(chars[covered:start])  # characters tagged O
        words.append("".join(chars[start:end]))
        covered = end
    words.extend(chars[covered:])
    return words
