"""Hostile rows for training data, the Trainer's numeric safety and the data home: careless
label<TAB>text files, dev cuts that empty a split, options that are not finite, a run
that diverges, datasets changed after their import, and what the operating system
refuses to `data get --from` and `data verify` (see conftest.py for what every row must
satisfy).

Rows that need a data home filled first (`HOME_ROWS`) name a setup run before the
snapshot; rows about permissions (`NOBODY_ROWS`) run as an unprivileged user, since root
reads every file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import tests.hostile.conftest as harness
from seqnlp.datasets import fetch
from tests.conftest import shared_file
from tests.hostile.conftest import GOOD_TSV, Row, check_row, rows_params

pytestmark = pytest.mark.usefixtures("one_thread")


def tsv(lines: list[str], end: str = "\n") -> bytes:
    return "".join(line + end for line in lines).encode("utf-8")


GOOD = GOOD_TSV.splitlines()  # 40 lines, labels 0 and 1
TRAIN = ("classify", "train", "--epochs", "1", "--hidden-size", "4", "--embedding-dim", "4",
         "-o", "m.pt", "--data")
TRAIN_GOOD = (*TRAIN, "{tsv}")

ROWS = [
    # classes from the labels present (a lone huge label once asked for terabytes)
    Row("label-huge", (*TRAIN, "d.tsv"), files={"d.tsv": tsv(GOOD + ["999999999999\tx"])},
        words=("d.tsv, line 41", "label 999999999999", "0..C-1", "missing: 2")),
    Row("label-fifty-million", (*TRAIN, "d.tsv"), files={"d.tsv": tsv(GOOD + ["50000000\tx"])},
        words=("d.tsv, line 41", "label 50000000")),
    Row("label-gap", (*TRAIN, "d.tsv"), files={"d.tsv": tsv(["0\ta", "2\tb"] * 5)},
        words=("line 2", "missing: 1", "renumber")),
    Row("labels-all-one", (*TRAIN, "d.tsv"), files={"d.tsv": tsv(["1\ta film"] * 9)},
        words=("d.tsv", "every line is labelled 1", "9 lines", "two classes")),
    Row("labels-all-zero-crlf", (*TRAIN, "d.tsv"),
        files={"d.tsv": tsv(["0\ta film"] * 5, end="\r\n")},
        words=("every line is labelled 0", "5 lines")),
    # labels that are not non-negative decimal integers
    Row("label-negative", (*TRAIN, "d.tsv"), files={"d.tsv": tsv(GOOD + ["-1\tx"])},
        words=("d.tsv, line 41", "'-1'")),
    Row("label-fraction", (*TRAIN, "d.tsv"), files={"d.tsv": tsv(GOOD + ["1.5\tx"])},
        words=("line 41", "'1.5'")),
    Row("label-leading-space", (*TRAIN, "d.tsv"), files={"d.tsv": tsv(GOOD + [" 1\tx"])},
        words=("line 41", "' 1'")),
    Row("label-arabic-indic-digit", (*TRAIN, "d.tsv"),
        files={"d.tsv": tsv(GOOD + ["\u0661\tx"])}, words=("line 41", "not a non-negative")),
    Row("label-bom-then-bad", (*TRAIN, "d.tsv"),
        files={"d.tsv": b"\xef\xbb\xbf" + tsv(["x\ta"] + GOOD)}, words=("line 1", "'x'")),
    # the shape of the file
    Row("tsv-no-tab", (*TRAIN, "d.tsv"), files={"d.tsv": tsv(GOOD + ["1 no tab here"])},
        words=("d.tsv, line 41", "missing TAB")),
    Row("tsv-empty-file", (*TRAIN, "d.tsv"), files={"d.tsv": b""},
        words=("d.tsv", "empty")),
    Row("tsv-blank-lines-only", (*TRAIN, "d.tsv"), files={"d.tsv": b"\n\n\n"},
        words=("d.tsv, line 1",)),
    Row("tsv-blank-line-inside", (*TRAIN, "d.tsv"),
        files={"d.tsv": tsv(GOOD[:5] + [""] + GOOD[5:])}, words=("d.tsv, line 6",)),
    Row("tsv-empty-texts", (*TRAIN, "d.tsv"), files={"d.tsv": tsv(["0\t", "1\t"] * 10)},
        words=("every training text is empty",)),
    Row("tsv-invalid-utf8", (*TRAIN, "d.tsv"), files={"d.tsv": tsv(GOOD) + b"1\t\xff\xfe\n"},
        words=("d.tsv, line 41", "UTF-8")),
    Row("tsv-is-folder", (*TRAIN, "dd"), files={"dd/": b""}, words=("dd", "folder")),
    Row("tsv-missing", (*TRAIN, "none.tsv"), words=("none.tsv", "no such file")),
    # dev cuts and limits that leave a split empty or one-class
    Row("dev-fraction-takes-all", (*TRAIN_GOOD, "--dev-fraction", "0.999"),
        words=("good.tsv", "nothing to train on", "train 0, dev 40", "--dev-fraction")),
    Row("dev-fraction-takes-none", (*TRAIN_GOOD, "--dev-fraction", "0.01"),
        words=("no dev example", "train 40, dev 0", "at least 0.025")),
    Row("dev-fraction-one", (*TRAIN_GOOD, "--dev-fraction", "1"),
        words=("--dev-fraction", "at most 0.999")),
    Row("dev-fraction-negative", (*TRAIN_GOOD, "--dev-fraction", "-0.1"),
        words=("--dev-fraction", "-0.1")),
    Row("no-dev-with-patience", (*TRAIN_GOOD, "--dev-fraction", "0", "--patience", "2"),
        words=("--patience 2", "needs a dev split", "--dev-fraction")),
    Row("train-limit-one-class", (*TRAIN_GOOD, "--train-limit", "1"),
        words=("every training example is of class", "train 1, dev 4", "--train-limit")),
    # numbers the Trainer refuses, and a run that diverges
    Row("lr-inf", (*TRAIN_GOOD, "--lr", "inf"), words=("lr", "finite", "inf")),
    Row("lr-nan", (*TRAIN_GOOD, "--lr", "nan"), words=("lr", "nan")),
    Row("lr-zero", (*TRAIN_GOOD, "--lr", "0"), words=("lr", "> 0")),
    Row("lr-diverges", (*TRAIN_GOOD, "--lr", "1e38"),
        words=("training diverged", "NaN or infinite", "nothing was saved", "--lr below")),
    Row("embeddings-nan", (*TRAIN_GOOD, "--embeddings", "v.txt"),
        files={"v.txt": b"2 4\nfine 1 2 3 4\nfilm nan 0 0 1\n"}, words=("v.txt", "NaN")),
    # scoring a file whose labels the model has no class for
    Row("eval-labels-outside", ("classify", "eval", "{classifier}", "--data", "d.tsv"),
        files={"d.tsv": tsv(["0\tgood", "7\tbad", "9\tfine"])},
        words=("outside the model's 2 classes", "7, 9")),
    # the data commands with careless names and paths
    Row("data-get-unknown", ("data", "get", "imbd"), words=("unknown dataset 'imbd'", "imdb")),
    Row("data-get-empty-name", ("data", "get", ""), words=("unknown dataset ''",)),
    Row("data-info-escape", ("data", "info", "\x1b[31mred"), words=("unknown dataset", "\\x1b")),
    Row("data-verify-unknown", ("data", "verify", "sts"), words=("did you mean 'sst'",)),
    Row("data-verify-absent", ("data", "verify", "ptb"),
        words=("ptb: 3 of 3 files failed", "seqnlp data get ptb")),
    Row("data-path-absent", ("data", "path", "imdb"),
        words=("not in the data home", "seqnlp data get imdb --from FOLDER")),
    Row("data-path-unknown", ("data", "path", "nope"), words=("unknown dataset 'nope'",)),
    Row("data-text-unknown", ("data", "text", "nope", "-o", "x.txt"),
        words=("unknown dataset 'nope'",)),
    Row("data-text-no-running-text", ("data", "text", "sst", "-o", "x.txt"),
        words=("no running text", "imdb, ptb, wikitext-2")),
    Row("data-text-absent", ("data", "text", "ptb", "-o", "x.txt"),
        words=("'ptb' is not in the data home",)),
    Row("data-text-output-folder", ("data", "text", "ptb", "-o", "out"), files={"out/": b""},
        words=("out", "is a directory")),
    Row("data-list-extra", ("data", "list", "sst"), words=("sst",), code=2),
    Row("get-from-missing", ("data", "get", "sst", "--from", "nowhere"),
        words=("nowhere", "no such folder")),
    Row("get-from-a-file", ("data", "get", "sst", "--from", "f"), files={"f": b"x"},
        words=("--from", "is a file"), code=2),
    Row("get-from-folder-for-file", ("data", "get", "wordsim", "--from", "src"),
        files={"src/simlex999.txt/": b""}, words=("simlex999.txt", "is a folder, not a file")),
    Row("get-from-wrong-folder", ("data", "get", "sst", "--from", "src"),
        files={"src/other.txt": b"x"}, words=("not found in src", "dev (dev.txt)")),
    Row("get-from-wrong-bytes", ("data", "get", "wordsim", "--from", "src"),
        files={"src/simlex999.txt": b"word1\tword2\t1.0\n", "src/wordsim353.tsv": b"a\tb\t1\n",
               "src/questions-words.txt": b": x\na b c d\n"},
        words=("sha256 mismatch", "expected", "nothing was installed")),
]


@pytest.mark.parametrize("row", rows_params(ROWS))
def test_row(row: Row, hostile_env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    check_row(row, hostile_env, capsys)


# ---------------------------------------------------------------------- a data home filled first

def flip_a_byte(path: Path, at: int = 200) -> None:
    """Change one byte in place: same size, a later modification time."""
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    info = path.stat()
    path.write_bytes(bytes(data))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def sst_with_a_byte_changed(home: Path) -> None:
    fetch("sst", from_dir=shared_file("sst"))
    flip_a_byte(home / "sst" / "dev.txt")


def imdb_with_a_byte_changed(home: Path) -> None:
    fetch("imdb", from_dir=shared_file("imdb"))
    flip_a_byte(home / "imdb" / "test.tsv.xz", at=100_000)


def sst_truncated_never_verified(home: Path) -> None:
    fetch("sst", from_dir=shared_file("sst"))
    (home / ".verified" / "sst.json").unlink()
    with open(home / "sst" / "train.txt.xz", "r+b") as handle:
        handle.truncate(1000)


def sst_with_a_folder_for_a_file(home: Path) -> None:
    fetch("sst", from_dir=shared_file("sst"))
    (home / "sst" / "dev.txt").unlink()
    (home / "sst" / "dev.txt").mkdir()


def sst_touched_with_a_folder_for_its_record(home: Path) -> None:
    fetch("sst", from_dir=shared_file("sst"))
    os.utime(home / "sst" / "test.txt")
    (home / ".verified" / "sst.json").unlink()
    (home / ".verified" / "sst.json").mkdir()
    (home / ".verified" / "sst.json" / "x").write_text("x")


def wordsim_with_a_byte_changed(home: Path) -> None:
    fetch("wordsim", from_dir=shared_file("wordsim"))
    flip_a_byte(home / "wordsim" / "simlex999.txt")


HOME_ROWS: list[tuple[Callable[[Path], None], Row]] = [
    (sst_with_a_byte_changed, Row("changed-sst-train", (*TRAIN, "sst5"),
                                  words=("dataset 'sst' has changed", "dev.txt was modified",
                                         "seqnlp data verify sst"))),
    (sst_with_a_byte_changed, Row("changed-sst-path", ("data", "path", "sst"),
                                  words=("has changed", "dev.txt"))),
    (sst_with_a_byte_changed, Row("changed-sst-verify", ("data", "verify", "sst"),
                                  words=("sst: 1 of 3 files failed", "seqnlp data get sst"))),
    (imdb_with_a_byte_changed, Row("changed-imdb-train", (*TRAIN, "imdb"),
                                   words=("test.tsv.xz was modified",
                                          "seqnlp data get imdb --from FOLDER"))),
    (imdb_with_a_byte_changed, Row("changed-imdb-text", ("data", "text", "imdb", "-o", "i.txt"),
                                   words=("'imdb' has changed",))),
    (sst_truncated_never_verified, Row("truncated-sst-train", (*TRAIN, "sst2"),
                                       words=("train.txt.xz has 1,000 bytes, not 399,760",))),
    (sst_with_a_folder_for_a_file, Row("folder-in-home-verify", ("data", "verify", "sst"),
                                       words=("1 of 3 files failed",))),
    (sst_with_a_folder_for_a_file, Row("folder-in-home-train", (*TRAIN, "sst5"),
                                       words=("incomplete", "missing: dev"))),
    (sst_touched_with_a_folder_for_its_record,
     Row("record-is-folder-verify", ("data", "verify", "sst"),
         words=("sst.json", "cannot write"))),
    (wordsim_with_a_byte_changed, Row("get-wrong-bytes-keeps-home", ("data", "get", "wordsim", "--from",
                                                         "src"),
                          files={"src/simlex999.txt": b"x\ty\t1\n",
                                 "src/wordsim353.tsv": b"a\tb\t1\n",
                                 "src/questions-words.txt": b": x\n"},
                          words=("sha256 mismatch",))),
]


def test_home_rows_have_distinct_ids() -> None:
    rows_params([row for _, row in HOME_ROWS] + ROWS)


@pytest.mark.parametrize(("setup", "row"), [pytest.param(s, r, id=r.id) for s, r in HOME_ROWS])
def test_home_row(setup: Callable[[Path], None], row: Row, hostile_env: dict[str, Path],
                  capsys: pytest.CaptureFixture[str]) -> None:
    setup(hostile_env["home"])
    check_row(row, hostile_env, capsys)


# ---------------------------------------------------------------------- as an unprivileged user

NOBODY = 65534


@contextlib.contextmanager
def unprivileged() -> Iterator[None]:
    """Run the block with the effective user and group of `nobody` (root reads every file
    whatever its mode); back to root after."""
    if os.geteuid() != 0:
        yield  # not root: the modes below deny already
        return
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture()
def nobody_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """Like `hostile_env`, in a folder that `nobody` can enter, with its entry point run
    unprivileged. Modules the commands import lazily are imported first: the
    interpreter's own files may not be readable by `nobody`."""
    import lzma  # noqa: F401 - imported lazily by the readers
    import seqnlp.datasets.fetch  # noqa: F401
    import seqnlp.datasets.stats  # noqa: F401
    import seqnlp.datasets.text_export  # noqa: F401
    import seqnlp.fileio  # noqa: F401
    import seqnlp.tasks.classification  # noqa: F401

    base = Path(tempfile.mkdtemp(prefix="seqnlp-nobody-", dir="/tmp"))
    try:
        base.chmod(0o755)
        env = {"work": base / "work", "home": base / "home", "tsv": base / "good.tsv"}
        for folder in (env["work"], env["home"]):
            folder.mkdir()
            if os.geteuid() == 0:
                os.chown(folder, NOBODY, NOBODY)
        env["tsv"].write_text(GOOD_TSV)
        monkeypatch.setenv("SEQNLP_DATA", str(env["home"]))
        monkeypatch.chdir(env["work"])
        real_main = harness.main

        def main_as_nobody(args: list[str]) -> None:
            with unprivileged():
                real_main(args)

        monkeypatch.setattr(harness, "main", main_as_nobody)
        yield env
    finally:
        shutil.rmtree(base, ignore_errors=True)


def sst_source_with_unreadable_dev(env: dict[str, Path]) -> None:
    source = env["work"] / "src"
    shutil.copytree(shared_file("sst"), source)
    for path in source.iterdir():
        path.chmod(0o644)
    (source / "dev.txt").chmod(0o000)
    source.chmod(0o755)


def sst_source_unreadable(env: dict[str, Path]) -> None:
    source = env["work"] / "src"
    shutil.copytree(shared_file("sst"), source)
    source.chmod(0o000)


def wordsim_home_unreadable_file(env: dict[str, Path]) -> None:
    fetch("wordsim", from_dir=shared_file("wordsim"))
    (env["home"] / "wordsim" / "simlex999.txt").chmod(0o000)


def home_not_writable(env: dict[str, Path]) -> None:
    shutil.copytree(shared_file("wordsim"), env["work"] / "src")
    if os.geteuid() == 0:
        os.chown(env["home"], 0, 0)
    env["home"].chmod(0o555)


def tsv_unreadable(env: dict[str, Path]) -> None:
    (env["work"] / "d.tsv").write_text(GOOD_TSV)
    (env["work"] / "d.tsv").chmod(0o000)


NOBODY_ROWS: list[tuple[Callable[[dict[str, Path]], None], Row]] = [
    (sst_source_with_unreadable_dev,
     Row("get-from-unreadable-file", ("data", "get", "sst", "--from", "src"),
         words=("src/dev.txt", "permission denied"))),
    (sst_source_unreadable,
     Row("get-from-unreadable-folder", ("data", "get", "sst", "--from", "src"),
         words=("src", "permission denied"))),
    (wordsim_home_unreadable_file,
     Row("verify-unreadable-file", ("data", "verify", "wordsim"),
         words=("simlex999.txt", "permission denied"))),
    (home_not_writable,
     Row("get-into-read-only-home", ("data", "get", "wordsim", "--from", "src"),
         words=("wordsim", "permission denied"))),
    (tsv_unreadable, Row("train-unreadable-tsv", (*TRAIN, "d.tsv"),
                         words=("d.tsv", "permission denied"))),
]


@pytest.mark.parametrize(("setup", "row"), [pytest.param(s, r, id=r.id) for s, r in NOBODY_ROWS])
def test_nobody_row(setup: Callable[[dict[str, Path]], None], row: Row,
                    nobody_env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    setup(nobody_env)
    try:
        check_row(row, nobody_env, capsys)
    finally:
        for path in [nobody_env["work"], nobody_env["home"], *nobody_env["work"].rglob("*")]:
            with contextlib.suppress(OSError):
                path.chmod(0o755)  # let the cleanup remove everything
