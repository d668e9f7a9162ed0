"""Vocab: order, cut-offs, specials, unk fallback, JSON round trip, and the PTB vocabulary."""

from __future__ import annotations

import json
import lzma
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from seqnlp.errors import DataFormatError
from seqnlp.text.vocab import UnknownTokenError, Vocab
from tests.conftest import shared_file

SENTENCES = [
    ["the", "cat", "sat", "on", "the", "mat"],
    ["the", "dog", "sat"],
    ["a", "cat", "and", "a", "dog"],
]
# the 3, a 2, cat 2, dog 2, sat 2, and 1, mat 1, on 1


def test_order_is_specials_then_count_descending_then_token() -> None:
    vocab = Vocab.build(SENTENCES)
    assert vocab.itos == (
        "<pad>", "<unk>", "<bos>", "<eos>",
        "the", "a", "cat", "dog", "sat", "and", "mat", "on",
    )
    assert vocab.counts.tolist() == [0, 0, 0, 0, 3, 2, 2, 2, 2, 1, 1, 1]
    assert (vocab.pad_index, vocab.unk_index, vocab.bos_index, vocab.eos_index) == (0, 1, 2, 3)


def test_build_streams_a_generator_once() -> None:
    consumed = []

    def lines():
        for sentence in SENTENCES:
            consumed.append(1)
            yield sentence

    assert Vocab.build(lines()) == Vocab.build(SENTENCES)
    assert len(consumed) == len(SENTENCES)


def test_build_rejects_strings_instead_of_token_lists() -> None:
    with pytest.raises(TypeError, match="item 0 is a str"):
        Vocab.build(["the cat sat"])


@pytest.mark.parametrize(
    ("min_count", "max_size", "words"),
    [
        (2, None, ["the", "a", "cat", "dog", "sat"]),
        (3, None, ["the"]),
        (1, 6, ["the", "a"]),  # max_size counts the 4 specials
        (2, 7, ["the", "a", "cat"]),
        (1, 4, []),
    ],
)
def test_min_count_and_max_size_cut_the_rarest(
    min_count: int, max_size: int | None, words: list[str]
) -> None:
    vocab = Vocab.build(SENTENCES, min_count=min_count, max_size=max_size)
    assert list(vocab.itos[4:]) == words


def test_max_size_smaller_than_specials_is_refused() -> None:
    with pytest.raises(ValueError, match="max_size"):
        Vocab.build(SENTENCES, max_size=3)


def test_specials_are_configurable_and_keep_their_data_counts() -> None:
    vocab = Vocab.build([["<unk>", "x", "<unk>"], ["y"]], specials=("<unk>", "<eos>"))
    assert vocab.itos == ("<unk>", "<eos>", "x", "y")
    assert vocab.counts.tolist() == [2, 0, 1, 1]
    assert vocab.pad_index is None and vocab.bos_index is None
    assert (vocab.unk_index, vocab.eos_index) == (0, 1)


def test_unknown_tokens_fall_back_to_unk() -> None:
    vocab = Vocab.build(SENTENCES)
    assert vocab.index("zebra") == vocab.unk_index
    ids = vocab.encode(["the", "zebra", "cat"])
    assert ids.dtype == np.int64
    assert ids.tolist() == [4, 1, 6]
    assert "zebra" not in vocab and "cat" in vocab
    assert vocab.count("the") == 3 and vocab.count("zebra") == 0


def test_unknown_token_without_unk_is_a_clear_error() -> None:
    vocab = Vocab.build(SENTENCES, specials=("<pad>",))
    with pytest.raises(UnknownTokenError, match="'zebra' is not in the vocabulary.*no '<unk>'"):
        vocab.index("zebra")
    with pytest.raises(UnknownTokenError, match="'zebra'"):
        vocab.encode(["the", "zebra"])
    assert vocab.encode(["the", "cat"]).tolist() == [1, 3]


def test_encode_refuses_a_bare_string() -> None:
    with pytest.raises(TypeError, match="got a str"):
        Vocab.build(SENTENCES).encode("the cat")


def test_decode_inverts_encode_and_can_skip_specials() -> None:
    vocab = Vocab.build(SENTENCES)
    tokens = ["<bos>", "a", "dog", "sat", "<eos>"]
    assert vocab.decode(vocab.encode(tokens)) == tokens
    assert vocab.decode(np.array([2, 5, 7, 3]), skip_specials=True) == ["a", "dog"]
    assert vocab.token(4) == "the"
    with pytest.raises(IndexError, match="12"):
        vocab.decode([12])


def test_most_common_lists_counts_ties_in_id_order() -> None:
    vocab = Vocab.build(SENTENCES)
    assert vocab.most_common(3) == [("the", 3), ("a", 2), ("cat", 2)]
    assert len(vocab.most_common()) == 8  # specials never seen are left out


def test_constructor_refuses_duplicates_and_misplaced_specials() -> None:
    with pytest.raises(ValueError, match="unique"):
        Vocab(["a", "b", "a"])
    with pytest.raises(ValueError, match="first tokens"):
        Vocab(["a", "<unk>"], specials=("<unk>",))
    with pytest.raises(ValueError, match="one entry per token"):
        Vocab(["a", "b"], counts=[1])


def test_stoi_is_read_only_and_matches_itos() -> None:
    vocab = Vocab.build(SENTENCES)
    assert all(vocab.stoi[t] == i for i, t in enumerate(vocab.itos))
    with pytest.raises(TypeError):
        vocab.stoi["new"] = 99  # type: ignore[index]


def test_save_load_round_trip(tmp_path: Path) -> None:
    vocab = Vocab.build(SENTENCES + [["naïve", "北京"]], min_count=1)
    path = tmp_path / "sub" / "vocab.json"
    vocab.save(path)
    loaded = Vocab.load(path)
    assert loaded == vocab
    assert loaded.specials == vocab.specials
    assert json.loads(path.read_text(encoding="utf-8"))["format_version"] == 1
    assert Vocab.from_dict(vocab.to_dict()) == vocab
    assert loaded != Vocab.build(SENTENCES)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"format_version": 1, "kind": "seqnlp.Vocab", "itos": [', "invalid JSON"),
        ("[1, 2]", "not a saved vocabulary"),
        ('{"format_version": 2, "kind": "seqnlp.Vocab", "specials": [], "itos": [], '
         '"counts": []}', "format_version 2"),
        ('{"format_version": 1, "kind": "seqnlp.Vocab", "specials": [], "itos": ["a"], '
         '"counts": ["x"]}', "'counts' must be a list of int"),
        ('{"format_version": 1, "kind": "seqnlp.Vocab", "specials": [], "itos": ["a", "a"], '
         '"counts": [1, 1]}', "unique"),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_loading_a_malformed_file_names_the_file(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFormatError, match=message) as info:
        Vocab.load(path)
    assert str(path) in str(info.value)


def test_a_truncated_compressed_vocabulary_is_a_data_format_error(tmp_path: Path) -> None:
    Vocab.build(SENTENCES).save(tmp_path / "v.json")
    packed = lzma.compress((tmp_path / "v.json").read_bytes())
    (tmp_path / "v.json.xz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(DataFormatError, match="truncated or corrupt"):
        Vocab.load(tmp_path / "v.json.xz")


def test_loading_a_missing_file_is_a_data_format_error(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="no such file"):
        Vocab.load(tmp_path / "absent.json")


def _ptb_train_lines() -> list[list[str]]:
    path = shared_file("ptb", "ptb.train.txt.xz")
    with lzma.open(path, "rt", encoding="utf-8") as handle:
        return [line.split() + ["<eos>"] for line in handle]


def test_ptb_train_has_exactly_ten_thousand_word_types() -> None:
    lines = _ptb_train_lines()
    vocab = Vocab.build(lines, specials=("<unk>", "<eos>"))
    assert len(vocab) == 10_000  # PTB's <unk> and the appended <eos> are word types already
    assert vocab.counts.sum() == 929_589
    assert len(Vocab.build(lines)) == 10_002  # plus <pad> and <bos>

    ids = np.concatenate([vocab.encode(line) for line in lines])
    assert ids.shape == (929_589,)
    assert np.array_equal(np.bincount(ids, minlength=len(vocab)), vocab.counts)
    assert vocab.decode(ids[:5]) == lines[0][:5]
    assert Counter(ids.tolist())[vocab.eos_index] == 42_068
