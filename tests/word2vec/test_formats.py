"""word2vec C text/binary and native formats: round trips, gensim interchange both ways,
and every kind of broken or lying file ending in a DataFormatError that names the place."""

from __future__ import annotations

import gzip
import logging
import time
from pathlib import Path

import numpy as np
import pytest

from seqnlp.errors import DataFormatError
from seqnlp.word2vec import KeyedVectors, load_vectors
from seqnlp.word2vec.formats import read_word2vec

WORDS = ["the", "café", "日本", "naïve", "</s>", "Zürich", "x"]


def sample_kv(seed: int = 0, num_words: int | None = None, size: int = 5) -> KeyedVectors:
    rng = np.random.default_rng(seed)
    words = WORDS if num_words is None else [f"w{i}" for i in range(num_words)]
    vectors = (rng.standard_normal((len(words), size)) * 0.3).astype(np.float32)
    return KeyedVectors(vectors, words, counts=np.arange(len(words), 0, -1) * 10)


def assert_same(kv: KeyedVectors, other: KeyedVectors) -> None:
    assert list(other.index_to_key) == list(kv.index_to_key)
    np.testing.assert_array_equal(np.asarray(other.vectors), kv.vectors)  # exact, float32


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ----------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("detect", [False, True])
def test_word2vec_round_trip_is_exact(tmp_path: Path, binary: bool, detect: bool) -> None:
    kv = sample_kv()
    path = tmp_path / "vectors.w2v"
    kv.save_word2vec_format(path, binary=binary)
    assert_same(kv, KeyedVectors.load_word2vec_format(path, binary=None if detect else binary))


def test_text_rows_are_shortest_float32_decimals(tmp_path: Path) -> None:
    kv = KeyedVectors(np.array([[0.1, -2.5, 1e-8]], np.float32), ["a"])
    kv.save_word2vec_format(tmp_path / "v.txt")
    assert (tmp_path / "v.txt").read_text() == "1 3\na 0.1 -2.5 1e-08\n"


def test_binary_records_end_with_a_newline_as_the_c_tool_writes(tmp_path: Path) -> None:
    kv = KeyedVectors(np.array([[1.0, -2.0], [0.5, 0.25]], np.float32), ["a", "bc"])
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    row = lambda values: np.array(values, "<f4").tobytes()  # noqa: E731
    expected = b"2 2\n" + b"a " + row([1.0, -2.0]) + b"\n" + b"bc " + row([0.5, 0.25]) + b"\n"
    assert (tmp_path / "v.bin").read_bytes() == expected


@pytest.mark.parametrize("binary", [False, True])
def test_gzip_files_are_read_transparently(tmp_path: Path, binary: bool) -> None:
    kv = sample_kv()
    kv.save_word2vec_format(tmp_path / "v", binary=binary)
    write_bytes(tmp_path / "v.gz", gzip.compress((tmp_path / "v").read_bytes()))
    assert_same(kv, KeyedVectors.load_word2vec_format(tmp_path / "v.gz"))


def test_crlf_text_file_loads(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "v.txt", b"2 2\r\na 1 2\r\nb 3 4 \r\n")
    kv = KeyedVectors.load_word2vec_format(path)
    assert kv.index_to_key == ["a", "b"]
    np.testing.assert_array_equal(kv.vectors, [[1, 2], [3, 4]])


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("limit, expected", [(0, 0), (3, 3), (100, 7)])
def test_limit_reads_the_first_words(tmp_path: Path, binary: bool, limit: int, expected: int) -> None:
    kv = sample_kv()
    kv.save_word2vec_format(tmp_path / "v", binary=binary)
    loaded = KeyedVectors.load_word2vec_format(tmp_path / "v", limit=limit)
    assert loaded.index_to_key == WORDS[:expected]
    assert loaded.vectors.shape == (expected, 5)


def test_repeated_word_keeps_its_first_vector(tmp_path: Path, caplog) -> None:
    path = write_bytes(tmp_path / "v.txt", b"3 1\na 1\nb 2\na 3\n")
    with caplog.at_level(logging.WARNING):
        kv = KeyedVectors.load_word2vec_format(path)
    assert kv.index_to_key == ["a", "b"] and kv.vectors[:, 0].tolist() == [1.0, 2.0]
    assert "1 repeated words" in caplog.text


@pytest.mark.parametrize("word", ["two words", "new\nline", ""])
def test_words_the_format_cannot_hold_are_refused(tmp_path: Path, word: str) -> None:
    kv = KeyedVectors(np.zeros((1, 2), np.float32), [word])
    with pytest.raises(ValueError, match="cannot be stored"):
        kv.save_word2vec_format(tmp_path / "v.txt")
    assert not (tmp_path / "v.txt").exists()


# ----------------------------------------------------------------------------- gensim


@pytest.fixture(scope="module")
def gensim_kv():
    return pytest.importorskip("gensim.models.keyedvectors").KeyedVectors


def to_gensim(gensim_kv, kv: KeyedVectors):
    reference = gensim_kv(kv.vector_size)
    reference.add_vectors(kv.index_to_key, kv.vectors.copy())
    return reference


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_reads_our_files(tmp_path: Path, gensim_kv, binary: bool) -> None:
    kv = sample_kv(num_words=50)
    kv.save_word2vec_format(tmp_path / "ours", binary=binary)
    theirs = gensim_kv.load_word2vec_format(tmp_path / "ours", binary=binary)
    assert_same(kv, KeyedVectors(theirs.vectors, theirs.index_to_key))


@pytest.mark.parametrize("binary", [False, True])
def test_we_read_gensim_files(tmp_path: Path, gensim_kv, binary: bool, caplog) -> None:
    kv = sample_kv()
    with caplog.at_level(logging.ERROR):  # gensim warns that it has no counts to sort by
        to_gensim(gensim_kv, kv).save_word2vec_format(str(tmp_path / "theirs"), binary=binary)
    assert_same(kv, KeyedVectors.load_word2vec_format(tmp_path / "theirs"))


def test_our_text_file_is_byte_identical_to_gensims(tmp_path: Path, gensim_kv, caplog) -> None:
    kv = sample_kv(num_words=40, size=7)
    kv.save_word2vec_format(tmp_path / "ours.txt")
    with caplog.at_level(logging.ERROR):
        to_gensim(gensim_kv, kv).save_word2vec_format(str(tmp_path / "theirs.txt"))
    assert (tmp_path / "ours.txt").read_bytes() == (tmp_path / "theirs.txt").read_bytes()


# ----------------------------------------------------------------------------- broken files


def float_bytes(*values: float) -> bytes:
    return np.array(values, "<f4").tobytes()


BROKEN = [
    # (name, file content, message fragment, line or None)
    ("empty", b"", "file is empty", None),
    ("no header newline", b"3 2", "header line", 1),
    ("non-numeric header", b"three 2\na 1 2\n", "two non-negative integers", 1),
    ("negative count", b"-3 2\na 1 2\n", "two non-negative integers", 1),
    ("one header field", b"3\na 1 2\n", "two non-negative integers", 1),
    ("three header fields", b"1 2 3\na 1 2\n", "two non-negative integers", 1),
    ("zero dimensions", b"1 0\na\n", "vector size must be >= 1", 1),
    ("huge dimension, text", b"2 60000\na 1 2\nb 3 4\n", "only 12 bytes follow", 1),
    ("implausible dimension", b"2 1000000000\na 1 2\nb 3 4\n", "vector size 1,000,000,000 is more than", 1),
    ("implausible count", b"99999999999 2\na 1 2\n", "99,999,999,999 words is more than", 1),
    ("unicode digits in header", "2 \u0662\na 1 2\n".encode(), "two non-negative integers", 1),
    ("nan value", b"2 2\na 1 2\nb nan 4\n", "the vector of 'b' holds NaN or infinity", 3),
    ("inf value", b"2 2\na 1 2\nb 3 -inf\n", "holds NaN or infinity", 3),
    ("beyond float32", b"2 2\na 1e39 2\nb 3 4\n", "the vector of 'a' holds NaN or infinity", 2),
    ("overlong row", b"1 1\na " + b"1" * 70_000 + b"\n", "row is longer than", 2),
    ("huge count, text", b"99999999 2\na 1 2\n", "only 6 bytes follow", 1),
    ("last row without newline", b"3 2\na 1 2\nb 3 4\nc 5 6", None, None),
    ("header claims more, text", b"4 2\nalpha 1 2\nbeta 3 4\ngamma 5 6\n",
     "file ends after 3 words; the header declares 4", 5),
    ("short row", b"2 3\na 1 2 3\nb 4 5\n", "expected 3 values after 'b', found 2", 3),
    ("long row", b"2 2\na 1 2\nb 4 5 6\n", "expected 2 values after 'b', found 3", 3),
    ("not a number", b"2 2\na 1 2\nb 4 x5\n", "value 'x5' is not a number", 3),
    ("missing word", b"2 2\na 1 2\n 4 5 6\n", "the word is missing", 3),
    ("invalid UTF-8", b"2 1\na 1\n\xff\xfe 2\n", "invalid UTF-8", 3),
]


@pytest.mark.parametrize("name, content, message, line", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_text_file_raises_with_file_and_line(tmp_path: Path, name, content, message, line) -> None:
    path = write_bytes(tmp_path / "broken.txt", content)
    if message is None:  # a valid file (last row without newline): must load
        assert len(KeyedVectors.load_word2vec_format(path)) == 3
        return
    with pytest.raises(DataFormatError, match=message) as caught:
        KeyedVectors.load_word2vec_format(path, binary=False if content else None)
    assert caught.value.path == str(path) and caught.value.line == line


BINARY_BROKEN = [
    ("huge dimension", b"2 60000\na " + float_bytes(1, 2), "only 10 bytes follow"),
    ("implausible dimension", b"2 1000000000\na " + float_bytes(1, 2), "is more than 65,536"),
    ("nan value", b"2 2\naa " + float_bytes(1, 2) + b"\nbb " + float_bytes(3, float("nan")),
     r"the vector of word 2 \('bb'\) holds NaN"),
    ("huge count", b"1000000 2\na " + float_bytes(1, 2), "only 10 bytes follow"),
    # long words, so that the size bound passes and the reader meets the end
    ("ends inside a vector", b"2 2\nalphabet " + float_bytes(1, 2) + b"\nbeta " + float_bytes(3)[:3],
     "word 2: file ends inside its vector"),
    ("ends inside a word", b"2 2\nalphabet " + float_bytes(1, 2) + b"\nbetagammadelta",
     "word 2: file ends before"),
    ("invalid UTF-8 word", b"1 2\n\xff\xfe " + float_bytes(1, 2), "word 1: invalid UTF-8"),
]


@pytest.mark.parametrize("name, content, message", BINARY_BROKEN, ids=[b[0] for b in BINARY_BROKEN])
def test_broken_binary_file_raises_with_word_index(tmp_path: Path, name, content, message) -> None:
    path = write_bytes(tmp_path / "broken.bin", content)
    with pytest.raises(DataFormatError, match=message):
        KeyedVectors.load_word2vec_format(path, binary=True)


def test_binary_header_lying_about_more_words_stops_at_the_end(tmp_path: Path) -> None:
    # 3 claimed, 2 present; the bound check passes (2 records could hold 3 tiny ones)
    content = b"3 1\n" + b"aaaaaaaa " + float_bytes(1) + b"\n" + b"bbbbbbbb " + float_bytes(2) + b"\n"
    path = write_bytes(tmp_path / "v.bin", content)
    with pytest.raises(DataFormatError, match="word 3: file ends before the word"):
        KeyedVectors.load_word2vec_format(path, binary=True)


@pytest.mark.parametrize("header, message", [
    (b"5 1000000000", "vector size 1,000,000,000 is more than 65,536"),
    (b"1000000000 65536", "word 1: file ends inside its vector"),
])
def test_lying_compressed_binary_fails_without_a_giant_allocation(tmp_path: Path, header, message) -> None:
    content = header + b"\na " + float_bytes(*range(1000))
    path = write_bytes(tmp_path / "v.bin.gz", gzip.compress(content))
    start = time.perf_counter()
    with pytest.raises(DataFormatError, match=message):
        KeyedVectors.load_word2vec_format(path, binary=True)
    assert time.perf_counter() - start < 5.0


def test_issue_11_gzip_bomb_claiming_a_billion_dimensions_fails_at_once(tmp_path: Path) -> None:
    # `( printf '1 1000000000\nw '; head -c 800000000 /dev/zero ) | gzip -1`: 800 MB of zeros
    # (here 80 MB, compressed in a few blocks) used to be read with quadratic growth.
    path = tmp_path / "b.bin.gz"
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(b"1 1000000000\nw ")
        zeros = bytes(1 << 20)
        for _ in range(80):
            out.write(zeros)
    start = time.perf_counter()
    with pytest.raises(DataFormatError, match="vector size 1,000,000,000 is more than"):
        load_vectors(path)
    assert time.perf_counter() - start < 5.0


def test_compressed_binary_of_many_records_reads_in_linear_time(tmp_path: Path) -> None:
    kv = sample_kv(num_words=20_000, size=2)
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    write_bytes(tmp_path / "v.bin.gz", gzip.compress((tmp_path / "v.bin").read_bytes()))
    start = time.perf_counter()
    assert_same(kv, KeyedVectors.load_word2vec_format(tmp_path / "v.bin.gz"))
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("binary", [False, True])
def test_a_byte_order_mark_before_the_header_is_skipped(tmp_path: Path, binary: bool) -> None:
    kv = sample_kv()
    kv.save_word2vec_format(tmp_path / "v", binary=binary)
    path = write_bytes(tmp_path / "bom", b"\xef\xbb\xbf" + (tmp_path / "v").read_bytes())
    assert_same(kv, KeyedVectors.load_word2vec_format(path))


@pytest.mark.parametrize("binary", [False, True])
def test_unicode_errors_replace_reads_undecodable_words(tmp_path: Path, binary: bool) -> None:
    content = (b"1 2\n\xffab " + float_bytes(1, 2)) if binary else b"1 2\n\xffab 1 2\n"
    path = write_bytes(tmp_path / "v", content)
    kv = KeyedVectors.load_word2vec_format(path, binary=binary, unicode_errors="replace")
    assert kv.index_to_key == ["\ufffdab"]
    np.testing.assert_array_equal(kv.vectors, [[1, 2]])


def test_malformed_text_is_detected_as_text_so_the_error_has_a_line(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "v.txt", b"2 3\na 1 2\nb 1 2 3\n")
    with pytest.raises(DataFormatError, match="expected 3 values") as caught:
        read_word2vec(path)
    assert caught.value.line == 2


def test_binary_without_trailing_newlines_is_read(tmp_path: Path) -> None:
    content = b"2 2\na " + float_bytes(1, 2) + b"b " + float_bytes(3, 4)  # gensim's layout
    kv = KeyedVectors.load_word2vec_format(write_bytes(tmp_path / "v.bin", content))
    assert kv.index_to_key == ["a", "b"]
    np.testing.assert_array_equal(kv.vectors, [[1, 2], [3, 4]])


# ----------------------------------------------------------------------------- native


def test_native_round_trip_keeps_vectors_keys_and_counts(tmp_path: Path) -> None:
    kv = sample_kv()
    kv.save(tmp_path / "kv")
    loaded = KeyedVectors.load(tmp_path / "kv")
    assert_same(kv, loaded)
    np.testing.assert_array_equal(loaded.counts, kv.counts)
    assert sorted(p.name for p in (tmp_path / "kv").iterdir()) == ["vectors.npy", "vocab.json"]


def test_native_mmap_load_maps_read_only(tmp_path: Path) -> None:
    kv = sample_kv()
    kv.save(tmp_path / "kv")
    loaded = KeyedVectors.load(tmp_path / "kv", mmap=True)
    assert isinstance(loaded.vectors, np.memmap) and not loaded.vectors.flags.writeable
    assert loaded.most_similar("the", topn=2) == kv.most_similar("the", topn=2)


def test_native_save_replaces_an_old_save_and_leaves_no_temporaries(tmp_path: Path) -> None:
    sample_kv(seed=1).save(tmp_path / "kv")
    kv = sample_kv(seed=2)
    kv.save(tmp_path / "kv")
    assert_same(kv, KeyedVectors.load(tmp_path / "kv"))
    assert [p.name for p in tmp_path.iterdir()] == ["kv"]


def test_native_save_refuses_to_overwrite_other_things(tmp_path: Path) -> None:
    (tmp_path / "kv").mkdir()
    (tmp_path / "kv" / "precious.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        sample_kv().save(tmp_path / "kv")
    assert (tmp_path / "kv" / "precious.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda d: (d / "vectors.npy").unlink(), "missing vectors file"),
        (lambda d: (d / "vocab.json").write_text("{not json"), "invalid JSON"),
        (lambda d: (d / "vocab.json").write_text(
            (d / "vocab.json").read_text().replace('"format_version": 1', '"format_version": 99')),
         "format_version 99 is not supported"),
        (lambda d: np.save(d / "vectors.npy", np.zeros((2, 5), np.float32)), "does not match"),
        (lambda d: np.save(d / "vectors.npy", np.zeros((7, 5))), "float32"),
        (lambda d: (d / "vectors.npy").write_bytes(b"garbage"), "not a readable .npy"),
    ],
)
def test_damaged_native_directory_raises(tmp_path: Path, damage, message) -> None:
    sample_kv().save(tmp_path / "kv")
    damage(tmp_path / "kv")
    with pytest.raises(DataFormatError, match=message):
        KeyedVectors.load(tmp_path / "kv")


def test_native_load_of_a_word2vec_file_says_what_it_is(tmp_path: Path) -> None:
    sample_kv().save_word2vec_format(tmp_path / "v.txt")
    with pytest.raises(DataFormatError, match="not a seqnlp vectors directory"):
        KeyedVectors.load(tmp_path / "v.txt")


@pytest.mark.parametrize("kind", ["native", "text", "binary"])
def test_load_vectors_recognises_every_format(tmp_path: Path, kind: str) -> None:
    kv = sample_kv()
    path = tmp_path / kind
    if kind == "native":
        kv.save(path)
    else:
        kv.save_word2vec_format(path, binary=kind == "binary")
    assert_same(kv, load_vectors(path))
    assert load_vectors(path, limit=2).index_to_key == WORDS[:2]


def test_native_load_is_much_faster_than_text(tmp_path: Path) -> None:
    kv = sample_kv(num_words=20_000, size=50)
    kv.save(tmp_path / "kv")
    kv.save_word2vec_format(tmp_path / "v.txt")

    def seconds(load) -> float:
        start = time.perf_counter()
        load()
        return time.perf_counter() - start

    text = seconds(lambda: KeyedVectors.load_word2vec_format(tmp_path / "v.txt"))
    native = min(seconds(lambda: KeyedVectors.load(tmp_path / "kv")) for _ in range(3))
    assert native * 10 < text


def _npy_with_header_length(length: int) -> bytes:
    """A version-2 .npy prefix whose 4-byte header length claims `length` bytes."""
    return b"\x93NUMPY\x02\x00" + length.to_bytes(4, "little") + b"{'descr': '<f4'"


def test_native_npy_header_length_is_checked_before_it_is_read(tmp_path: Path) -> None:
    """numpy allocates the header length a file claims (up to 4 GiB) before reading it."""
    import tracemalloc

    sample_kv().save(tmp_path / "kv")
    (tmp_path / "kv" / "vectors.npy").write_bytes(_npy_with_header_length(2**31))
    tracemalloc.start()
    try:
        with pytest.raises(DataFormatError, match="header claims 2,147,483,648 bytes"):
            KeyedVectors.load(tmp_path / "kv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


@pytest.mark.parametrize("vocab, message", [
    ("[" * 100_000, "nested too deeply"),
    ('\ufeff{"format": "other"}', "format is not 'seqnlp.keyedvectors'"),  # BOM dropped, then read
])
def test_native_vocab_json_edge_cases(tmp_path: Path, vocab: str, message: str) -> None:
    sample_kv().save(tmp_path / "kv")
    (tmp_path / "kv" / "vocab.json").write_text(vocab, encoding="utf-8")
    with pytest.raises(DataFormatError, match=message):
        KeyedVectors.load(tmp_path / "kv")


def test_a_vectors_file_with_a_byte_order_mark_reads_as_without(tmp_path: Path) -> None:
    for binary in (False, True):
        kv = sample_kv()
        kv.save_word2vec_format(tmp_path / "v", binary=binary)
        (tmp_path / "bom").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "v").read_bytes())
        assert_same(kv, load_vectors(tmp_path / "bom"))


@pytest.mark.filterwarnings("error")
def test_a_python2_npy_header_is_read_without_a_warning(tmp_path: Path) -> None:
    """numpy warns about a "(7L, 5L)" shape; in the CLI a warning is a second stderr line."""
    kv = sample_kv()
    kv.save(tmp_path / "kv")
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (7L, 5L), }"
    header += b" " * (117 - len(header)) + b"\n"
    npy = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
    (tmp_path / "kv" / "vectors.npy").write_bytes(npy + kv.vectors.astype("<f4").tobytes())
    assert_same(kv, KeyedVectors.load(tmp_path / "kv"))
