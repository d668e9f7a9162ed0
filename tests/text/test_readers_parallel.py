"""Tests of seqnlp.text.parallel: the sentence-aligned reader on Multi30k and broken pairs."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqnlp.errors import DataFormatError
from seqnlp.text.parallel import read_parallel
from tests.conftest import shared_file


@pytest.mark.parametrize(
    ("split", "pairs", "de_tokens", "en_tokens"),
    [
        ("train", 29_000, 322_383, 345_020),
        ("val", 1_014, 11_568, 12_167),
        ("test_2016_flickr", 1_000, 10_905, 11_877),
    ],
)
def test_multi30k_pair_and_token_counts_match_source(
    split: str, pairs: int, de_tokens: int, en_tokens: int
) -> None:
    suffix = ".xz" if split == "train" else ""
    read = list(
        read_parallel(
            shared_file("multi30k", f"{split}.de{suffix}"),
            shared_file("multi30k", f"{split}.en{suffix}"),
        )
    )
    assert len(read) == pairs
    assert sum(len(de.split()) for de, _ in read) == de_tokens
    assert sum(len(en.split()) for _, en in read) == en_tokens
    assert all(de and en for de, en in read)


def test_multi30k_line_i_of_de_pairs_with_line_i_of_en() -> None:
    first = next(read_parallel(shared_file("multi30k", "val.de"), shared_file("multi30k", "val.en")))
    assert first == (
        "Eine Gruppe von Männern lädt Baumwolle auf einen Lastwagen",
        "A group of men are loading cotton onto a truck",
    )


def test_lines_are_kept_as_stored_including_empty_ones(tmp_path: Path) -> None:
    src, tgt = tmp_path / "a.de", tmp_path / "a.en"
    src.write_bytes(b"Ein Hund .\r\n\n Zwei \n")
    tgt.write_bytes(b"A dog .\n\nTwo\n")
    assert list(read_parallel(src, tgt)) == [("Ein Hund .", "A dog ."), ("", ""), (" Zwei ", "Two")]


@pytest.mark.parametrize(("src_lines", "tgt_lines"), [(3, 2), (2, 3), (1, 4)])
def test_a_line_count_mismatch_names_both_files_and_where_one_ended(
    tmp_path: Path, src_lines: int, tgt_lines: int
) -> None:
    src, tgt = tmp_path / "x.de", tmp_path / "x.en"
    src.write_text("".join(f"s{i}\n" for i in range(src_lines)), encoding="utf-8")
    tgt.write_text("".join(f"t{i}\n" for i in range(tgt_lines)), encoding="utf-8")
    ended, longer = (tgt, src) if tgt_lines < src_lines else (src, tgt)
    short = min(src_lines, tgt_lines)
    with pytest.raises(DataFormatError) as info:
        list(read_parallel(src, tgt))
    assert info.value.path == str(ended) and info.value.line == short
    assert str(info.value) == (
        f"{ended}, line {short}: file ended after line {short}, "
        f"but its parallel file {longer} continues with line {short + 1}"
    )


def test_pairs_before_the_mismatch_are_yielded(tmp_path: Path) -> None:
    src, tgt = tmp_path / "x.de", tmp_path / "x.en"
    src.write_text("a\nb\nc\n", encoding="utf-8")
    tgt.write_text("A\nB\n", encoding="utf-8")
    pairs = read_parallel(src, tgt)
    assert [next(pairs), next(pairs)] == [("a", "A"), ("b", "B")]
    with pytest.raises(DataFormatError, match="ended after line 2"):
        next(pairs)


def test_invalid_utf8_and_empty_files_name_the_right_file(tmp_path: Path) -> None:
    src, tgt = tmp_path / "x.de", tmp_path / "x.en"
    src.write_text("a\nb\n", encoding="utf-8")
    tgt.write_bytes(b"A\n\xc3\x28\n")
    with pytest.raises(DataFormatError, match="invalid UTF-8") as info:
        list(read_parallel(src, tgt))
    assert str(info.value).startswith(f"{tgt}, line 2: ")
    tgt.write_bytes(b"")
    with pytest.raises(DataFormatError, match="file is empty") as info:
        list(read_parallel(src, tgt))
    assert info.value.path == str(tgt)


def test_a_truncated_xz_is_reported_with_a_line(tmp_path: Path) -> None:
    data = shared_file("multi30k", "train.de.xz").read_bytes()
    path = tmp_path / "train.de.xz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError, match="truncated or corrupt") as info:
        list(read_parallel(path, shared_file("multi30k", "train.en.xz")))
    assert info.value.path == str(path) and info.value.line is not None and info.value.line > 100
    assert str(info.value).startswith(f"{path}, line {info.value.line}: ")
