"""Which tag may follow which under a chunk tag scheme: the constraints a linear-chain CRF
decodes under (no `M` after `S` in word segmentation, no `I-PER` after `B-LOC` in BIO).

`allowed_transitions(tags, scheme)` returns three boolean tables over the tag list: may tag
j follow tag i, may a sentence start with tag j, may it end with tag j. Tags are written as
in `seqnlp.text.tagging` (`B-PER`, `O`, or bare `B`/`M`/`E`/`S`); tags that are not part of
the scheme (padding, `<unk>`) are allowed nowhere, so a constrained decoder never outputs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from seqnlp.text.tagging import OUTSIDE, SCHEMES


class Transitions(NamedTuple):
    """`allowed[i][j]`: tag j may follow tag i; `start[j]`, `end[j]`: a sentence may begin
    or end with tag j."""

    allowed: list[list[bool]]
    start: list[bool]
    end: list[bool]


def allowed_transitions(tags: Sequence[str], scheme: str) -> Transitions:
    """The transition constraints of `scheme` over `tags`.

    Args:
        tags: the tag of each index, e.g. `["O", "B-PER", "I-PER"]` or `["B", "M", "E", "S"]`.
        scheme: "iob1", "bio", "bioes" or "bmes".

    Raises:
        ValueError: an unknown scheme.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown tag scheme {scheme!r}; choose one of: {', '.join(SCHEMES)}")
    parsed = [_parse(tag, SCHEMES[scheme]) for tag in tags]
    rule = _RULES[scheme]
    allowed = [[a is not None and b is not None and rule(a, b) for b in parsed] for a in parsed]
    start = [p is not None and _may_start(scheme, p) for p in parsed]
    end = [p is not None and _may_end(scheme, p) for p in parsed]
    return Transitions(allowed, start, end)


def _parse(tag: str, prefixes: frozenset[str]) -> tuple[str, str] | None:
    """`("B", "PER")`, `("O", "")`, or None for a tag outside the scheme."""
    if tag == OUTSIDE:
        return OUTSIDE, ""
    prefix, _, label = tag.partition("-")
    return (prefix, label) if prefix in prefixes else None


def _bio(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """BIO (IOB2): I-x continues a B-x or I-x of the same type."""
    return b[0] != "I" or (a[0] in ("B", "I") and a[1] == b[1])


def _iob1(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """IOB1 (CoNLL-2003): I starts or continues a chunk; B-x only separates two adjacent
    chunks of type x, so it follows a B-x or I-x."""
    return b[0] != "B" or (a[0] in ("B", "I") and a[1] == b[1])


def _bioes(a: tuple[str, str], b: tuple[str, str], inside: str = "I") -> bool:
    """BIOES / BMES: after B or I(M) of type x comes I(M)-x or E-x; after O, E or S comes a
    new chunk (B, S) or O."""
    if a[0] in ("B", inside):
        return b[0] in (inside, "E") and a[1] == b[1]
    return b[0] in ("B", "S", OUTSIDE)


_RULES = {
    "bio": _bio,
    "iob1": _iob1,
    "bioes": _bioes,
    "bmes": lambda a, b: _bioes(a, b, inside="M"),
}


def _may_start(scheme: str, tag: tuple[str, str]) -> bool:
    if scheme == "bio":
        return tag[0] != "I"
    if scheme == "iob1":
        return tag[0] != "B"
    return tag[0] in ("B", "S", OUTSIDE)  # bioes, bmes


def _may_end(scheme: str, tag: tuple[str, str]) -> bool:
    if scheme in ("bio", "iob1"):
        return True
    return tag[0] in ("E", "S", OUTSIDE)
