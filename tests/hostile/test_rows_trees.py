"""Hostile rows for `seqnlp trees` (see conftest.py for what every row must satisfy)."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pytest

from tests.hostile.conftest import Row, check_row, rows_params

pytestmark = pytest.mark.usefixtures("one_thread")


@functools.lru_cache(maxsize=1)
def model_bytes() -> bytes:
    """An (untrained) tree classifier file, as bytes."""
    from seqnlp.models.registry import save_model
    from seqnlp.models.tree_classifier import TreeClassifier, TreeClassifierConfig
    from seqnlp.text.vocab import Vocab

    vocab = Vocab(["<unk>", "the", "film"], specials=("<unk>",))
    model = TreeClassifier(TreeClassifierConfig(len(vocab), cell="rvnn", hidden_size=4,
                                                embedding_dim=4))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.pt"
        save_model(path, "tree-classifier", model, {"tokens": vocab},
                   {"label_names": ["0", "1", "2", "3", "4"], "data": "trees.txt"})
        return path.read_bytes()


GOOD = b"(3 (2 the) (3 film))\n" * 20


def train(name: str, content: bytes, *extra: str, words: tuple[str, ...] = ()) -> Row:
    return Row(f"train-{name}", ("trees", "train", "--data", "t.txt", "-o", "m.pt", *extra),
               files={"t.txt": content}, words=words)


def rows() -> list[Row]:
    model = model_bytes()
    return [
        train("unbalanced", GOOD + b"(2 (2 a) (2 b)\n", words=("t.txt", "line 21",
                                                              "unbalanced brackets")),
        train("label-range", b"(3 (2 a) (5 b))\n" + GOOD, words=("t.txt", "line 1",
                                                                "label 5 is outside")),
        train("empty-line", GOOD + b"\n" + GOOD, words=("t.txt", "line 21", "empty line")),
        train("empty-tree", b"()\n", words=("t.txt", "line 1", "missing label")),
        train("not-binary", b"(2 (2 a) (2 b) (2 c))\n", words=("t.txt", "line 1",
                                                              "binary trees")),
        train("empty-file", b"", words=("t.txt", "empty")),
        train("bad-utf8", GOOD + b"(2 \xff)\n", words=("t.txt", "line 21", "UTF-8")),
        train("unknown-model", GOOD, "--model", "gru", words=("--model", "rvnn")),
        train("all-dev", GOOD, "--dev-fraction", "0.9", words=("--dev-fraction", "at most")),
        Row("train-missing-data", ("trees", "train", "--data", "nosuch.txt", "-o", "m.pt"),
            words=("nosuch.txt", "no such file")),
        Row("train-unknown-name", ("trees", "train", "--data", "sst5", "-o", "m.pt"),
            words=("sst5", "tree")),
        Row("eval-bad-split", ("trees", "eval", "m.pt", "--split", "valid"),
            files={"m.pt": model}, words=("--split", "test, dev or train")),
        Row("eval-no-test", ("trees", "eval", "m.pt", "--data", "t.txt"),
            files={"m.pt": model, "t.txt": GOOD}, words=("t.txt", "no test split")),
        Row("eval-classifier", ("trees", "eval", "{classifier}"), words=("seqnlp classify",)),
        Row("predict-unbalanced", ("trees", "predict", "m.pt", "(2 (2 a)"),
            files={"m.pt": model}, words=("argument, line 1", "unbalanced")),
        Row("predict-label-stdin", ("trees", "predict", "m.pt"), files={"m.pt": model},
            stdin=b"the film\n(9 a)\n", words=("stdin, line 2", "label 9")),
        Row("predict-empty-stdin-line", ("trees", "predict", "m.pt"), files={"m.pt": model},
            stdin=b"the film\n\n", words=("stdin, line 2", "empty text")),
        Row("predict-bad-utf8", ("trees", "predict", "m.pt"), files={"m.pt": model},
            stdin=b"the \xff film\n", words=("stdin", "line 1", "UTF-8")),
        Row("predict-plot-folder", ("trees", "predict", "m.pt", "the film", "--plot", "d"),
            files={"m.pt": model, "d/": b""}, words=("d", "folder")),
        Row("predict-truncated-model", ("trees", "predict", "cut.pt", "the film"),
            files={"cut.pt": model[:400]}, words=("cut.pt", "truncated")),
        Row("predict-lm", ("trees", "predict", "{lm}", "the film"), words=("seqnlp lm",)),
    ]


@pytest.mark.parametrize("row", rows_params(rows()))
def test_row(row: Row, hostile_env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    check_row(row, hostile_env, capsys)
