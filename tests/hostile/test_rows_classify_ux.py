"""Hostile rows for what issue 15 added to `seqnlp classify`: string labels, `--dev FILE`,
`--widths`, `eval --split` of a file and `eval --threads` (see conftest.py for what every
row must satisfy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.conftest import GOOD_TSV, Row, check_row, rows_params

pytestmark = pytest.mark.usefixtures("one_thread")


def tsv(lines: list[str]) -> bytes:
    return "".join(line + "\n" for line in lines).encode("utf-8")


NAMES = [f"{'pos' if i % 2 else 'neg'}\tfilm number {i}" for i in range(40)]
TRAIN = ("classify", "train", "--epochs", "1", "--hidden-size", "4", "--embedding-dim", "4",
         "-o", "m.pt", "--data")
TRAIN_NAMES = (*TRAIN, "n.tsv")
NAMED = {"n.tsv": tsv(NAMES)}
EVAL = ("classify", "eval", "{classifier}", "--data")  # labels negative and positive

ROWS = [
    # string labels: one form per file, no empty or padded names, at least two classes
    Row("names-then-index", TRAIN_NAMES, files={"n.tsv": tsv(NAMES + ["1\tx"])},
        words=("n.tsv, line 41", "label '1' is a class index", "line 1's label 'neg'")),
    Row("index-then-names", (*TRAIN, "d.tsv"),
        files={"d.tsv": GOOD_TSV.encode() + b"pos\tx\n"},
        words=("d.tsv, line 41", "label 'pos' is not a non-negative integer", "line 1's")),
    Row("name-empty", TRAIN_NAMES, files={"n.tsv": tsv(NAMES + ["\tno label"])},
        words=("line 41", "empty label")),
    Row("name-padded", TRAIN_NAMES, files={"n.tsv": tsv(NAMES + ["pos \tx"])},
        words=("line 41", "'pos '", "spaces around")),
    Row("names-one-class", TRAIN_NAMES, files={"n.tsv": tsv(["pos\ta film"] * 9)},
        words=("n.tsv", "every line is labelled 'pos'", "9 lines", "two classes")),
    Row("name-escape", TRAIN_NAMES, files={"n.tsv": tsv(["\x1b[31m\tx"] * 3 + ["0\ty"])},
        words=("line 4", "\\x1b")),
    # --dev FILE
    Row("dev-missing", (*TRAIN_NAMES, "--dev", "nosuch.tsv"), files=NAMED,
        words=("nosuch.tsv", "no such file", "--dev")),
    Row("dev-folder", (*TRAIN_NAMES, "--dev", "dd"), files={**NAMED, "dd/": b""},
        words=("dd", "folder", "--dev")),
    Row("dev-is-output", (*TRAIN, "n.tsv", "--dev", "m.pt"), files={**NAMED, "m.pt": b"x"},
        words=("m.pt", "-o and --dev", "destroy")),
    Row("dev-empty", (*TRAIN_NAMES, "--dev", "e.tsv"), files={**NAMED, "e.tsv": b""},
        words=("e.tsv", "empty")),
    Row("dev-unknown-name", (*TRAIN_NAMES, "--dev", "v.tsv"),
        files={**NAMED, "v.tsv": tsv(["pos\ta", "neutral\tb"])},
        words=("v.tsv, line 2", "'neutral'", "training data's labels", "neg, pos")),
    Row("dev-index-outside", (*TRAIN, "{tsv}", "--dev", "v.tsv"),
        files={"v.tsv": tsv(["0\ta", "1\tb", "2\tc"])},
        words=("v.tsv, line 3", "label 2", "outside the training data's 2 classes")),
    Row("dev-names-for-index-training", (*TRAIN, "{tsv}", "--dev", "v.tsv"),
        files={"v.tsv": tsv(["pos\ta"])}, words=("v.tsv, line 1", "'pos'", "0, 1")),
    Row("dev-mixed", (*TRAIN_NAMES, "--dev", "v.tsv"),
        files={**NAMED, "v.tsv": tsv(["pos\ta", "0\tb"])},
        words=("v.tsv, line 2", "class index")),
    Row("dev-bad-utf8", (*TRAIN_NAMES, "--dev", "v.tsv"),
        files={**NAMED, "v.tsv": b"pos\ta\nneg\t\xff\n"}, words=("v.tsv, line 2", "UTF-8")),
    Row("dev-no-tab", (*TRAIN_NAMES, "--dev", "v.tsv"),
        files={**NAMED, "v.tsv": tsv(["pos\ta", "neg b"])}, words=("v.tsv, line 2", "TAB")),
    # --widths
    Row("widths-letters", (*TRAIN_NAMES, "--encoder", "tdnn", "--widths", "a,b"), files=NAMED,
        words=("--widths", "3,4,5", "'a,b'")),
    Row("widths-empty-item", (*TRAIN_NAMES, "--encoder", "tdnn", "--widths", "3,,5"),
        files=NAMED, words=("--widths", "'3,,5'")),
    Row("widths-zero", (*TRAIN_NAMES, "--encoder", "tdnn", "--widths", "0"), files=NAMED,
        words=("--widths", "[1, 64]", "0")),
    Row("widths-huge", (*TRAIN_NAMES, "--encoder", "tdnn", "--widths", "3,100000000000"),
        files=NAMED, words=("--widths", "[1, 64]")),
    Row("widths-negative", (*TRAIN_NAMES, "--encoder", "tdnn", "--widths", "-3"), files=NAMED,
        words=("--widths", "'-3'")),
    Row("widths-repeated", (*TRAIN_NAMES, "--encoder", "tdnn", "--widths", "3,3"), files=NAMED,
        words=("--widths", "distinct")),
    Row("widths-garbage-with-lstm", (*TRAIN_NAMES, "--encoder", "lstm", "--widths", "x"),
        files=NAMED, words=("--widths",)),
    # eval: a file's labels against the model's, its splits, threads
    Row("eval-unknown-name", (*EVAL, "v.tsv"),
        files={"v.tsv": tsv(["positive\ta", "negative\tb", "neutral\tc"])},
        words=("v.tsv, line 3", "'neutral'", "model's labels", "negative, positive")),
    Row("eval-mixed", (*EVAL, "v.tsv"), files={"v.tsv": tsv(["positive\ta", "1\tb"])},
        words=("v.tsv, line 2", "class index")),
    Row("eval-file-test-split", (*EVAL, "{tsv}", "--split", "test"),
        words=("no test split", "--split")),
    Row("eval-threads-negative", (*EVAL, "{tsv}", "--threads", "-1"), words=("--threads",)),
    Row("eval-threads-huge", (*EVAL, "{tsv}", "--threads", "100000"), words=("--threads",)),
]


@pytest.mark.parametrize("row", rows_params(ROWS))
def test_row(row: Row, hostile_env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    check_row(row, hostile_env, capsys)
