"""Tests of seqnlp.text.chinese: SIGHAN 2005 / PFR 1998 readers and width normalisation."""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import pytest

from seqnlp.errors import DataFormatError
from seqnlp.text.chinese import (
    normalize_width,
    read_raw_lines,
    read_segmented,
    read_word_list,
    split_to_lexicon,
)
from tests.conftest import shared_file

# ---------------------------------------------------------------- real data

@pytest.mark.parametrize(
    ("folder", "name", "sentences", "words", "characters"),
    [
        ("sighan2005", "pku_test_gold.utf8", 1_944, 104_372, 172_733),
        ("sighan2005", "msr_test_gold.utf8", 3_985, 106_873, 184_355),
        ("pfr1998", "pfr_199801.utf8.xz", 19_484, 1_120_721, 1_841_633),
        ("pfr1998", "pfr_199802.utf8.xz", 18_845, 1_149_581, 1_879_041),
    ],
)
def test_segmented_counts_match_the_official_word_counts(
    folder: str, name: str, sentences: int, words: int, characters: int
) -> None:
    lines = list(read_segmented(shared_file(folder, name)))
    assert len(lines) == sentences
    assert sum(map(len, lines)) == words
    assert sum(len(word) for line in lines for word in line) == characters
    assert all(word and " " not in word and "\r" not in word for line in lines for word in line)


def test_pfr_january_has_55414_word_types_and_full_width_digits() -> None:
    lines = list(read_segmented(shared_file("pfr1998", "pfr_199801.utf8.xz")))
    assert len({word for line in lines for word in line}) == 55_414
    assert lines[0][:4] == ["迈向", "充满", "希望", "的"]
    assert "１９９８年" not in lines[0] and "一九九八年" in lines[0]


def test_pku_gold_single_space_separates_two_words_as_the_official_count_does() -> None:
    lines = list(read_segmented(shared_file("sighan2005", "pku_test_gold.utf8")))
    assert "－" in lines[739] and "8" in lines[739]


@pytest.mark.parametrize(
    ("test", "gold", "sentences", "characters", "same"),
    [
        ("pku_test.utf8", "pku_test_gold.utf8", 1_944, 172_733, 1_944),
        # 16 MSR lines differ from their gold: an opening quote sits at the end of the
        # previous gold line instead of the start of the test line (as distributed).
        ("msr_test.utf8", "msr_test_gold.utf8", 3_985, 184_355, 3_969),
    ],
)
def test_raw_test_lines_align_with_their_gold(
    test: str, gold: str, sentences: int, characters: int, same: int
) -> None:
    raw = list(read_raw_lines(shared_file("sighan2005", test)))
    words = list(read_segmented(shared_file("sighan2005", gold)))
    assert len(raw) == len(words) == sentences
    assert sum(len(line.replace(" ", "")) for line in raw) == characters
    assert sum(line.replace(" ", "") == "".join(ws) for line, ws in zip(raw, words)) == same
    assert all(line == line.strip() and line for line in raw)


@pytest.mark.parametrize(
    ("name", "size"),
    [("pku_training_words.utf8", 55_303), ("msr_training_words.utf8.xz", 88_119)],
)
def test_training_word_lists_have_the_published_type_counts(name: str, size: int) -> None:
    words = list(read_word_list(shared_file("sighan2005", name)))
    assert len(words) == len(set(words)) == size


# ---------------------------------------------------------------- synthetic

def test_readers_handle_crlf_bom_blank_lines_and_mixed_width(tmp_path: Path) -> None:
    path = tmp_path / "gold.utf8"
    path.write_bytes("\ufeff共同  创造 \t美好  ＡＢ1  \r\n\r\n   \r\n１９９８年  ，\r\n".encode())
    assert list(read_segmented(path)) == [["共同", "创造", "美好", "ＡＢ1"], ["１９９８年", "，"]]
    assert list(read_raw_lines(path)) == ["共同  创造 \t美好  ＡＢ1", "１９９８年  ，"]
    assert list(read_raw_lines(path, strip=False))[0] == "共同  创造 \t美好  ＡＢ1  "


def test_ideographic_space_is_a_character_not_a_separator(tmp_path: Path) -> None:
    path = tmp_path / "gold.utf8"
    path.write_text("甲\u3000乙  丙\n", encoding="utf-8")
    assert list(read_segmented(path)) == [["甲\u3000乙", "丙"]]


def test_word_list_strips_and_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "words.utf8"
    path.write_text("\ufeff中国\n  人民 \n\n银行\n", encoding="utf-8")
    assert list(read_word_list(path)) == ["中国", "人民", "银行"]


# ---------------------------------------------------------------- normalize_width

def test_normalize_width_equals_nfkc_on_the_full_width_ascii_block() -> None:
    block = "".join(chr(code) for code in range(0xFF01, 0xFF5F))
    assert normalize_width(block) == unicodedata.normalize("NFKC", block)
    assert normalize_width(block) == "".join(chr(code) for code in range(0x21, 0x7F))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("１９９８年", "1998年"),
        ("ＡＢＣｘｙｚ", "ABCxyz"),
        ("（附图片１张）", "(附图片1张)"),
        ("你好，世界！", "你好,世界!"),
        ("。、“”《》—…·", "。、“”《》—…·"),  # not full-width ASCII forms: kept
        ("甲\u3000乙", "甲\u3000乙"),  # ideographic space kept (NFKC would give " ")
        ("ｶﾀｶﾅ￥①ﬁ", "ｶﾀｶﾅ￥①ﬁ"),  # outside U+FF01..U+FF5E: kept (NFKC would change)
        ("plain ascii 123", "plain ascii 123"),
    ],
)
def test_normalize_width_maps_only_full_width_ascii_forms(text: str, expected: str) -> None:
    assert normalize_width(text) == expected


def test_normalize_width_makes_pfr_digits_match_pku_test_digits() -> None:
    pfr = "".join(next(iter(read_segmented(shared_file("pfr1998", "pfr_199801.utf8.xz")))))
    assert "１" in pfr and "1" not in pfr and "1" in normalize_width(pfr)


# ---------------------------------------------------------------- broken input

def test_word_list_rejects_two_words_on_a_line(tmp_path: Path) -> None:
    path = tmp_path / "words.utf8"
    path.write_text("中国\n人民  银行\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="expected one word per line") as info:
        list(read_word_list(path))
    assert str(info.value).startswith(f"{path}, line 2: ")


@pytest.mark.parametrize("reader", [read_segmented, read_raw_lines, read_word_list])
def test_readers_report_invalid_utf8_and_empty_files(tmp_path: Path, reader) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.utf8"
    path.write_bytes("共同\r\n创造\r\n".encode() + b"\xe7\x94\r\n")
    with pytest.raises(DataFormatError, match="invalid UTF-8") as info:
        list(reader(path))
    assert str(info.value).startswith(f"{path}, line 3: ")
    path.write_bytes(b"")
    with pytest.raises(DataFormatError, match="file is empty") as info:
        list(reader(path))
    assert str(info.value) == f"{path}: file is empty"


def test_segmented_reports_a_truncated_xz_with_a_line(tmp_path: Path) -> None:
    data = shared_file("pfr1998", "pfr_199801.utf8.xz").read_bytes()
    path = tmp_path / "pfr.utf8.xz"
    path.write_bytes(data[:200_000])
    with pytest.raises(DataFormatError, match="truncated or corrupt") as info:
        list(read_segmented(path))
    assert info.value.line is not None and info.value.line > 100
    assert str(info.value).startswith(f"{path}, line {info.value.line}: ")


# ---------------------------------------------------------------- split_to_lexicon

def test_words_the_lexicon_lacks_are_cut_into_its_words() -> None:
    lexicon = {"我", "不", "能", "京", "剧院", "京剧", "院", "来源", "于", "来", "源于"}
    words = ["我", "不能", "京剧院", "来源于", "去", "1998年", "不可"]
    # fewest pieces, ties to the longest from the left; a word with a digit is kept, as are
    # words that cannot be cut (去 is one character, 不可 has no 可)
    assert split_to_lexicon(words, lexicon) == [
        "我", "不", "能", "京剧", "院", "来源", "于", "去", "1998年", "不可"]


def test_fewest_pieces_win_over_a_long_first_piece() -> None:
    lexicon = {"中华", "中", "华人", "人民", "华", "人", "民"}
    assert split_to_lexicon(["中华人民"], lexicon) == ["中华", "人民"]
    assert split_to_lexicon(["华人民"], lexicon) == ["华人", "民"]
    assert split_to_lexicon(["中华人民"], {"中", "华", "人", "民"}) == ["中", "华", "人", "民"]


def test_the_lexicon_cut_keeps_every_character() -> None:
    rng = random.Random(3)
    lexicon = {"".join(rng.choices("天地人和平安", k=rng.randint(1, 3))) for _ in range(12)}
    for _ in range(200):
        words = ["".join(rng.choices("天地人和平安", k=rng.randint(1, 5))) for _ in range(4)]
        cut = split_to_lexicon(words, lexicon)
        assert "".join(cut) == "".join(words)
        assert all(w in lexicon or w in words for w in cut)
