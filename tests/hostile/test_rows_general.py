"""Hostile rows for the command line as a whole: usage errors, model files, config files
and output paths (see conftest.py for what every row must satisfy)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from tests.hostile.conftest import Row, check_row, rows_params

pytestmark = pytest.mark.usefixtures("one_thread")

ZIP_CUT = (Path(__file__).resolve().parents[1] / "models" / "fixtures"
           / "classifier-release-0.1.pt").read_bytes()[:3000]
RANDOM = bytes(range(256)) * 20


def _pickle_that_runs_code() -> bytes:
    import pickle

    class Payload:
        def __reduce__(self) -> tuple:
            return (os.system, ("echo pwned > pwned.txt",))

    return pickle.dumps(Payload())


ROWS = [
    # usage errors: one line, exit 2, naming the command whose --help explains it
    Row("unknown-option", ("classify", "train", "--nope"), words=("--nope", "classify train --help"),
        code=2),
    Row("bad-int", ("lm", "train", "--epochs", "abc"), words=("--epochs",), code=2),
    Row("missing-argument", ("classify", "predict"), words=("model",), code=2),
    Row("unknown-command", ("frobnicate",), words=("frobnicate",), code=2),
    Row("epochs-zero", ("classify", "train", "--data", "{tsv}", "--epochs", "0", "-o", "m.pt"),
        words=("--epochs", "at least 1")),
    Row("dropout-one", ("classify", "train", "--data", "{tsv}", "--dropout", "1", "-o", "m.pt"),
        words=("--dropout",)),
    # model files: wrong kind, truncated, random, a pickle that would run code, a folder
    Row("lm-to-classify", ("classify", "predict", "{lm}", "good"),
        words=("language_model", "seqnlp lm")),
    Row("classifier-to-lm", ("lm", "generate", "{classifier}"),
        words=("sequence-classifier", "seqnlp classify")),
    Row("classifier-to-lm-score", ("lm", "score", "{classifier}"), stdin=b"the cat\n",
        words=("seqnlp classify",)),
    Row("truncated-model", ("classify", "predict", "cut.pt", "good"), files={"cut.pt": ZIP_CUT},
        words=("cut.pt", "truncated")),
    Row("random-model", ("lm", "generate", "rand.pt"), files={"rand.pt": RANDOM},
        words=("rand.pt", "not a readable seqnlp model")),
    Row("pickle-model", ("classify", "predict", "evil.pt", "x"),
        files={"evil.pt": _pickle_that_runs_code()}, words=("evil.pt", "never contains")),
    Row("empty-model", ("classify", "eval", "empty.pt", "--data", "{tsv}"),
        files={"empty.pt": b""}, words=("empty.pt",)),
    Row("folder-model", ("lm", "generate", "d"), files={"d/": b""}, words=("d", "folder")),
    Row("missing-model", ("classify", "predict", "nope.pt", "x"), words=("nope.pt", "no such")),
    Row("ensemble-wrong-kind", ("classify", "eval", "{classifier}", "-e", "{lm}", "--data",
                                "{tsv}"), words=("language_model",)),
    Row("config-of-lm-with-classify", ("classify", "config", "{lm}"), words=("seqnlp lm",)),
    # configuration files
    Row("config-missing", ("classify", "train", "--config", "none.toml", "-o", "m.pt"),
        words=("none.toml", "no such configuration file")),
    Row("config-not-toml", ("classify", "train", "--config", "c.toml", "-o", "m.pt"),
        files={"c.toml": b"[model\nencoder = "}, words=("c.toml", "not a TOML file")),
    Row("config-unknown-table", ("lm", "train", "--config", "c.toml", "-o", "m.pt"),
        files={"c.toml": b"[optimizer]\nlr = 1\n"}, words=("c.toml", "unknown table [optimizer]")),
    Row("config-unknown-key", ("lm", "train", "--config", "c.toml", "-o", "m.pt"),
        files={"c.toml": b"[model]\nhiden_size = 10\n"}, words=("c.toml", "hiden_size")),
    Row("config-wrong-type", ("classify", "train", "--config", "c.toml", "-o", "m.pt"),
        files={"c.toml": b"[data]\ndata = 'x'\n[trainer]\nepochs = 'many'\n"},
        words=("c.toml", "epochs", "int")),
    Row("config-binary", ("classify", "train", "--config", "c.toml", "-o", "m.pt"),
        files={"c.toml": b"\xff\xfe\x00garbage"}, words=("c.toml", "UTF-8")),
    Row("config-folder", ("classify", "train", "--config", "cdir", "-o", "m.pt"),
        files={"cdir/": b""}, words=("cdir", "folder")),
    # output paths are checked before any work
    Row("output-is-folder", ("classify", "train", "--data", "{tsv}", "-o", "out"),
        files={"out/": b""}, words=("out", "folder")),
    Row("output-missing-folder", ("lm", "train", "--data", "{text}", "-o", "no/such/m.pt"),
        words=("no/such/m.pt", "does not exist")),
    Row("checkpoint-dir-is-file", ("classify", "train", "--data", "{tsv}", "-o", "m.pt",
                                   "--checkpoint-dir", "f"), files={"f": b"x"},
        words=("f", "--checkpoint-dir")),
    Row("log-is-folder", ("lm", "train", "--data", "{text}", "-o", "m.pt", "--log", "logs"),
        files={"logs/": b""}, words=("logs", "--log")),
    Row("resume-without-checkpoints", ("classify", "train", "--data", "{tsv}", "-o", "m.pt",
                                       "--resume"), words=("--resume", "--checkpoint-dir")),
    # word vectors
    Row("vectors-folder", ("w2v", "similar", "d", "the"), files={"d/": b""},
        words=("d", "directory")),
    Row("vectors-missing", ("w2v", "similar", "none.bin", "the"), words=("none.bin", "no such")),
    Row("vectors-gzip-bomb", ("w2v", "similar", "b.bin.gz", "w"),
        files={"b.bin.gz": gzip.compress(b"1 1000000000\nw " + bytes(1 << 20))},
        words=("b.bin.gz", "vector size"), timeout=20),
    Row("vectors-nan", ("w2v", "similar", "v.txt", "a"),
        files={"v.txt": b"2 2\na 1 2\nb nan 4\n"}, words=("v.txt", "NaN")),
]


@pytest.mark.parametrize("row", rows_params(ROWS))
def test_row(row: Row, hostile_env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    check_row(row, hostile_env, capsys)
