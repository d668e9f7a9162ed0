"""Property-based fuzzing (hypothesis) of every reader and loader of text data and vectors.

Each reader gets random bytes and a valid file mutated by truncation, bit flips and
inserted bytes. Whatever it is given, it must either read it or raise seqnlp's own error
(`SeqnlpError`, e.g. `DataFormatError`) -- never another exception type -- within a
second of processor time, and without allocating more than a few megabytes for a file of a
few hundred bytes (a reader that trusts a header's claim fails that bound).
"""

from __future__ import annotations

import gzip
import json
import lzma
import os
import shutil
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqnlp import fileio
from seqnlp.embeddings.evaluate import evaluate_analogies, evaluate_word_pairs
from seqnlp.errors import FileAccessError, SeqnlpError
from seqnlp.text import chinese, conll, corpus, evalsets, parallel, trees
from seqnlp.text.vocab import Vocab
from seqnlp.word2vec import KeyedVectors, load_vectors
from seqnlp.word2vec.corpus import LineSentences
from seqnlp.word2vec.formats import read_word2vec, write_word2vec
from seqnlp.word2vec.model import Word2Vec
from seqnlp.word2vec.native import load_native

PEAK_BYTES = 32 << 20  # what reading a file of at most a few KiB may allocate at its peak
CPU_SECONDS = 1.0  # ... and the processor time it may take (other processes do not count)
# SEQNLP_FUZZ_EXAMPLES=2000 fuzzes longer (the default keeps the file under half a minute).
EXAMPLES = int(os.environ.get("SEQNLP_FUZZ_EXAMPLES", "40"))
# The deadline (wall time) catches a hang; CPU_SECONDS, measured in `read_or_refuse`,
# bounds the work without failing when the machine is busy with other processes.
FUZZ = settings(max_examples=EXAMPLES, deadline=10_000, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])


# ----------------------------------------------------------------------------- valid files

LINES = b"the cat sat on the mat .\n\nno , it did not\r\nend\n"
TSV = b"1\ta fine film\n0\ta dull mess\n1\t\"quoted\"\tand tabbed\n"
CONLL = (b"-DOCSTART- -X- O O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\n\n"
         b"Peter NNP I-NP I-PER\nBlackburn NNP I-NP I-PER\n")
SEGMENTED = "迈向  充满  希望  的  新  世纪\r\n中共中央  总书记  江泽民\r\n\r\n".encode()
RAW_CHINESE = "迈向充满希望的新世纪\r\n 中共中央总书记 \r\n".encode()
WORD_LIST = "迈向\n充满\n希望\n".encode()
TREES = b"(3 (2 It) (4 (2 's) (4 good)))\n(1 (2 a) (0 (1 bad) (2 film)))\n"
ANALOGIES = (b": capital\nathens greece baghdad iraq\nberlin germany paris france\n"
             b": gram\na b c d\n")
PAIRS = b"# word1 word2 score\ntiger\tcat\t7.35\nbook paper 7.46\nking\tqueen\t8.58\n"
VECTOR_WORDS = ["the", "cat", "sat", "mat", "café"]
VECTORS = np.array([[0.1, 0.2, 0.3], [0.2, 0.1, 0.0], [-0.1, 0.4, 0.2], [0.3, 0.3, 0.1],
                    [0.5, -0.5, 0.25]], np.float32)


def _w2v_bytes(tmp: Path, binary: bool) -> bytes:
    write_word2vec(tmp / "valid.w2v", VECTORS, VECTOR_WORDS, binary=binary)
    return (tmp / "valid.w2v").read_bytes()


def _vocab_bytes(tmp: Path) -> bytes:
    Vocab.build([["the", "cat"], ["the", "mat"]], specials=["<unk>"]).save(tmp / "v.json")
    return (tmp / "v.json").read_bytes()


def _model_bytes(tmp: Path) -> bytes:
    model = Word2Vec(vector_size=3, min_count=1)
    model.build_vocab([["the", "cat", "sat"], ["the", "mat"]])
    model.save(tmp / "model.npz")
    return (tmp / "model.npz").read_bytes()


NATIVE_VOCAB = json.dumps({"format": "seqnlp.keyedvectors", "format_version": 1,
                           "vector_size": 3, "index_to_key": VECTOR_WORDS,
                           "counts": [5, 4, 3, 2, 1]}, ensure_ascii=False).encode()


def _npy_bytes(tmp: Path) -> bytes:
    np.save(tmp / "vectors.npy", VECTORS, allow_pickle=False)
    return (tmp / "vectors.npy").read_bytes()


# ----------------------------------------------------------------------------- readers


def _read_native(path: Path, vocab: bytes | None = None, npy: bytes | None = None) -> object:
    """Load a native directory beside `path` holding `vocab` and `npy` (valid where None),
    read and memory-mapped."""
    folder = path.parent / "native"
    folder.mkdir(exist_ok=True)
    (folder / "vocab.json").write_bytes(NATIVE_VOCAB if vocab is None else vocab)
    (folder / "vectors.npy").write_bytes(_npy_bytes(path.parent) if npy is None else npy)
    loaded = load_native(folder)
    mapped = load_native(folder, mmap=True)
    return loaded, np.asarray(mapped[0]).tolist()


def _read_parallel(path: Path) -> object:
    """The pairs with the fuzzed file on either side of a good one."""
    other = path.parent / "other.txt"
    if not other.exists():
        other.write_bytes(b"a b\nc d\ne f\n")
    return list(parallel.read_parallel(path, other)), list(parallel.read_parallel(other, path))


EVAL_WORDS = ["athens", "greece", "baghdad", "iraq", "tiger", "cat", "book", "paper", "king"]


def _kv() -> KeyedVectors:
    vectors = np.random.default_rng(0).standard_normal((len(EVAL_WORDS), 4)).astype(np.float32)
    return KeyedVectors(vectors, EVAL_WORDS)


@dataclass(frozen=True)
class Reader:
    """One reader under fuzzing.

    Attributes:
        name: shown by pytest.
        suffix: the file name's ending (".gz"/".xz" make the readers decompress).
        content: a valid file's content, before compression (built in a scratch folder).
        read: reads a path completely and returns what it read.
        text: the format is text, so a byte-order mark may precede it.
    """

    name: str
    suffix: str
    content: Callable[[Path], bytes]
    read: Callable[[Path], object]
    text: bool = True

    def pack(self, data: bytes) -> bytes:
        """`data` compressed as the suffix says."""
        if self.suffix.endswith(".gz"):
            return gzip.compress(data, mtime=0)
        return lzma.compress(data) if self.suffix.endswith(".xz") else data


def _const(data: bytes) -> Callable[[Path], bytes]:
    return lambda tmp: data


def _w2v(binary: bool) -> Callable[[Path], bytes]:
    return lambda tmp: _w2v_bytes(tmp, binary)


READERS = [
    Reader("iter_lines", ".txt", _const(LINES), lambda p: list(fileio.iter_lines(p))),
    Reader("iter_lines.gz", ".txt.gz", _const(LINES), lambda p: list(fileio.iter_lines(p))),
    Reader("iter_lines.xz", ".txt.xz", _const(LINES), lambda p: list(fileio.iter_lines(p))),
    Reader("iter_text_blocks", ".txt", _const(LINES),
           lambda p: "".join(fileio.iter_text_blocks(p, block_bytes=7))),
    Reader("iter_text_blocks.xz", ".txt.xz", _const(LINES),
           lambda p: "".join(fileio.iter_text_blocks(p, block_bytes=5))),
    Reader("read_lm_lines", ".txt", _const(LINES), lambda p: list(corpus.read_lm_lines(p))),
    Reader("read_word_stream", ".txt.gz", _const(LINES),
           lambda p: list(corpus.read_word_stream(p, chunk_words=3))),
    Reader("read_labeled", ".tsv", _const(TSV),
           lambda p: list(corpus.read_labeled(p, num_labels=2))),
    Reader("read_conll", ".txt", _const(CONLL),
           lambda p: list(conll.read_conll(p, include_docstart=True))),
    Reader("read_segmented", ".utf8", _const(SEGMENTED),
           lambda p: list(chinese.read_segmented(p))),
    Reader("read_raw_lines", ".utf8", _const(RAW_CHINESE),
           lambda p: list(chinese.read_raw_lines(p))),
    Reader("read_word_list", ".utf8", _const(WORD_LIST),
           lambda p: list(chinese.read_word_list(p))),
    Reader("read_trees", ".txt", _const(TREES), lambda p: list(map(str, trees.read_trees(p)))),
    Reader("read_parallel", ".txt", _const(b"x y\nz w\nv u\n"), _read_parallel),
    Reader("read_analogies", ".txt", _const(ANALOGIES),
           lambda p: list(evalsets.read_analogies(p))),
    Reader("read_word_pairs", ".tsv", _const(PAIRS),
           lambda p: list(evalsets.read_word_pairs(p))),
    Reader("evaluate_analogies", ".txt", _const(ANALOGIES),
           lambda p: evaluate_analogies(_kv(), p)),
    Reader("evaluate_word_pairs", ".tsv", _const(PAIRS),
           lambda p: evaluate_word_pairs(_kv(), p)),
    Reader("Vocab.load", ".json", _vocab_bytes, lambda p: Vocab.load(p).to_dict()),
    Reader("read_word2vec text", ".txt", _w2v(False), read_word2vec),
    Reader("read_word2vec binary", ".bin", _w2v(True), read_word2vec),
    Reader("read_word2vec forced binary", ".bin", _w2v(True),
           lambda p: read_word2vec(p, binary=True)),
    Reader("read_word2vec text.gz", ".txt.gz", _w2v(False), read_word2vec),
    Reader("read_word2vec binary.xz", ".bin.xz", _w2v(True), read_word2vec),
    Reader("load_word2vec_format replace", ".txt", _w2v(False),
           lambda p: KeyedVectors.load_word2vec_format(p, unicode_errors="replace")),
    Reader("load_vectors", ".bin.gz", _w2v(True), load_vectors),
    Reader("load_native vocab.json", ".json", _const(NATIVE_VOCAB),
           lambda p: _read_native(p, vocab=p.read_bytes())),
    Reader("load_native vectors.npy", ".npy", _npy_bytes,
           lambda p: _read_native(p, npy=p.read_bytes()), text=False),
    Reader("LineSentences", ".txt", _const(LINES), lambda p: list(LineSentences(p, 3))),
    Reader("LineSentences.gz", ".txt.gz", _const(LINES), lambda p: list(LineSentences(p, 3))),
    Reader("Word2Vec.load", ".npz", _model_bytes, Word2Vec.load, text=False),
]
IDS = [reader.name for reader in READERS]


# ----------------------------------------------------------------------------- mutations

# One edit of a file: ("cut", position) keeps the bytes before it, ("flip", position, bit)
# inverts one bit, ("insert", position, bytes) adds bytes there. Positions are taken modulo
# the current length, so every edit applies to any file.
EDITS = st.one_of(
    st.tuples(st.just("cut"), st.integers(0, 1 << 16)),
    st.tuples(st.just("flip"), st.integers(0, 1 << 16), st.integers(0, 7)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 16),
              st.one_of(st.binary(min_size=1, max_size=16),
                        st.sampled_from([b"\x00", b"\n", b" ", b"\t", b"\xef\xbb\xbf", b"(",
                                         b")", b"nan", b"99999999999", b"\xff", b"\r"]))),
)


def mutate(data: bytes, edits: list[tuple]) -> bytes:
    """`data` after `edits` (see EDITS), applied in order."""
    buffer = bytearray(data)
    for edit in edits:
        position = edit[1] % (len(buffer) + 1)
        if edit[0] == "cut":
            del buffer[position:]
        elif edit[0] == "flip" and buffer:
            buffer[position % len(buffer)] ^= 1 << edit[2]
        elif edit[0] == "insert":
            buffer[position:position] = edit[2]
    return bytes(buffer)


def test_mutate_cuts_flips_and_inserts() -> None:
    assert mutate(b"abcdef", [("cut", 3)]) == b"abc"
    assert mutate(b"abc", [("flip", 1, 0)]) == b"acc"
    assert mutate(b"abc", [("insert", 1, b"XY")]) == b"aXYbc"
    assert mutate(b"abcdef", [("cut", 9)]) == b"ab"  # positions wrap: 9 % 7
    assert mutate(b"", [("flip", 5, 3)]) == b""


# ----------------------------------------------------------------------------- the property


def read_or_refuse(reader: Reader, path: Path, data: bytes) -> None:
    """Write `data` to `path` and read it: success or a SeqnlpError (no other exception,
    no warning), within the bounds."""
    path.write_bytes(data)
    tracemalloc.start()
    start = time.process_time()
    try:
        with warnings.catch_warnings():  # a warning would be a second line on stderr
            warnings.simplefilter("error")
            reader.read(path)
    except SeqnlpError as exc:
        assert str(exc) and "\n" not in str(exc), f"{reader.name}: message {str(exc)!r}"
    except Exception as exc:  # any other type is the bug looked for
        raise AssertionError(
            f"{reader.name} raised {type(exc).__name__}: {exc} on {data[:200]!r}"
        ) from exc
    finally:
        seconds = time.process_time() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"{reader.name}: {peak:,} bytes allocated for {len(data)} bytes"
    assert seconds < CPU_SECONDS, f"{reader.name}: {seconds:.2f} s of CPU for {len(data)} bytes"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def contents(scratch: Path) -> dict[str, bytes]:
    """Each reader's valid content, uncompressed."""
    folder = scratch / "valid"
    folder.mkdir()
    return {reader.name: reader.content(folder) for reader in READERS}


@pytest.mark.parametrize("reader", READERS, ids=IDS)
def test_valid_file_reads(reader: Reader, scratch: Path, contents: dict[str, bytes]) -> None:
    """The starting point of the mutations is a file the reader accepts."""
    path = scratch / f"ok{reader.suffix}"
    path.write_bytes(reader.pack(contents[reader.name]))
    assert reader.read(path) is not None


@pytest.mark.parametrize("reader", [r for r in READERS if r.text],
                         ids=[r.name for r in READERS if r.text])
def test_a_byte_order_mark_reads_as_without_one(
    reader: Reader, scratch: Path, contents: dict[str, bytes]
) -> None:
    """A UTF-8 byte-order mark (which some editors write) before a text file changes
    nothing: not a label, a word, a header or a JSON document."""
    path = scratch / f"plain{reader.suffix}"
    path.write_bytes(reader.pack(contents[reader.name]))
    without = comparable(reader.read(path))
    path.write_bytes(reader.pack(b"\xef\xbb\xbf" + contents[reader.name]))
    assert comparable(reader.read(path)) == without
    assert "\ufeff" not in without


def comparable(result: object) -> str:
    """A reader's result as text that two equal reads share (arrays as lists)."""
    if isinstance(result, KeyedVectors):
        result = (result.index_to_key, result.vectors)
    if isinstance(result, Word2Vec):
        result = (result.config, result.vocab.to_dict(), result.w_in, result.w_out)
    if isinstance(result, np.ndarray):
        return repr(result.tolist())
    if isinstance(result, (tuple, list)):
        return "(" + ", ".join(comparable(item) for item in result) + ")"
    return repr(result)


@pytest.mark.parametrize("reader", READERS, ids=IDS)
@FUZZ
@given(data=st.binary(max_size=512))
def test_random_bytes_read_or_refused(reader: Reader, scratch: Path, data: bytes) -> None:
    read_or_refuse(reader, scratch / f"random{reader.suffix}", data)


# Text made of the characters that carry structure in these formats (separators, brackets,
# digits, signs, "nan"/"inf", a BOM, a NUL, non-ASCII letters): where random bytes mostly
# fail at UTF-8 decoding, this reaches the parsers.
STRUCTURE = st.text(alphabet=st.sampled_from(list(" \t\n\r()0123456789:-#.eE+naif\ufeff\x00é日")),
                    max_size=300)


@pytest.mark.parametrize("reader", READERS, ids=IDS)
@FUZZ
@given(text=STRUCTURE)
def test_structured_text_read_or_refused(reader: Reader, scratch: Path, text: str) -> None:
    read_or_refuse(reader, scratch / f"text{reader.suffix}", reader.pack(text.encode()))


@pytest.mark.parametrize("reader", READERS, ids=IDS)
@FUZZ
@given(edits=st.lists(EDITS, min_size=1, max_size=4))
def test_mutated_valid_file_read_or_refused(
    reader: Reader, scratch: Path, contents: dict[str, bytes], edits: list[tuple]
) -> None:
    """Edits hit the file as stored: a compressed file's archive bytes."""
    data = mutate(reader.pack(contents[reader.name]), edits)
    read_or_refuse(reader, scratch / f"mutated{reader.suffix}", data)


# ----------------------------------------------------------------------------- the check can fail


def test_the_property_fails_a_reader_that_raises_another_type(scratch: Path) -> None:
    def careless(path: Path) -> None:
        int(path.read_text())

    with pytest.raises(AssertionError, match="raised ValueError"):
        read_or_refuse(Reader("careless", ".txt", _const(b""), careless), scratch / "c.txt", b"x")


def test_the_property_fails_a_reader_that_trusts_a_claimed_size(scratch: Path) -> None:
    def trusting(path: Path) -> None:
        claimed = int(path.read_text())
        np.ones(claimed, np.uint8)

    reader = Reader("trusting", ".txt", _const(b""), trusting)
    read_or_refuse(reader, scratch / "t.txt", b"1000")
    with pytest.raises(AssertionError, match="bytes allocated"):
        read_or_refuse(reader, scratch / "t.txt", str(PEAK_BYTES * 2).encode())


def test_the_property_fails_a_reader_that_works_too_long(scratch: Path, monkeypatch) -> None:
    import sys

    def busy(path: Path) -> None:
        end = time.process_time() + 0.05
        while time.process_time() < end:
            pass

    monkeypatch.setattr(sys.modules[__name__], "CPU_SECONDS", 0.01)
    with pytest.raises(AssertionError, match="s of CPU"):
        read_or_refuse(Reader("busy", ".txt", _const(b""), busy), scratch / "b.txt", b"x")


# ----------------------------------------------------------------------------- what the OS refuses

# The readers whose test helper reads the fuzzed path itself (it cannot be a folder).
_SELF_READ = {"load_native vocab.json", "load_native vectors.npy"}
OS_READERS = [r for r in READERS if r.name not in _SELF_READ]


@pytest.mark.parametrize("reader", OS_READERS, ids=[r.name for r in OS_READERS])
@pytest.mark.parametrize("kind, reason", [("missing", "no such file"), ("folder", "directory")])
def test_a_missing_file_or_a_folder_is_one_line_naming_it(
    reader: Reader, kind: str, reason: str, tmp_path: Path
) -> None:
    path = tmp_path / f"input{reader.suffix}"
    if kind == "folder":
        path.mkdir()
    with pytest.raises(FileAccessError) as info:
        reader.read(path)
    message = str(info.value)
    assert message.startswith(str(path)) and reason in message and "\n" not in message


@pytest.fixture()
def open_folder() -> Iterator[Path]:
    """A folder that the user `nobody` may enter (pytest's sit below one only root may)."""
    folder = Path(tempfile.mkdtemp(prefix="seqnlp-fuzz-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
@pytest.mark.parametrize("reader", OS_READERS, ids=[r.name for r in OS_READERS])
def test_an_unreadable_file_is_one_line_naming_it(
    reader: Reader, open_folder: Path, contents: dict[str, bytes]
) -> None:
    from tests.hostile.test_rows_readers import unprivileged

    path = open_folder / f"input{reader.suffix}"
    path.write_bytes(reader.pack(contents[reader.name]))
    path.chmod(0o600)
    reader.read(path)  # as root; also imports what the reader needs while it is readable
    with unprivileged(), pytest.raises(FileAccessError) as info:
        reader.read(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "permission denied" in message


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
@pytest.mark.parametrize("private", ["vocab.json", "vectors.npy", ""])
def test_an_unreadable_native_folder_is_one_line_naming_the_file(
    open_folder: Path, private: str
) -> None:
    from tests.hostile.test_rows_readers import unprivileged

    folder = open_folder / "native"
    folder.mkdir()
    (folder / "vocab.json").write_bytes(NATIVE_VOCAB)
    np.save(folder / "vectors.npy", VECTORS)
    load_vectors(folder)  # as root: imports what loading needs while it is readable
    (folder / private).chmod(0o600 if private else 0o700)  # "": the folder itself
    with unprivileged(), pytest.raises(FileAccessError) as info:
        load_vectors(folder)
    assert str(info.value).startswith(str(folder / private) if private else str(folder))
    assert "permission denied" in str(info.value)
