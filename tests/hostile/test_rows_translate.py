"""Hostile rows for `seqnlp translate` and `seqnlp caption` (see conftest.py for what every
row must satisfy)."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.conftest import Row, check_row, rows_params

pytestmark = pytest.mark.usefixtures("one_thread")


@functools.lru_cache(maxsize=2)
def captioner_bytes(attention: str = "luong") -> bytes:
    """An (untrained) captioner model file, as bytes."""
    from seqnlp.models.captioner import Captioner, CaptionerConfig
    from seqnlp.models.registry import save_model
    from seqnlp.tasks.captioning import caption_vocab

    model = Captioner(CaptionerConfig(vocab_size=14, channels=4, hidden_size=4,
                                      attention=attention))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.pt"
        save_model(path, "captioner", model, {"tokens": caption_vocab()},
                   {"split_seed": 0, "max_digits": 4})
        return path.read_bytes()


@functools.lru_cache(maxsize=4)
def model_bytes(attention: str = "luong", tokenizer: Any = None) -> bytes:
    """An (untrained) translation model file, as bytes."""
    from seqnlp.models.registry import save_model
    from seqnlp.models.seq2seq import Seq2Seq, Seq2SeqConfig
    from seqnlp.text.vocab import DEFAULT_SPECIALS, Vocab

    vocab = Vocab([*DEFAULT_SPECIALS, "ein", "mann", "."], specials=DEFAULT_SPECIALS)
    model = Seq2Seq(Seq2SeqConfig(source_vocab_size=7, target_vocab_size=7, embedding_dim=4,
                                  hidden_size=4, attention=attention))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.pt"
        save_model(path, "seq2seq", model, {"source": vocab, "target": vocab},
                   {"tokenizer": dict(tokenizer or {"kind": "words", "lowercase": False}),
                    "languages": ["de", "en"]})
        return path.read_bytes()


DE = "".join(f"Ein Mann Nummer {i}.\n" for i in range(30)).encode()
EN = "".join(f"A man number {i}.\n" for i in range(30)).encode()
PAIR = "a.de,a.en"


def rows() -> list[Row]:
    good = model_bytes()
    plain = model_bytes("none")
    broken = model_bytes("luong", (("kind", "sentencepiece"), ("source", "!!"),
                                   ("target", "AAAA")))
    files = {"a.de": DE, "a.en": EN}
    return [
        Row("train-line-counts", ("translate", "train", "--data", PAIR, "-o", "m.pt"),
            files={"a.de": DE, "a.en": EN + b"one more.\n"},
            words=("a.de", "has 30 lines", "a.en", "has 31")),
        Row("train-missing-file", ("translate", "train", "--data", "a.de,none.en", "-o",
                                   "m.pt"), files=files, words=("none.en", "no such file")),
        Row("train-three-files", ("translate", "train", "--data", "a,b,c", "-o", "m.pt"),
            words=("SRC_FILE,TGT_FILE",)),
        Row("train-unknown-data", ("translate", "train", "--data", "wmt14", "-o", "m.pt"),
            words=("wmt14", "multi30k")),
        Row("train-multi30k-absent", ("translate", "train", "--data", "multi30k", "-o",
                                      "m.pt"), words=("multi30k", "seqnlp data get")),
        Row("train-multi30k-pair", ("translate", "train", "--data", "multi30k", "--tgt", "fr",
                                    "-o", "m.pt"), words=("de and en", "fr")),
        Row("train-folder-file", ("translate", "train", "--data", "d,a.en", "-o", "m.pt"),
            files={**files, "d/": b""}, words=("d", "folder")),
        Row("train-bad-utf8", ("translate", "train", "--data", PAIR, "-o", "m.pt"),
            files={"a.de": DE + b"Ein \xff Mann.\n", "a.en": EN + b"A man.\n"},
            words=("a.de", "line 31", "UTF-8")),
        Row("train-empty-files", ("translate", "train", "--data", PAIR, "-o", "m.pt"),
            files={"a.de": b"", "a.en": b""}, words=("a.de", "empty")),
        Row("train-one-pair", ("translate", "train", "--data", PAIR, "-o", "m.pt"),
            files={"a.de": b"Ein Mann.\n", "a.en": b"A man.\n"}, words=("cannot be cut",)),
        Row("train-dot-sizes", ("translate", "train", "--data", PAIR, "--score", "dot",
                                "--decoder-hidden-size", "7", "-o", "m.pt"), files=files,
            words=("--decoder-hidden-size", "7")),
        Row("train-tie-sizes", ("translate", "train", "--data", PAIR, "--tie-embeddings",
                                "-o", "m.pt"), files=files, words=("--tie-embeddings",)),
        Row("train-bad-score", ("translate", "train", "--data", PAIR, "--score", "cosine",
                                "-o", "m.pt"), files=files, words=("--score", "additive")),
        Row("train-output-folder", ("translate", "train", "--data", PAIR, "-o", "out"),
            files={**files, "out/": b""}, words=("out", "folder")),
        Row("eval-classifier", ("translate", "eval", "{classifier}", "--data", PAIR),
            files=files, words=("seqnlp classify",)),
        Row("eval-bad-split", ("translate", "eval", "m.pt", "--split", "train"),
            files={"m.pt": good}, words=("--split", "test2016")),
        Row("eval-line-counts", ("translate", "eval", "m.pt", "--data", PAIR),
            files={"m.pt": good, "a.de": DE, "a.en": b"".join(EN.splitlines(True)[:-1])},
            words=("has 30 lines", "has 29")),
        Row("eval-truncated-model", ("translate", "eval", "cut.pt", "--data", PAIR),
            files={"cut.pt": good[:400], **files}, words=("cut.pt", "truncated")),
        Row("run-n-best", ("translate", "run", "m.pt", "--n-best", "2", "Ein Mann."),
            files={"m.pt": good}, words=("--n-best", "--beam")),
        Row("run-bad-stdin", ("translate", "run", "m.pt"), files={"m.pt": good},
            stdin=b"Ein Mann.\n\xe6\x88\n", words=("stdin", "line 2", "UTF-8")),
        Row("run-plot-folder", ("translate", "run", "m.pt", "Ein Mann.", "--attention-plot",
                                "d"), files={"m.pt": good, "d/": b""},
            words=("d", "folder")),
        Row("run-plot-no-attention", ("translate", "run", "m.pt", "Ein Mann.",
                                      "--attention-plot", "a.png"), files={"m.pt": plain},
            words=("m.pt", "no attention")),
        Row("run-damaged-tokenizer", ("translate", "run", "m.pt", "Ein Mann."),
            files={"m.pt": broken}, words=("m.pt", "tokenizer")),
        Row("run-lm-model", ("translate", "run", "{lm}", "Ein Mann."),
            words=("seqnlp lm",)),
        Row("run-beam-zero", ("translate", "run", "m.pt", "--beam", "0", "Ein Mann."),
            files={"m.pt": good}, words=("--beam",), code=2),
        # caption
        Row("caption-odd-channels", ("caption", "train", "--channels", "3", "-o", "c.pt"),
            words=("channels", "even")),
        Row("caption-output-folder", ("caption", "train", "-o", "out"), files={"out/": b""},
            words=("out", "folder")),
        Row("caption-bad-digits", ("caption", "run", "c.pt", "3 x"),
            files={"c.pt": captioner_bytes()}, words=("'x'", "not a digit")),
        Row("caption-too-many-digits", ("caption", "run", "c.pt", "1" * 17),
            files={"c.pt": captioner_bytes()}, words=("1 to 16 digits",)),
        Row("caption-translation-model", ("caption", "eval", "m.pt"), files={"m.pt": good},
            words=("m.pt", "seqnlp translate")),
        Row("caption-plot-no-attention", ("caption", "run", "c.pt", "3", "--attention-plot",
                                          "a.png"), files={"c.pt": captioner_bytes("none")},
            words=("c.pt", "no attention")),
        Row("caption-truncated", ("caption", "eval", "cut.pt"),
            files={"cut.pt": captioner_bytes()[:300]}, words=("cut.pt", "truncated")),
    ]


@pytest.mark.parametrize("row", rows_params(rows()))
def test_row(row: Row, hostile_env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    check_row(row, hostile_env, capsys)
