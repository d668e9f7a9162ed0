"""Tests of seqnlp.text.conll: the CoNLL-2003 column reader on the real files and broken input."""

from __future__ import annotations

import collections
import functools
from pathlib import Path

import pytest

from seqnlp.errors import DataFormatError
from seqnlp.text.conll import ConllSentence, read_conll
from tests.conftest import shared_file

FILES = {"train": "eng.train.xz", "testa": "eng.testa", "testb": "eng.testb"}


@functools.cache
def conll(split: str, include_docstart: bool) -> list[ConllSentence]:
    """The sentences of one split, read once per test session."""
    return list(read_conll(shared_file("conll2003", FILES[split]), include_docstart))


def count_iob1_entities(tags: tuple[str, ...]) -> collections.Counter[str]:
    """Entities of an IOB1 sequence: a chunk starts at B-X, or at I-X not continuing an X."""
    starts: collections.Counter[str] = collections.Counter()
    previous = "O"
    for tag in tags:
        if tag.startswith("B-") or (tag.startswith("I-") and previous[2:] != tag[2:]):
            starts[tag[2:]] += 1
        previous = tag
    return starts


@pytest.mark.parametrize(
    ("split", "sentences", "documents", "tokens", "entities"),
    [
        ("train", 14_987, 946, 203_621, (7140, 3438, 6321, 6600)),
        ("testa", 3_466, 216, 51_362, (1837, 922, 1341, 1842)),
        ("testb", 3_684, 231, 46_435, (1668, 702, 1661, 1617)),
    ],
)
def test_conll_counts_match_the_shared_task_statistics(
    split: str, sentences: int, documents: int, tokens: int, entities: tuple[int, ...]
) -> None:
    with_docs = conll(split, True)
    without = conll(split, False)
    assert len(with_docs) == sentences
    assert sum(s.tokens == ("-DOCSTART-",) for s in with_docs) == documents
    assert len(without) == sentences - documents
    assert sum(len(s.tokens) for s in without) == tokens
    assert sum(len(s.tokens) for s in with_docs) == tokens + documents
    assert sum(s.doc_start for s in without) == sum(s.doc_start for s in with_docs) == documents
    found: collections.Counter[str] = collections.Counter()
    for sentence in without:
        found.update(count_iob1_entities(sentence.tags))
    assert tuple(found[kind] for kind in ("LOC", "MISC", "ORG", "PER")) == entities


def test_conll_first_sentences_of_train() -> None:
    first, second = conll("train", False)[:2]
    assert first == ConllSentence(
        tokens=("EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", "."),
        pos=("NNP", "VBZ", "JJ", "NN", "TO", "VB", "JJ", "NN", "."),
        chunk=("I-NP", "I-VP", "I-NP", "I-NP", "I-VP", "I-VP", "I-NP", "I-NP", "O"),
        tags=("I-ORG", "O", "I-MISC", "O", "O", "O", "I-MISC", "O", "O"),
        line=3,
        doc_start=True,
    )
    assert second.tokens == ("Peter", "Blackburn") and second.line == 13 and not second.doc_start
    docstart, again = conll("train", True)[:2]
    assert docstart == ConllSentence(("-DOCSTART-",), ("-X-",), ("O",), ("O",), 1, True)
    assert again.tokens == first.tokens and not again.doc_start


def test_conll_keeps_iob1_b_tags_as_stored() -> None:
    tags = collections.Counter(tag for s in conll("train", False) for tag in s.tags)
    assert (tags["B-LOC"], tags["B-MISC"], tags["B-ORG"]) == (11, 37, 24)


def test_sentences_end_at_docstart_and_at_end_of_file_without_blank_line(tmp_path: Path) -> None:
    path = tmp_path / "mini.conll"
    path.write_bytes(
        b"-DOCSTART- -X- O O\n\n\nA DT B-NP O\r\nb NN I-NP O\n"
        b"-DOCSTART- -X- O O\nC\tNNP\tI-NP\tI-PER\n"
    )
    got = list(read_conll(path))
    assert [(s.tokens, s.line, s.doc_start) for s in got] == [
        (("A", "b"), 4, True),
        (("C",), 7, True),
    ]
    assert [s.tokens for s in read_conll(path, include_docstart=True)] == [
        ("-DOCSTART-",), ("A", "b"), ("-DOCSTART-",), ("C",)
    ]


def test_a_file_without_docstart_has_no_document_starts(tmp_path: Path) -> None:
    path = tmp_path / "mini.conll"
    path.write_text("A DT B-NP O\n\nB DT B-NP O\n", encoding="utf-8")
    assert [s.doc_start for s in read_conll(path)] == [False, False]


@pytest.mark.parametrize(
    ("line", "found"),
    [("EU NNP I-ORG", 3), ("EU NNP I-NP I-ORG extra", 5), ("EU", 1), ("-DOCSTART- -X- O", 3)],
)
def test_wrong_column_count_names_file_and_line(tmp_path: Path, line: str, found: int) -> None:
    path = tmp_path / "bad.conll"
    path.write_text(f"-DOCSTART- -X- O O\n\nA DT I-NP O\n{line}\n", encoding="utf-8")
    with pytest.raises(DataFormatError) as info:
        list(read_conll(path))
    assert str(info.value) == f"{path}, line 4: expected 4 columns (word POS chunk NE), found {found}"


def test_invalid_utf8_empty_file_and_truncated_xz(tmp_path: Path) -> None:
    path = tmp_path / "bad.conll"
    path.write_bytes(b"A DT I-NP O\n\nB\xff DT I-NP O\n")
    with pytest.raises(DataFormatError, match="invalid UTF-8") as info:
        list(read_conll(path))
    assert str(info.value).startswith(f"{path}, line 3: ")
    path.write_bytes(b"")
    with pytest.raises(DataFormatError, match="file is empty"):
        list(read_conll(path))
    data = shared_file("conll2003", "eng.train.xz").read_bytes()
    cut = tmp_path / "eng.train.xz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError, match="truncated or corrupt") as info:
        list(read_conll(cut))
    assert info.value.line is not None and info.value.line > 1000
    assert str(info.value).startswith(f"{cut}, line {info.value.line}: ")
