"""Tokenizers: table-driven cases for whitespace, English and Chinese, and the name lookup."""

from __future__ import annotations

import lzma
import pickle

import pytest

from seqnlp.text.tokenize import (
    chinese_chars,
    english_tokenize,
    get_tokenizer,
    whitespace_tokenize,
)
from tests.conftest import shared_file


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("the cat  sat", ["the", "cat", "sat"]),
        ("  a\tb\nc  ", ["a", "b", "c"]),
        ("x\u00a0y", ["x", "y"]),  # a no-break space is whitespace too
        ("", []),
        ("don't stop.", ["don't", "stop."]),
    ],
)
def test_whitespace_tokenize(text: str, tokens: list[str]) -> None:
    assert whitespace_tokenize(text) == tokens


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Hello, world!", ["Hello", ",", "world", "!"]),
        ("I don't think so.", ["I", "don't", "think", "so", "."]),
        ("It’s fine", ["It's", "fine"]),  # curly apostrophe normalised
        ("o'clock rock'n'roll", ["o'clock", "rock'n'roll"]),
        ("'quoted' and the students' books",
         ["'", "quoted", "'", "and", "the", "students", "'", "books"]),
        ("Great.<br /><br />Loved it", ["Great", ".", "Loved", "it"]),
        ("<i>Jaws</i> (1975)", ["Jaws", "(", "1975", ")"]),
        ("I <3 it <br />ok", ["I", "<", "3", "it", "ok"]),  # "<3" is not a tag
        ("rated <=8.<br />", ["rated", "<", "=", "8", "."]),
        ("Wait... what?!", ["Wait", "...", "what", "?", "!"]),
        ("costs $3.50 or 1,000,000 yen", ["costs", "$", "3.50", "or", "1,000,000", "yen"]),
        ("well-known 1990s", ["well", "-", "known", "1990s"]),
        ("snake_case", ["snake", "_", "case"]),
        ("Tom &amp; Jerry", ["Tom", "&", "Jerry"]),
        ("café naïve", ["café", "naïve"]),
        ("", []),
    ],
)
def test_english_tokenize(text: str, tokens: list[str]) -> None:
    assert english_tokenize(text) == tokens


def test_english_tokenize_lower() -> None:
    text = "This Movie Was GREAT!<br />"
    assert english_tokenize(text, lower=True) == ["this", "movie", "was", "great", "!"]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("我爱北京", ["我", "爱", "北", "京"]),
        ("我在2005年买了iPhone6。", ["我", "在", "2005", "年", "买", "了", "iPhone6", "。"]),
        ("一 二\t三", ["一", "二", "三"]),
        ("１９９８年", ["１", "９", "９", "８", "年"]),  # full-width digits stay one per token
        ("“你好”，OK！", ["“", "你", "好", "”", "，", "OK", "！"]),
        ("", []),
    ],
)
def test_chinese_chars(text: str, tokens: list[str]) -> None:
    assert chinese_chars(text) == tokens


@pytest.mark.parametrize(
    ("name", "text", "tokens"),
    [
        ("whitespace", "A b", ["A", "b"]),
        ("english", "A b!", ["A", "b", "!"]),
        ("chinese_chars", "中文ABC", ["中", "文", "ABC"]),
    ],
)
def test_get_tokenizer_by_name(name: str, text: str, tokens: list[str]) -> None:
    assert get_tokenizer(name)(text) == tokens
    lowered = get_tokenizer(name, lower=True)
    assert lowered(text) == [t.lower() for t in tokens]
    assert pickle.loads(pickle.dumps(lowered))(text) == lowered(text)


def test_get_tokenizer_unknown_name_lists_the_choices() -> None:
    with pytest.raises(ValueError, match="'spacy'.*chinese_chars, english, whitespace"):
        get_tokenizer("spacy")


def test_english_tokenize_leaves_no_line_break_markup_in_imdb_reviews() -> None:
    path = shared_file("imdb", "train.tsv.xz")
    breaks = tokens = 0
    with lzma.open(path, "rt", encoding="utf-8") as handle:
        for _, (_, text) in zip(range(500), (line.split("\t", 1) for line in handle)):
            breaks += text.count("<br />")
            found = english_tokenize(text, lower=True)
            tokens += len(found)
            assert "br" not in found and "/>" not in found
    assert breaks > 500 and tokens > 50_000  # the sample does contain markup to remove
