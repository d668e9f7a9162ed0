"""Tests of seqnlp.text.evalsets: Google analogies, WordSim-353, SimLex-999 and broken input."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from seqnlp.errors import DataFormatError
from seqnlp.text.evalsets import AnalogyQuestion, WordPair, read_analogies, read_word_pairs
from tests.conftest import shared_file

SECTIONS = {
    "capital-common-countries": 506, "capital-world": 4524, "currency": 866,
    "city-in-state": 2467, "family": 506, "gram1-adjective-to-adverb": 992,
    "gram2-opposite": 812, "gram3-comparative": 1332, "gram4-superlative": 1122,
    "gram5-present-participle": 1056, "gram6-nationality-adjective": 1599,
    "gram7-past-tense": 1560, "gram8-plural": 1332, "gram9-plural-verbs": 870,
}


def test_google_analogies_have_19544_questions_in_14_sections() -> None:
    questions = list(read_analogies(shared_file("wordsim", "questions-words.txt")))
    assert len(questions) == 19_544
    assert collections.Counter(q.section for q in questions) == SECTIONS
    assert list(dict.fromkeys(q.section for q in questions)) == list(SECTIONS)
    semantic = sum(not q.section.startswith("gram") for q in questions)
    assert (semantic, len(questions) - semantic) == (8_869, 10_675)
    assert questions[0] == AnalogyQuestion("capital-common-countries", "Athens", "Greece", "Baghdad", "Iraq")


@pytest.mark.parametrize(
    ("name", "pairs", "first", "high"),
    [
        ("wordsim353.tsv", 353, WordPair("love", "sex", 6.77), 10.0),
        ("simlex999.txt", 999, WordPair("old", "new", 1.58), 9.8),
    ],
)
def test_similarity_sets_have_the_published_pair_counts(
    name: str, pairs: int, first: WordPair, high: float
) -> None:
    read = list(read_word_pairs(shared_file("wordsim", name)))
    assert len(read) == pairs
    assert read[0] == first
    assert (min(p.score for p in read), max(p.score for p in read)) == (0.23, high)


def test_word_pairs_accept_whitespace_and_keep_spaces_inside_tab_fields(tmp_path: Path) -> None:
    path = tmp_path / "pairs.txt"
    path.write_text("# comment\n\ncat   dog 7.5\r\nNew York\tcity\t8\n  # indented\tis\t1\n", encoding="utf-8")
    assert list(read_word_pairs(path)) == [
        WordPair("cat", "dog", 7.5),
        WordPair("New York", "city", 8.0),
        WordPair("# indented", "is", 1.0),
    ]


def test_analogies_skip_blank_lines_and_keep_case(tmp_path: Path) -> None:
    path = tmp_path / "q.txt"
    path.write_text(": family\nboy girl Brother Sister\n\n:  gram8-plural \nbanana bananas cat cats\n", encoding="utf-8")
    assert list(read_analogies(path)) == [
        AnalogyQuestion("family", "boy", "girl", "Brother", "Sister"),
        AnalogyQuestion("gram8-plural", "banana", "bananas", "cat", "cats"),
    ]


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (": s\na b c d\na b c\n", 3, "expected 4 words (a b c d), found 3"),
        (": s\na b c d e\n", 2, "expected 4 words (a b c d), found 5"),
        ("\na b c d\n: s\n", 2, "question before the first ': section' header"),
        (": s\n:\n", 2, "section header ':' has no name"),
    ],
)
def test_broken_analogy_files_name_file_and_line(
    tmp_path: Path, content: str, line: int, message: str
) -> None:
    path = tmp_path / "q.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFormatError) as info:
        list(read_analogies(path))
    assert str(info.value) == f"{path}, line {line}: {message}"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("cat\tdog\thigh", "score 'high' is not a number"),
        ("cat dog 1,5", "score '1,5' is not a number"),
        ("cat\tdog\tnan", "score 'nan' is not a finite number"),
        ("cat\tdog", "expected 3 fields (word1 word2 score), found ['cat', 'dog']"),
        ("cat dog 5 extra", "expected 3 fields (word1 word2 score), found ['cat', 'dog', '5', 'extra']"),
        ("\tdog\t5", "expected 3 fields (word1 word2 score), found ['', 'dog', '5']"),
    ],
)
def test_broken_word_pair_files_name_file_and_line(tmp_path: Path, bad: str, message: str) -> None:
    path = tmp_path / "pairs.tsv"
    path.write_text(f"# header\nold\tnew\t1.58\n{bad}\n", encoding="utf-8")
    with pytest.raises(DataFormatError) as info:
        list(read_word_pairs(path))
    assert str(info.value) == f"{path}, line 3: {message}"


@pytest.mark.parametrize("reader", [read_analogies, read_word_pairs])
def test_invalid_utf8_and_empty_files(tmp_path: Path, reader) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\xe9t\xe9\tsummer\t5\n")
    with pytest.raises(DataFormatError, match="invalid UTF-8") as info:
        list(reader(path))
    assert str(info.value).startswith(f"{path}, line 1: ")
    path.write_bytes(b"")
    with pytest.raises(DataFormatError) as info:
        list(reader(path))
    assert str(info.value) == f"{path}: file is empty"


@pytest.mark.parametrize(("reader", "content", "message"), [
    (read_analogies, ": capital-common-countries\n\n", "no questions"),
    (read_word_pairs, "# word1 word2 score\n\n", "no word pairs"),
])
def test_a_file_without_any_entry_is_an_error(tmp_path: Path, reader, content, message) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "set.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFormatError, match=message) as info:
        list(reader(path))
    assert str(info.value).startswith(f"{path}: ")
