"""Tag schemes: exact IOB1/BIO/BIOES/BMES encodings, conlleval-style tolerant decoding,
round trips between every pair of schemes, and the entity counts of CoNLL-2003."""

from __future__ import annotations

import itertools
import lzma
import random
from collections import Counter
from pathlib import Path

import pytest

from seqnlp.text.tagging import (
    SCHEMES,
    Span,
    bmes_from_words,
    convert_tags,
    spans_from_tags,
    tags_from_spans,
    words_from_bmes,
)
from tests.conftest import shared_file

# Three ORG tokens then a PER: two adjacent ORG entities [0, 2) and [2, 3).
SPANS = [Span(0, 2, "ORG"), Span(2, 3, "ORG"), Span(4, 5, "PER"), Span(5, 8, "LOC")]
LENGTH = 9
ENCODED = {
    "iob1": "I-ORG I-ORG B-ORG O I-PER I-LOC I-LOC I-LOC O",
    "bio": "B-ORG I-ORG B-ORG O B-PER B-LOC I-LOC I-LOC O",
    "bioes": "B-ORG E-ORG S-ORG O S-PER B-LOC I-LOC E-LOC O",
    "bmes": "B-ORG E-ORG S-ORG O S-PER B-LOC M-LOC E-LOC O",
}


@pytest.mark.parametrize("scheme", sorted(ENCODED))
def test_tags_from_spans_exact(scheme: str) -> None:
    assert tags_from_spans(SPANS, LENGTH, scheme) == ENCODED[scheme].split()


@pytest.mark.parametrize("scheme", sorted(ENCODED))
def test_spans_from_tags_exact(scheme: str) -> None:
    assert spans_from_tags(ENCODED[scheme].split(), scheme) == SPANS


@pytest.mark.parametrize(
    ("tags", "spans"),
    [
        # CoNLL-2003: B- only where an entity directly follows one of the same type.
        ("I-ORG I-ORG B-ORG", [(0, 2, "ORG"), (2, 3, "ORG")]),
        ("I-ORG I-ORG I-ORG", [(0, 3, "ORG")]),
        ("I-PER I-LOC", [(0, 1, "PER"), (1, 2, "LOC")]),  # a type change needs no B-
        ("I-MISC O I-MISC", [(0, 1, "MISC"), (2, 3, "MISC")]),
        ("I-LOC B-LOC B-LOC", [(0, 1, "LOC"), (1, 2, "LOC"), (2, 3, "LOC")]),
    ],
)
def test_iob1_examples_from_conll(tags: str, spans: list[tuple[int, int, str]]) -> None:
    assert spans_from_tags(tags.split(), "iob1") == spans
    assert tags_from_spans([Span(*s) for s in spans], len(tags.split()), "iob1") == tags.split()


@pytest.mark.parametrize(
    ("tags", "scheme", "spans"),
    [
        ("O I-PER I-PER", "bio", [(1, 3, "PER")]),  # I- after O starts a span
        ("I-PER", "bio", [(0, 1, "PER")]),
        ("B-PER I-LOC", "bio", [(0, 1, "PER"), (1, 2, "LOC")]),  # label change
        ("B-PER B-PER", "bio", [(0, 1, "PER"), (1, 2, "PER")]),
        ("B-ORG O", "bioes", [(0, 1, "ORG")]),  # a B never closed ends at O
        ("I-ORG E-ORG", "bioes", [(0, 2, "ORG")]),
        ("S-ORG I-ORG E-ORG", "bioes", [(0, 1, "ORG"), (1, 3, "ORG")]),
        ("E-ORG E-ORG", "bioes", [(0, 1, "ORG"), (1, 2, "ORG")]),
        ("B-ORG I-ORG", "bioes", [(0, 2, "ORG")]),  # runs to the end of the sentence
        ("B M", "bmes", [(0, 2, "")]),
        ("M M E S", "bmes", [(0, 3, ""), (3, 4, "")]),
        ("B B E", "bmes", [(0, 1, ""), (1, 3, "")]),
    ],
)
def test_ill_formed_sequences_decode_like_conlleval(
    tags: str, scheme: str, spans: list[tuple[int, int, str]]
) -> None:
    assert spans_from_tags(tags.split(), scheme) == spans


def test_convert_tags_repairs_ill_formed_bio() -> None:
    assert convert_tags("O I-PER I-PER".split(), "bio", "bio") == "O B-PER I-PER".split()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: spans_from_tags(["E-PER"], "bio"), "'E-PER' at position 0 is not a bio tag"),
        (lambda: spans_from_tags(["M"], "bioes"), "not a bioes tag"),
        (lambda: spans_from_tags(["B-X"], "iob2"), "unknown tag scheme 'iob2'.*bioes"),
        (lambda: tags_from_spans([Span(1, 3, "X"), Span(2, 4, "X")], 5, "bio"), "overlaps"),
        (lambda: tags_from_spans([Span(3, 3, "X")], 5, "bio"), "empty or outside"),
        (lambda: tags_from_spans([Span(3, 6, "X")], 5, "bio"), "empty or outside"),
        (lambda: convert_tags(["O"], "bio", "iobes"), "unknown tag scheme 'iobes'"),
    ],
)
def test_bad_tags_and_spans_are_refused(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def _random_spans(rng: random.Random, length: int, labels: list[str]) -> list[Span]:
    """Non-overlapping spans, often adjacent and often sharing a label."""
    spans, position = [], rng.randrange(3)
    while position < length:
        end = min(length, position + rng.randint(1, 4))
        spans.append(Span(position, end, rng.choice(labels)))
        position = end + rng.choice([0, 0, 1, 2])
    return spans


@pytest.mark.parametrize(("labels"), [["PER", "LOC"], [""]], ids=["labelled", "bare"])
@pytest.mark.parametrize(("src", "dst"), list(itertools.product(sorted(SCHEMES), repeat=2)))
def test_round_trips_between_every_pair_of_schemes(
    src: str, dst: str, labels: list[str]
) -> None:
    rng = random.Random(f"{src}-{dst}-{labels}")
    for _ in range(200):
        length = rng.randint(0, 15)
        spans = _random_spans(rng, length, labels)
        src_tags = tags_from_spans(spans, length, src)
        dst_tags = convert_tags(src_tags, src, dst)
        assert dst_tags == tags_from_spans(spans, length, dst)
        assert spans_from_tags(dst_tags, dst) == spans
        assert convert_tags(dst_tags, dst, src) == src_tags


def test_bmes_from_words_and_back() -> None:
    words = ["我", "喜欢", "北京大学", "的", "iPhone"]
    tags = bmes_from_words(words)
    assert tags == ["S", "B", "E", "B", "M", "M", "E", "S", "B", "M", "M", "M", "M", "E"]
    assert words_from_bmes("".join(words), tags) == words
    assert words_from_bmes(list("".join(words)), tags) == words


@pytest.mark.parametrize(
    ("tags", "words"),
    [
        ("B B E S", ["甲", "乙丙", "丁"]),
        ("B M M M", ["甲乙丙丁"]),
        ("S O B E", ["甲", "乙", "丙丁"]),
        ("E M E S", ["甲", "乙丙", "丁"]),
    ],
)
def test_words_from_ill_formed_bmes_keep_every_character(tags: str, words: list[str]) -> None:
    assert words_from_bmes("甲乙丙丁", tags.split()) == words


def test_bmes_refuses_empty_words_and_length_mismatch() -> None:
    with pytest.raises(ValueError, match="word 1 is empty"):
        bmes_from_words(["a", ""])
    with pytest.raises(ValueError, match="3 characters but 2 tags"):
        words_from_bmes("abc", ["B", "E"])


def _conll_sentences_tags(path: Path) -> list[list[str]]:
    sentences, tags = [], []
    with lzma.open(path, "rt") if path.suffix == ".xz" else path.open() as handle:
        text = handle.read()
    for line in text.splitlines():
        if not line.strip():
            if tags:
                sentences.append(tags)
            tags = []
        elif not line.startswith("-DOCSTART-"):
            tags.append(line.split()[3])
    if tags:
        sentences.append(tags)
    return sentences


@pytest.mark.parametrize(
    ("name", "counts", "non_canonical"),
    [
        # train has two B-MISC right after O ("at the B-Atlanta Games", "B-Urdu-speaking").
        ("eng.train.xz", {"LOC": 7140, "MISC": 3438, "ORG": 6321, "PER": 6600}, 2),
        ("eng.testa", {"LOC": 1837, "MISC": 922, "ORG": 1341, "PER": 1842}, 0),
        ("eng.testb", {"LOC": 1668, "MISC": 702, "ORG": 1661, "PER": 1617}, 0),
    ],
)
def test_conll2003_iob1_decodes_to_the_published_entity_counts(
    name: str, counts: dict[str, int], non_canonical: int
) -> None:
    sentences = _conll_sentences_tags(shared_file("conll2003", name))
    found = Counter(span.label for tags in sentences for span in spans_from_tags(tags, "iob1"))
    assert found == counts
    # Re-encoding as IOB1 reproduces every sentence written in canonical IOB1.
    changed = [
        tags for tags in sentences
        if convert_tags(convert_tags(tags, "iob1", "bioes"), "bioes", "iob1") != tags
    ]
    assert len(changed) == non_canonical
