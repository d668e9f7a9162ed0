"""Hostile rows for `seqnlp tagger`, `seqnlp segment` and `seqnlp tag` (see conftest.py for
what every row must satisfy)."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pytest

from tests.hostile.conftest import Row, check_row, rows_params

pytestmark = pytest.mark.usefixtures("one_thread")


@functools.lru_cache(maxsize=2)
def tagger_bytes(task: str) -> bytes:
    """An (untrained) tagger model file of `task`, as bytes."""
    from seqnlp.models.registry import save_model
    from seqnlp.models.tagger import Tagger, TaggerConfig
    from seqnlp.text.vocab import Vocab

    tags = ("B", "M", "E", "S") if task == "cws" else ("O", "B-PER", "I-PER")
    scheme = "bmes" if task == "cws" else "bio"
    tokens = Vocab(["<pad>", "<unk>", "我", "爱", "the"], specials=("<pad>", "<unk>"))
    model = Tagger(TaggerConfig(vocab_size=len(tokens), tags=tags, scheme=scheme,
                                embedding_dim=4, hidden_size=4))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.pt"
        save_model(path, "tagger", model, {"tokens": tokens, "tags": Vocab(tags)},
                   {"task": task, "normalize": "width" if task == "cws" else ""})
        return path.read_bytes()


CWS_TEXT = "迈向  充满  希望  的  新  世纪\n中共中央  总书记\n".encode() * 20


def rows() -> list[Row]:
    cws, ner = tagger_bytes("cws"), tagger_bytes("ner")
    return [
        # tagger train
        Row("train-unknown-task", ("tagger", "train", "--task", "pos", "--data", "x", "-o", "m.pt"),
            words=("--task", "cws, ner")),
        Row("train-no-task", ("tagger", "train", "--data", "x", "-o", "m.pt"), words=("--task",)),
        Row("train-missing-data", ("tagger", "train", "--task", "cws", "--data", "nosuch.txt",
                                   "-o", "m.pt"), words=("nosuch.txt", "no such file")),
        Row("train-folder-data", ("tagger", "train", "--task", "ner", "--data", "d", "-o", "m.pt"),
            files={"d/": b""}, words=("d", "folder")),
        Row("train-empty-cws", ("tagger", "train", "--task", "cws", "--data", "e.txt", "-o",
                                "m.pt"), files={"e.txt": b""}, words=("e.txt", "empty")),
        Row("train-bad-utf8", ("tagger", "train", "--task", "cws", "--data", "b.txt", "-o",
                               "m.pt"), files={"b.txt": CWS_TEXT + b"\xff\xfe bad\n"},
            words=("b.txt", "line 41", "UTF-8")),
        Row("train-one-column", ("tagger", "train", "--task", "ner", "--data", "n.txt", "-o",
                                 "m.pt"), files={"n.txt": b"EU B-ORG\nrejects\n"},
            words=("n.txt", "line 2", "token and a tag")),
        Row("train-bad-tags", ("tagger", "train", "--task", "ner", "--data", "n.txt", "-o",
                               "m.pt"), files={"n.txt": b"EU X-ORG\nrejects O\n\n" * 30},
            words=("n.txt", "X", "not BIO")),
        Row("train-dev-fraction", ("tagger", "train", "--task", "cws", "--data", "c.txt",
                                   "--dev-fraction", "0.9", "-o", "m.pt"),
            files={"c.txt": CWS_TEXT}, words=("--dev-fraction", "at most 0.5")),
        Row("train-char-filters-cws", ("tagger", "train", "--task", "cws", "--data", "c.txt",
                                       "--char-filters", "8", "-o", "m.pt"),
            files={"c.txt": CWS_TEXT}, words=("--char-filters", "--task ner")),
        Row("train-bigram-vectors-ner", ("tagger", "train", "--task", "ner", "--data", "n.txt",
                                         "--bigram-embeddings", "v.txt", "-o", "m.pt"),
            files={"n.txt": b"EU B-ORG\nrejects O\n\n" * 30, "v.txt": b"1 2\nab 1 2\n"},
            words=("--bigram-embeddings", "--task cws")),
        Row("train-bigram-vectors-missing", ("tagger", "train", "--task", "cws", "--data",
                                             "c.txt", "--bigram-embeddings", "none.vec", "-o",
                                             "m.pt"), files={"c.txt": CWS_TEXT},
            words=("none.vec", "no such file")),
        Row("train-bigram-vectors-nan", ("tagger", "train", "--task", "cws", "--data", "c.txt",
                                         "--bigram-embeddings", "v.txt", "-o", "m.pt"),
            files={"c.txt": CWS_TEXT, "v.txt": "2 2\n迈向 1 2\n充满 nan 0\n".encode()},
            words=("v.txt", "NaN")),
        Row("train-lexicon-missing", ("tagger", "train", "--task", "cws", "--data", "c.txt",
                                      "--lexicon", "none.txt", "-o", "m.pt"),
            files={"c.txt": CWS_TEXT}, words=("none.txt", "no such file")),
        Row("train-lexicon-two-words", ("tagger", "train", "--task", "cws", "--data", "c.txt",
                                        "--lexicon", "w.txt", "-o", "m.pt"),
            files={"c.txt": CWS_TEXT, "w.txt": "迈向\n充满 希望\n".encode()},
            words=("w.txt", "line 2", "one word per line")),
        Row("train-lexicon-ner", ("tagger", "train", "--task", "ner", "--data", "n.txt",
                                  "--lexicon", "w.txt", "-o", "m.pt"),
            files={"n.txt": b"EU B-ORG\nrejects O\n\n" * 30, "w.txt": "迈向\n".encode()},
            words=("--lexicon", "--task cws")),
        Row("train-word-dropout-one", ("tagger", "train", "--task", "cws", "--data", "c.txt",
                                       "--word-dropout", "1", "-o", "m.pt"),
            files={"c.txt": CWS_TEXT}, words=("--word-dropout",)),
        Row("train-ema-one", ("tagger", "train", "--task", "cws", "--data", "c.txt", "--ema",
                              "1", "-o", "m.pt"), files={"c.txt": CWS_TEXT}, words=("--ema",)),
        Row("train-output-folder", ("tagger", "train", "--task", "cws", "--data", "c.txt",
                                    "-o", "out"), files={"c.txt": CWS_TEXT, "out/": b""},
            words=("out", "folder")),
        Row("train-hidden-zero", ("tagger", "train", "--task", "cws", "--data", "c.txt",
                                  "--hidden-size", "0", "-o", "m.pt"),
            files={"c.txt": CWS_TEXT}, words=("--hidden-size", "at least 1")),
        Row("train-lr-inf", ("tagger", "train", "--task", "cws", "--data", "c.txt", "--lr",
                             "inf", "-o", "m.pt"), files={"c.txt": CWS_TEXT},
            words=("--lr", "finite")),
        Row("train-tiny-file", ("tagger", "train", "--task", "cws", "--data", "c.txt", "-o",
                                "m.pt"), files={"c.txt": "一  二\n".encode()},
            words=("c.txt", "sentence")),
        # tagger eval
        Row("eval-classifier", ("tagger", "eval", "{classifier}", "--data", "c.txt"),
            files={"c.txt": CWS_TEXT}, words=("seqnlp classify",)),
        Row("eval-bad-split", ("tagger", "eval", "cws.pt", "--data", "c.txt", "--split",
                               "train"), files={"cws.pt": cws, "c.txt": CWS_TEXT},
            words=("--split", "test or dev")),
        Row("eval-no-test", ("tagger", "eval", "cws.pt", "--data", "c.txt"),
            files={"cws.pt": cws, "c.txt": CWS_TEXT}, words=("c.txt", "no test split")),
        Row("eval-lexicon-ner", ("tagger", "eval", "ner.pt", "--lexicon", "w.txt", "--data",
                                 "n.txt"), files={"ner.pt": ner, "w.txt": "迈向\n".encode(),
                                                  "n.txt": b"EU B-ORG\nrejects O\n\n" * 3},
            words=("--lexicon", "cws")),
        Row("eval-missing-data", ("tagger", "eval", "cws.pt", "--data", "none.txt"),
            files={"cws.pt": cws}, words=("none.txt", "no such file")),
        # segment and tag
        Row("segment-lm", ("segment", "--model", "{lm}", "我爱"), words=("seqnlp lm",)),
        Row("segment-ner-model", ("segment", "ner.pt", "我爱"), files={"ner.pt": ner},
            words=("ner.pt", "cws")),
        Row("segment-bad-stdin", ("segment", "cws.pt"), files={"cws.pt": cws},
            stdin="我爱\n".encode() + b"\xe6\x88\n", words=("stdin", "line 2", "UTF-8")),
        Row("segment-missing-dict", ("segment", "cws.pt", "我爱", "--dict", "none.txt"),
            files={"cws.pt": cws}, words=("none.txt", "no such file")),
        Row("segment-ensemble-missing", ("segment", "cws.pt", "我爱", "-e", "none.pt"),
            files={"cws.pt": cws}, words=("none.pt", "no such")),
        Row("segment-ensemble-ner", ("segment", "cws.pt", "我爱", "-e", "ner.pt"),
            files={"cws.pt": cws, "ner.pt": ner}, words=("ner.pt", "cws")),
        Row("eval-ensemble-ner", ("tagger", "eval", "ner.pt", "-e", "cws.pt", "--data",
                                  "n.txt"), files={"ner.pt": ner, "cws.pt": cws,
                                                   "n.txt": b"EU B-ORG\nrejects O\n\n" * 3},
            words=("--ensemble", "cws")),
        Row("segment-missing-input", ("segment", "cws.pt", "--input", "none.txt"),
            files={"cws.pt": cws}, words=("none.txt", "no such file")),
        Row("segment-folder-input", ("segment", "cws.pt", "--input", "d"),
            files={"cws.pt": cws, "d/": b""}, words=("d", "directory")),
        Row("segment-batch-zero", ("segment", "cws.pt", "我", "--batch-size", "0"),
            files={"cws.pt": cws}, words=("--batch-size",), code=2),
        Row("tag-bad-format", ("tag", "ner.pt", "--format", "xml"), files={"ner.pt": ner},
            stdin=b"the\n", words=("--format", "conll or json")),
        Row("tag-classifier", ("tag", "{classifier}"), stdin=b"the\n",
            words=("seqnlp classify",)),
        Row("tag-bad-stdin", ("tag", "ner.pt"), files={"ner.pt": ner}, stdin=b"the \xff\n",
            words=("stdin", "line 1", "UTF-8")),
        Row("tag-truncated-model", ("tag", "cut.pt"), files={"cut.pt": ner[:500]},
            stdin=b"the\n", words=("cut.pt", "truncated")),
    ]


@pytest.mark.parametrize("row", rows_params(rows()))
def test_row(row: Row, hostile_env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    check_row(row, hostile_env, capsys)
