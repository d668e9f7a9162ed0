"""Hostile rows for the readers behind `seqnlp w2v`: word-vector files (text, binary,
compressed, native), training corpora and evaluation sets; plus unreadable files, run as
an unprivileged user (see conftest.py for what every row must satisfy)."""

from __future__ import annotations

import contextlib
import gzip
import lzma
import os
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.hostile.conftest import Row, check_row, rows_params, run_row

pytestmark = pytest.mark.usefixtures("one_thread")

RANDOM = bytes(random.Random(11).randrange(256) for _ in range(4096))


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _xz(data: bytes) -> bytes:
    return lzma.compress(data)


def _f32(*values: float) -> bytes:
    return np.array(values, "<f4").tobytes()


# ----------------------------------------------------------------------------- native

def _vocab(**changes: object) -> bytes:
    import json

    meta = {"format": "seqnlp.keyedvectors", "format_version": 1, "vector_size": 2,
            "index_to_key": ["a", "b"], "counts": [5, 3]}
    meta.update(changes)
    return json.dumps(meta).encode()


def _npy(shape: str = "(2, 2)", data: bytes = _f32(1, 2, 3, 4), descr: str = "<f4") -> bytes:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}".encode()
    header += b" " * (127 - 10 - len(header)) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + data


def _native(vocab: bytes | None = None, npy: bytes | None = None) -> dict[str, bytes]:
    """A native vectors folder `n/`, valid where an argument is None."""
    return {"n/vocab.json": _vocab() if vocab is None else vocab,
            "n/vectors.npy": _npy() if npy is None else npy}


def native_row(name: str, words: tuple[str, ...], **parts: bytes) -> Row:
    return Row(f"native-{name}", ("w2v", "similar", "n", "a"), files=_native(**parts),
               words=words)


# ----------------------------------------------------------------------------- corpora

def _corpus(lines: int = 3000) -> bytes:
    rng = random.Random(5)
    words = [f"w{i}" for i in range(800)]
    return "".join(" ".join(rng.choices(words, k=rng.randint(3, 14))) + "\n"
                   for _ in range(lines)).encode()


def _line_of_damage(archive: bytes, gz: bool) -> int:
    """The line of the first byte that a decoder fed one byte at a time cannot deliver."""
    import zlib

    decoder = zlib.decompressobj(wbits=31) if gz else lzma.LZMADecompressor()
    newlines = 0
    for position in range(len(archive)):
        try:
            newlines += decoder.decompress(archive[position : position + 1]).count(b"\n")
        except (zlib.error, lzma.LZMAError):
            break
    return newlines + 1


def _damaged_middle() -> bytes:
    archive = bytearray(_xz(_corpus()))
    middle = len(archive) // 2
    archive[middle : middle + 16] = bytes(16)
    return bytes(archive)


DAMAGED_XZ = _damaged_middle()
CUT_GZ = _gz(_corpus())[:9000]
CUT_XZ = _xz(_corpus())[:6000]
TRUTH = {"xz": _line_of_damage(DAMAGED_XZ, gz=False), "cut-gz": _line_of_damage(CUT_GZ, gz=True),
         "cut-xz": _line_of_damage(CUT_XZ, gz=False)}


def train_row(name: str, corpus: str, files: dict[str, bytes], words: tuple[str, ...],
              *extra: str) -> Row:
    return Row(f"train-{name}", ("w2v", "train", corpus, "-o", "out.bin", "--min-count", "1",
                                 "--epochs", "1", *extra), files=files, words=words)


# ----------------------------------------------------------------------------- the rows

COMMANDS = {  # each query command, with what follows the vectors argument
    "similar": ("the",), "analogy": ("the", "cat", "sat"),
    "eval": ("--wordsim", "{tsv}"), "plot": ("--words", "the,cat", "-o", "plot.png"),
}

ROWS = [
    # word2vec files whose header lies: refused from the header, before any allocation
    Row("vectors-xz-bomb", ("w2v", "similar", "b.bin.xz", "w"),
        files={"b.bin.xz": _xz(b"1 1000000000\nw " + bytes(4 << 20))},
        words=("b.bin.xz", "line 1", "vector size 1,000,000,000"), timeout=20),
    Row("vectors-gz-claims-a-million-words", ("w2v", "similar", "b.bin.gz", "w"),
        files={"b.bin.gz": _gz(b"1000000 65536\nw " + bytes(4 << 20))},
        words=("b.bin.gz", "word 2", "no space"), timeout=20),
    Row("vectors-plain-claims-more-than-the-file", ("w2v", "similar", "h.txt", "the"),
        files={"h.txt": b"3000000000 300\nthe 0.1\n"},
        words=("h.txt", "line 1", "3000000000 words", "only 8 bytes follow")),
    Row("vectors-count-over-limit", ("w2v", "similar", "h.txt", "the"),
        files={"h.txt": b"99999999999 3\nthe 1 2 3\n"}, words=("h.txt", "4,294,967,296")),
    Row("vectors-header-not-numbers", ("w2v", "similar", "h.txt", "the"),
        files={"h.txt": b"four three\nthe 1 2 3\n"}, words=("h.txt", "line 1", "header")),
    Row("vectors-empty", ("w2v", "similar", "e.txt", "the"), files={"e.txt": b""},
        words=("e.txt", "empty")),
    # rows cut short, or holding what is not a finite number
    Row("vectors-binary-cut-inside-a-vector", ("w2v", "similar", "c.bin", "a"),
        files={"c.bin": b"2 3\na " + _f32(1, 2, 3) + b"\nb " + _f32(1, 2, 3)[:7]},
        words=("c.bin", "only 24 bytes follow")),
    Row("vectors-binary-gz-cut-inside-a-vector", ("w2v", "similar", "c.bin.gz", "a"),
        files={"c.bin.gz": _gz(b"2 3\na " + _f32(1, 2, 3) + b"\nb " + _f32(1, 2, 3)[:7])},
        words=("c.bin.gz", "word 2", "inside its vector")),
    Row("vectors-text-gz-fewer-rows-than-declared", ("w2v", "similar", "c.txt.gz", "a"),
        files={"c.txt.gz": _gz(b"3 2\na 1 2\nb 3 4\n")},
        words=("c.txt.gz", "line 4", "after 2 words", "declares 3")),
    Row("vectors-binary-inf", ("w2v", "similar", "i.bin", "a"),
        files={"i.bin": b"2 2\na " + _f32(1, 2) + b"\nb " + _f32(np.inf, 2) + b"\n"},
        words=("i.bin", "word 2", "NaN or infinity")),
    Row("vectors-text-beyond-float32", ("w2v", "analogy", "o.txt", "a", "b", "a"),
        files={"o.txt": b"2 2\na 1 2\nb 1e39 4\n"}, words=("o.txt", "line 3", "infinity")),
    Row("vectors-xz-nan", ("w2v", "eval", "n.txt.xz", "--wordsim", "{tsv}"),
        files={"n.txt.xz": _xz(b"2 2\na 1 2\nb nan 4\n")}, words=("n.txt.xz", "line 3", "NaN")),
    Row("vectors-too-few-values", ("w2v", "similar", "v.txt", "a"),
        files={"v.txt": b"2 3\na 1 2 3\nb 1 2\n"}, words=("v.txt", "line 3", "expected 3 values")),
    Row("vectors-not-a-number", ("w2v", "similar", "v.txt", "a"),
        files={"v.txt": b"1 2\na 1 x\n"}, words=("v.txt", "line 2", "'x' is not a number")),
    Row("vectors-invalid-utf8-word", ("w2v", "similar", "v.txt", "a"),
        files={"v.txt": b"1 2\n\xff 1 2\n"}, words=("v.txt", "line 2", "invalid UTF-8")),
    # every query command on a random file, a missing file and a folder
    *(Row(f"vectors-random-{cmd}", ("w2v", cmd, "rand.bin", *rest), files={"rand.bin": RANDOM},
          words=("rand.bin", "header")) for cmd, rest in COMMANDS.items()),
    *(Row(f"vectors-missing-{cmd}", ("w2v", cmd, "none.bin", *rest),
          words=("none.bin", "no such file")) for cmd, rest in COMMANDS.items()),
    *(Row(f"vectors-folder-{cmd}", ("w2v", cmd, "d", *rest), files={"d/": b""},
          words=("d", "directory")) for cmd, rest in COMMANDS.items()),
    Row("plot-output-is-folder", ("w2v", "plot", "{vectors}", "--words", "the,cat", "-o", "out"),
        files={"out/": b""}, words=("out", "cannot write", "directory")),
    # the native format: nothing in vocab.json or the .npy header is trusted
    native_row("negative-count", ("n/vocab.json", "counts"), vocab=_vocab(counts=[5, -3])),
    native_row("counts-not-a-list", ("n/vocab.json", "counts"), vocab=_vocab(counts="many")),
    native_row("counts-too-few", ("n/vocab.json", "counts has 1 entries"),
               vocab=_vocab(counts=[5])),
    native_row("duplicate-keys", ("n/vocab.json", "'a' twice"),
               vocab=_vocab(index_to_key=["a", "a"])),
    native_row("keys-not-strings", ("n/vocab.json", "list of strings"),
               vocab=_vocab(index_to_key=["a", 2])),
    native_row("vector-size-huge", ("n/vocab.json", "vector_size"),
               vocab=_vocab(vector_size=10**12)),
    native_row("format-version", ("n/vocab.json", "format_version 7"),
               vocab=_vocab(format_version=7)),
    native_row("vocab-not-json", ("n/vocab.json", "invalid JSON"), vocab=b"{\"format\": "),
    native_row("vocab-nested-deeply", ("n/vocab.json", "nested too deeply"),
               vocab=b"[" * 200_000),
    native_row("npy-shape-lies", ("n/vectors.npy", "(1000000000000, 2)", "does not match"),
               npy=_npy("(1000000000000, 2)")),
    native_row("npy-header-length-2gib", ("n/vectors.npy", "2,147,483,648 bytes"),
               npy=b"\x93NUMPY\x02\x00" + (2**31).to_bytes(4, "little") + b"{'descr'"),
    native_row("npy-truncated", ("n/vectors.npy", "16 bytes of data", "holds 9"),
               npy=_npy(data=_f32(1, 2, 3, 4)[:9])),
    native_row("npy-float64", ("n/vectors.npy", "float32"),
               npy=_npy(descr="<f8", data=bytes(32))),
    native_row("npy-nan", ("n/vectors.npy", "NaN"), npy=_npy(data=_f32(1, 2, np.nan, 4))),
    native_row("npy-random", ("n/vectors.npy", "not a readable .npy"), npy=RANDOM),
    Row("native-npy-missing", ("w2v", "similar", "n", "a"),
        files={"n/vocab.json": _vocab()}, words=("n/vectors.npy", "missing")),
    # training corpora: the line of the damage, the file that is empty, no huge "word"
    train_row("xz-damaged-in-the-middle", "c.txt.xz", {"c.txt.xz": DAMAGED_XZ},
              ("c.txt.xz", f"line {TRUTH['xz']}:", "corrupt")),
    train_row("gz-cut-in-the-middle", "c.txt.gz", {"c.txt.gz": CUT_GZ},
              ("c.txt.gz", f"line {TRUTH['cut-gz']}:", "truncated")),
    train_row("xz-cut-in-the-middle", "c.txt.xz", {"c.txt.xz": CUT_XZ},
              ("c.txt.xz", f"line {TRUTH['cut-xz']}:", "truncated")),
    train_row("empty", "e.txt", {"e.txt": b""}, ("e.txt", "no words")),
    train_row("blank-lines-only", "e.txt", {"e.txt": b"\n \n\t\r\n"}, ("e.txt", "no words")),
    train_row("empty-xz", "e.txt.xz", {"e.txt.xz": _xz(b"")}, ("e.txt.xz", "no words")),
    train_row("two-megabyte-word", "w.txt", {"w.txt": b"a b c\n" + b"x" * (2 << 20) + b"\n"},
              ("w.txt", "line 2", "without a space")),
    train_row("invalid-utf8-in-the-middle", "u.txt",
              {"u.txt": b"the cat sat\n" * 500 + b"the \xff cat\n" + b"the dog\n" * 100},
              ("u.txt", "line 501", "byte offset 6004")),
    train_row("folder", "d", {"d/": b""}, ("d", "directory")),
    train_row("missing", "none.txt", {}, ("none.txt", "no such file")),
    Row("train-output-is-folder", ("w2v", "train", "{text}", "-o", "out", "--min-count", "1"),
        files={"out/": b""}, words=("out", "cannot write", "directory")),
    Row("train-model-is-folder", ("w2v", "train", "{text}", "-o", "v.bin", "--model", "m"),
        files={"m/": b""}, words=("m", "cannot write", "directory")),
    # evaluation sets given to `w2v eval`
    Row("eval-analogy-three-words", ("w2v", "eval", "{vectors}", "--analogies", "q.txt"),
        files={"q.txt": b": s\nthe cat sat mat\nthe cat sat\n"},
        words=("q.txt", "line 3", "expected 4 words")),
    Row("eval-analogy-before-section", ("w2v", "eval", "{vectors}", "--analogies", "q.txt"),
        files={"q.txt": b"the cat sat mat\n"}, words=("q.txt", "line 1", "section")),
    Row("eval-analogy-no-questions", ("w2v", "eval", "{vectors}", "--analogies", "q.txt"),
        files={"q.txt": b": capital\n\n"}, words=("q.txt", "no questions")),
    Row("eval-analogy-empty", ("w2v", "eval", "{vectors}", "--analogies", "q.txt"),
        files={"q.txt": b""}, words=("q.txt", "empty")),
    Row("eval-analogy-random", ("w2v", "eval", "{vectors}", "--analogies", "q.txt"),
        files={"q.txt": b"\xff" + RANDOM}, words=("q.txt", "line 1", "invalid UTF-8")),
    Row("eval-analogy-folder", ("w2v", "eval", "{vectors}", "--analogies", "d"),
        files={"d/": b""}, words=("d", "directory")),
    Row("eval-wordsim-missing", ("w2v", "eval", "{vectors}", "--wordsim", "none.tsv"),
        words=("none.tsv", "no such file")),
    Row("eval-wordsim-bad-score", ("w2v", "eval", "{vectors}", "--wordsim", "p.tsv"),
        files={"p.tsv": b"the\tcat\t5\nsat\tmat\tlots\n"},
        words=("p.tsv", "line 2", "'lots' is not a number")),
    Row("eval-wordsim-nan-score", ("w2v", "eval", "{vectors}", "--wordsim", "p.tsv"),
        files={"p.tsv": b"the\tcat\tnan\n"}, words=("p.tsv", "line 1", "not a finite number")),
    Row("eval-simlex-two-fields", ("w2v", "eval", "{vectors}", "--simlex", "p.tsv"),
        files={"p.tsv": b"# simlex\nthe\tcat\n"}, words=("p.tsv", "line 2", "expected 3 fields")),
    Row("eval-simlex-same-scores", ("w2v", "eval", "{vectors}", "--simlex", "p.tsv"),
        files={"p.tsv": b"the\tcat\t5\nsat\tmat\t5\n"}, words=("p.tsv", "same human score")),
    Row("eval-wordsim-too-few-known", ("w2v", "eval", "{vectors}", "--wordsim", "p.tsv"),
        files={"p.tsv": b"the\tcat\t5\nzebra\tyak\t3\n"}, words=("p.tsv", "only 1 of 2 pairs")),
    Row("eval-wordsim-no-pairs", ("w2v", "eval", "{vectors}", "--wordsim", "p.tsv"),
        files={"p.tsv": b"# only a comment\n"}, words=("p.tsv", "no word pairs")),
]


def test_the_damage_is_well_inside_the_corpora() -> None:
    """The rows above would prove little if the damage were on line 1 (the old answer)."""
    assert all(300 < line < 3000 for line in TRUTH.values()), TRUTH


@pytest.mark.parametrize("row", rows_params(ROWS))
def test_row(row: Row, hostile_env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    check_row(row, hostile_env, capsys)


# ----------------------------------------------------------------------------- unreadable files

NOBODY = 65534


@contextlib.contextmanager
def unprivileged() -> Iterator[None]:
    """Run the block with the effective user and group `nobody` (the tests run as root, who
    may read any file whatever its mode); root again afterwards."""
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


# (row, the files or folders in it that only root may read)
UNREADABLE = [
    (Row("unreadable-vectors", ("w2v", "similar", "v.txt", "the"),
         files={"v.txt": b"1 2\nthe 1 2\n"}, words=("v.txt", "permission denied")), ["v.txt"]),
    (Row("unreadable-corpus", ("w2v", "train", "c.txt", "-o", "out.bin", "--min-count", "1"),
         files={"c.txt": b"the cat sat\n"}, words=("c.txt", "permission denied")), ["c.txt"]),
    (Row("unreadable-wordsim", ("w2v", "eval", "v.txt", "--wordsim", "p.tsv"),
         files={"v.txt": b"2 2\nthe 1 2\ncat 2 1\n", "p.tsv": b"the\tcat\t5\n"},
         words=("p.tsv", "permission denied")), ["p.tsv"]),
    (Row("unreadable-native-matrix", ("w2v", "similar", "n", "a"), files=_native(),
         words=("n/vectors.npy", "permission denied")), ["n/vectors.npy"]),
    (Row("unreadable-native-folder", ("w2v", "similar", "n", "a"), files=_native(),
         words=("n/vocab.json", "permission denied")), ["n"]),
]


@pytest.fixture()
def open_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """A working folder and a data home that `nobody` may enter (pytest's temporary
    folders sit below one that only root may: tempfile, for one, makes paths absolute)."""
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="seqnlp-hostile-", dir="/tmp"))
    try:
        env = {"work": base / "work", "home": base / "home"}
        base.chmod(0o755)
        env["work"].mkdir(mode=0o777)
        env["work"].chmod(0o777)  # as umask allows: nobody must pass the output check
        env["home"].mkdir()
        monkeypatch.setenv("SEQNLP_DATA", str(env["home"]))
        monkeypatch.chdir(env["work"])
        yield env
    finally:
        shutil.rmtree(base)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
@pytest.mark.parametrize("row, private", [pytest.param(r, p, id=r.id) for r, p in UNREADABLE])
def test_an_unreadable_file_is_one_line(
    row: Row, private: list[str], open_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    work = open_env["work"]
    for name, content in row.files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_bytes(content)
    # Once as root, with every file readable: Python's standard library, which typer and
    # numba import lazily, is readable by root only in this environment.
    bare = Row(row.id, row.args, words=row.words, timeout=row.timeout)
    present = set(os.listdir(work))
    run_row(bare, open_env, capsys)
    for name in set(os.listdir(work)) - present:
        (work / name).unlink()  # what the successful run wrote
    for name in private:
        (work / name).chmod(0o700 if (work / name).is_dir() else 0o600)
    with unprivileged():
        check_row(bare, open_env, capsys)
