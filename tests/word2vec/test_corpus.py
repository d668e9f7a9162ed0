"""Word2vec sentence streams: file reading in blocks, long-line cutting, chunk encoding, cache."""

from __future__ import annotations

import lzma
from pathlib import Path

import numpy as np
import pytest

from seqnlp.errors import DataFormatError, SeqnlpError
from seqnlp import fileio
from seqnlp.word2vec.corpus import ChunkCache, LineSentences, as_sentences, encode_chunks
from tests.conftest import shared_file


@pytest.fixture()
def tiny_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read files 7 bytes at a time, so that words and lines straddle block boundaries."""
    monkeypatch.setattr(fileio, "BLOCK_BYTES", 7)


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.mark.parametrize("block", ["default", "tiny"])
def test_line_sentences_split_lines_and_skip_blank_ones(tmp_path, request, block):
    if block == "tiny":
        request.getfixturevalue("tiny_blocks")
    path = write(tmp_path / "c.txt", "the cat sat\n\n  on  the mat \r\nlast line no newline")
    expected = [["the", "cat", "sat"], ["on", "the", "mat"], ["last", "line", "no", "newline"]]
    assert list(LineSentences(path)) == expected
    assert list(LineSentences(path)) == expected  # restartable


def test_a_long_line_is_cut_into_pieces_without_losing_a_word(tmp_path, tiny_blocks):
    words = [f"w{i}" for i in range(23)]
    path = write(tmp_path / "one.txt", " ".join(words) + "\nnext line")
    pieces = list(LineSentences(path, max_sentence_length=5))
    assert [len(p) for p in pieces] == [5, 5, 5, 5, 3, 2]
    assert sum(pieces, []) == words + ["next", "line"]


def test_text8_style_single_line_of_real_text_keeps_every_word(tmp_path):
    # PTB train on one line: 887,521 words (929,589 tokens minus 42,068 <eos>).
    with lzma.open(shared_file("ptb", "ptb.train.txt.xz"), "rt", encoding="utf-8") as f:
        words = f.read().split()
    path = write(tmp_path / "text8like", " ".join(words))
    pieces = list(LineSentences(path, max_sentence_length=10_000))
    assert len(words) == 887_521
    assert sum(len(p) for p in pieces) == 887_521
    assert all(len(p) == 10_000 for p in pieces[:-1]) and len(pieces) == 89
    assert pieces[0][:3] == words[:3] and pieces[-1][-3:] == words[-3:]


def test_xz_corpus_is_read_transparently(tmp_path):
    path = tmp_path / "c.txt.xz"
    with lzma.open(path, "wt", encoding="utf-8") as f:
        f.write("a b\nc\n")
    assert list(LineSentences(path)) == [["a", "b"], ["c"]]


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"fine line\nsecond\nbad \xff byte\n")
    with pytest.raises(DataFormatError, match="line 3"):
        list(LineSentences(path))


def test_missing_file_is_a_data_format_error(tmp_path):
    with pytest.raises(DataFormatError, match="no such file"):
        LineSentences(tmp_path / "absent.txt")


def test_a_generator_is_refused_with_a_clear_error():
    with pytest.raises(SeqnlpError, match="one-shot iterator"):
        as_sentences(s.split() for s in ["a b", "c"])


def test_lists_and_paths_are_accepted(tmp_path):
    data = [["a", "b"]]
    assert as_sentences(data) is data
    assert isinstance(as_sentences(str(write(tmp_path / "c.txt", "a b\n"))), LineSentences)
    with pytest.raises(TypeError, match="iterable of token lists"):
        as_sentences(42)


def test_encode_chunks_drops_unknown_words_and_counts_every_token():
    index = {"a": 0, "b": 1, "c": 2}
    sentences = [["a", "x", "b"], ["y"], ["c", "c", "a", "b"], ["b"]]
    chunks = list(encode_chunks(sentences, index, chunk_words=4))  # cut after 4+ tokens
    assert [c.ids.tolist() for c in chunks] == [[0, 1], [2, 2, 0, 1], [1]]
    assert [c.ends.tolist() for c in chunks] == [[2], [4], [1]]  # the all-unknown line is gone
    assert [c.raw_words for c in chunks] == [4, 4, 1]
    (one,) = encode_chunks(sentences, index, chunk_words=100)
    assert one.ids.tolist() == [0, 1, 2, 2, 0, 1, 1] and one.ends.tolist() == [2, 6, 7]
    assert chunks[0].ids.dtype == np.int32 and chunks[0].ends.dtype == np.int64


def test_encode_chunks_cuts_a_huge_token_list():
    index = {f"w{i}": i for i in range(10)}
    sentence = [f"w{i % 10}" for i in range(25)]
    (chunk,) = encode_chunks([sentence], index, chunk_words=100, max_sentence_length=10)
    assert chunk.ends.tolist() == [10, 20, 25]
    assert chunk.ids.tolist() == [i % 10 for i in range(25)]


def test_chunk_cache_gives_back_the_same_chunks(tmp_path):
    index = {w: i for i, w in enumerate("abcdef")}
    sentences = [list("abc"), list("dxef"), list("fa"), list("q")]
    chunks = list(encode_chunks(sentences, index, chunk_words=3))
    with ChunkCache(tmp_path) as cache:
        for chunk in chunks:
            cache.append(chunk)
        for _ in range(2):  # readable once per epoch
            again = list(cache)
            assert len(again) == len(chunks)
            for x, y in zip(chunks, again):
                assert x.ids.tolist() == y.ids.tolist()
                assert x.ends.tolist() == y.ends.tolist()
                assert x.raw_words == y.raw_words
        path = Path(cache.path)
        assert path.exists()
    assert not path.exists()
