"""Tests of seqnlp.text.corpus: LM lines (PTB, WikiText-2), text8-style word streams, IMDB TSV."""

from __future__ import annotations

import collections
import lzma
from pathlib import Path

import pytest

from seqnlp.errors import DataFormatError
from seqnlp import fileio
from seqnlp.text.corpus import (
    LabeledLine,
    LabeledText,
    is_index_label,
    read_label_lines,
    read_labeled,
    read_lm_lines,
    read_word_stream,
)
from tests.conftest import shared_file


def assert_names(error: DataFormatError, path: Path, line: int | None) -> None:
    """The error and its message name the file and (when known) the line."""
    assert error.path == str(path)
    assert error.line == line
    assert str(error).startswith(f"{path}, line {line}:" if line else f"{path}:")


# ---------------------------------------------------------------- LM lines: real data

@pytest.mark.parametrize(
    ("name", "sentences", "tokens"),
    [
        ("ptb.train.txt.xz", 42_068, 929_589),
        ("ptb.valid.txt", 3_370, 73_760),
        ("ptb.test.txt", 3_761, 82_430),
    ],
)
def test_ptb_sentence_and_token_counts_match_the_published_ones(
    name: str, sentences: int, tokens: int
) -> None:
    lines = list(read_lm_lines(shared_file("ptb", name)))
    assert len(lines) == sentences
    assert sum(map(len, lines)) == tokens
    assert all(line[-1] == "<eos>" and "" not in line for line in lines)


def test_ptb_train_vocabulary_has_ten_thousand_types_with_eos() -> None:
    types = {token for line in read_lm_lines(shared_file("ptb", "ptb.train.txt.xz")) for token in line}
    assert len(types) == 10_000


@pytest.mark.parametrize(
    ("name", "lines", "tokens"),
    [
        ("wiki.train.tokens.xz", 36_718, 2_088_628),
        ("wiki.valid.tokens.xz", 3_760, 217_646),
        ("wiki.test.tokens.xz", 4_358, 245_569),
    ],
)
def test_wikitext2_line_and_token_counts_match_the_published_ones(
    name: str, lines: int, tokens: int
) -> None:
    read = list(read_lm_lines(shared_file("wikitext-2", name)))
    assert len(read) == lines
    assert sum(map(len, read)) == tokens


def test_wikitext2_blank_lines_yield_only_eos() -> None:
    first = list(read_lm_lines(shared_file("wikitext-2", "wiki.valid.tokens.xz")))[:3]
    assert first == [["<eos>"], ["=", "Homarus", "gammarus", "=", "<eos>"], ["<eos>"]]


# ---------------------------------------------------------------- LM lines: synthetic

def test_lm_lines_split_like_the_pytorch_example(tmp_path: Path) -> None:
    path = tmp_path / "lm.txt"
    path.write_bytes(b" the cat \r\n\n  sat\n")
    assert list(read_lm_lines(path)) == [["the", "cat", "<eos>"], ["<eos>"], ["sat", "<eos>"]]
    assert list(read_lm_lines(path, eos=None)) == [["the", "cat"], [], ["sat"]]


def test_lm_lines_report_invalid_utf8_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"a b\nc \xff d\n")
    with pytest.raises(DataFormatError, match="invalid UTF-8") as info:
        list(read_lm_lines(path))
    assert_names(info.value, path, 2)


def test_lm_lines_reject_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(DataFormatError, match="empty") as info:
        list(read_lm_lines(path))
    assert_names(info.value, path, None)


def test_lm_lines_report_a_truncated_xz_with_a_line(tmp_path: Path) -> None:
    data = shared_file("ptb", "ptb.train.txt.xz").read_bytes()
    path = tmp_path / "ptb.train.txt.xz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError, match="truncated or corrupt") as info:
        list(read_lm_lines(path))
    assert info.value.line is not None and info.value.line > 1000
    assert_names(info.value, path, info.value.line)


# ---------------------------------------------------------------- word stream

def _straddling_text(block: int) -> str:
    """Words over 2.5 blocks, where both block boundaries cut a word inside a 3-byte character."""
    repeats = (block - 4) // 3
    filler = "a" * (block - 3 - 3 * repeats) + " " + "ab " * repeats
    assert len(filler.encode()) == block - 2
    middle = "x日本語y " + " ".join(f"wörd{i}" for i in range(60_000))
    head = filler + middle
    pad = 2 * block - 1 - len(head.encode())
    return head + " " + "z" * (pad - 1) + "日本 tail"


def test_word_stream_never_splits_a_word_across_blocks(tmp_path: Path) -> None:
    block = fileio.BLOCK_BYTES
    raw = (text := _straddling_text(block)).encode()
    assert len(raw) > 2 * block
    for cut in (block, 2 * block):  # each block ends inside a word, within a "日"
        assert raw[cut - 1 : cut + 2] == "日".encode() and raw[cut - 2 : cut - 1] != b" "
    path = tmp_path / "text8"
    path.write_bytes(raw)
    chunks = list(read_word_stream(path, chunk_words=1000))
    expected = text.split()
    assert [word for chunk in chunks for word in chunk] == expected
    assert all(len(chunk) == 1000 for chunk in chunks[:-1])
    assert len(chunks) == -(-len(expected) // 1000)
    assert "x日本語y" in expected and expected[-1] == "tail"


def test_word_stream_reads_xz_and_keeps_a_short_tail(tmp_path: Path) -> None:
    words = [f"w{i}" for i in range(25)]
    path = tmp_path / "words.xz"
    path.write_bytes(lzma.compress(" ".join(words).encode()))
    chunks = list(read_word_stream(path, chunk_words=10))
    assert chunks == [words[:10], words[10:20], words[20:]]
    assert list(read_word_stream(path, chunk_words=5)) == [words[i : i + 5] for i in range(0, 25, 5)]
    assert list(read_word_stream(path, chunk_words=1)) == [[word] for word in words]


def test_word_stream_reports_invalid_utf8_with_its_byte_offset(tmp_path: Path) -> None:
    block = fileio.BLOCK_BYTES
    raw = b"a " * block + b"bad\xc3(word good"
    path = tmp_path / "text8"
    path.write_bytes(raw)
    with pytest.raises(DataFormatError, match=f"invalid UTF-8 at byte offset {2 * block + 3}$") as info:
        list(read_word_stream(path))
    assert_names(info.value, path, 1)


def test_word_stream_counts_lines_for_a_multiline_file(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    path.write_bytes(b"one two\nthree\nfour \xe6\x97 five\n")
    with pytest.raises(DataFormatError, match="byte offset 19$") as info:
        list(read_word_stream(path))
    assert_names(info.value, path, 3)


def test_word_stream_reports_a_character_cut_at_the_end_of_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.txt"
    path.write_bytes("words 日".encode()[:-1])
    with pytest.raises(DataFormatError, match="truncated UTF-8 sequence at end of file at byte offset 6"):
        list(read_word_stream(path))


def test_word_stream_rejects_an_empty_file_and_a_bad_chunk_size(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    with pytest.raises(DataFormatError, match="no words") as info:
        list(read_word_stream(path))
    assert_names(info.value, path, None)
    with pytest.raises(ValueError, match="chunk_words must be positive, got 0"):
        list(read_word_stream(path, chunk_words=0))


def test_word_stream_reports_a_truncated_xz(tmp_path: Path) -> None:
    data = lzma.compress(" ".join(f"w{i}" for i in range(100_000)).encode(), preset=0)
    path = tmp_path / "text8.xz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError, match="truncated or corrupt") as info:
        list(read_word_stream(path))
    assert_names(info.value, path, 1)


# ---------------------------------------------------------------- labelled texts

@pytest.mark.parametrize(("split", "whitespace_tokens"), [("train", 5_844_680), ("test", 5_713_167)])
def test_imdb_has_12500_reviews_per_label(split: str, whitespace_tokens: int) -> None:
    rows = list(read_labeled(shared_file("imdb", f"{split}.tsv.xz"), num_labels=2))
    assert len(rows) == 25_000
    assert collections.Counter(row.label for row in rows) == {0: 12_500, 1: 12_500}
    assert [row.label for row in rows[12_499:12_501]] == [1, 0]  # pos first, then neg
    assert [row.line for row in rows[:2]] == [1, 2] and rows[-1].line == 25_000
    assert sum(len(row.text.split()) for row in rows) == whitespace_tokens


def test_labeled_splits_on_the_first_tab_only(tmp_path: Path) -> None:
    path = tmp_path / "data.tsv"
    path.write_text('1\tsays "a\tb", ok\r\n0\t\n', encoding="utf-8")
    assert list(read_labeled(path)) == [
        LabeledText(1, 'says "a\tb", ok', 1),
        LabeledText(0, "", 2),
    ]


@pytest.mark.parametrize(
    ("line", "num_labels", "message"),
    [
        ("1 no tab here", None, "missing TAB"),
        ("", None, r"blank line \(each line is label<TAB>text\)"),
        ("pos\ttext", None, "label 'pos' is not a non-negative integer"),
        ("1.0\ttext", None, "label '1.0' is not a non-negative integer"),
        ("-1\ttext", None, "label '-1' is not a non-negative integer"),
        (" 1\ttext", None, "label ' 1' is not a non-negative integer"),
        ("2\ttext", 2, r"label 2 is outside \[0, 2\)"),
    ],
)
def test_labeled_rejects_bad_lines_naming_file_and_line(
    tmp_path: Path, line: str, num_labels: int | None, message: str
) -> None:
    path = tmp_path / "data.tsv"
    path.write_text(f"0\tfine\n1\tfine\n{line}\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=message) as info:
        list(read_labeled(path, num_labels=num_labels))
    assert_names(info.value, path, 3)


# ---------------------------------------------------------------- labels as users write them

def test_label_lines_keep_names_as_written(tmp_path: Path) -> None:
    path = tmp_path / "names.tsv"
    path.write_text("pos\ta fine film\nneg\ta dull\tmess\nvery-pos\t\n", encoding="utf-8")
    assert read_label_lines(path) == [
        LabeledLine("pos", "a fine film", 1),
        LabeledLine("neg", "a dull\tmess", 2),
        LabeledLine("very-pos", "", 3),
    ]


def test_label_lines_read_class_indices_too(tmp_path: Path) -> None:
    path = tmp_path / "ids.tsv"
    path.write_text("0\ta\n12\tb\n", encoding="utf-8")
    lines = read_label_lines(path)
    assert [line.label for line in lines] == ["0", "12"]
    assert all(is_index_label(line.label) for line in lines)


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("0\ta\npos\tb\n", 2, r"label 'pos' is not a non-negative integer, but line 1's label 0 is;"
                              r" .*all class indices 0..C-1 or all names"),
        ("pos\ta\nneg\tb\n1\tc\n", 3, r"label '1' is a class index, but line 1's label 'pos' is a"
                                      r" name"),
        ("0\ta\n-1\tb\n", 2, r"label '-1' is not a non-negative integer"),
        ("pos\ta\n\tb\n", 2, "empty label before the TAB"),
        ("pos\ta\npos \tb\n", 2, r"label 'pos ' has spaces around it"),
        ("pos\ta\nno tab\n", 2, "missing TAB"),
        ("pos\ta\n\n", 2, "blank line"),
    ],
)
def test_label_lines_refuse_mixed_forms_and_bad_labels_naming_the_line(
    tmp_path: Path, content: str, line: int, message: str
) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFormatError, match=message) as info:
        read_label_lines(path)
    assert_names(info.value, path, line)


@pytest.mark.parametrize(("label", "index"), [("0", True), ("17", True), ("pos", False),
                                             ("1.5", False), ("\u0661", False), ("", False)])
def test_only_ascii_digits_are_class_indices(label: str, index: bool) -> None:
    assert is_index_label(label) is index
