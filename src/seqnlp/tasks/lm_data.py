"""Language-model data: text -> token streams (word or character level, `<eos>` at each
line end) -> a vocabulary counted on train -> id streams -> batchified BPTT windows.

Data: "ptb" (Mikolov's Penn Treebank), "wikitext-2" (Merity et al., 2016), a folder with
`train.txt`, `valid.txt` and `test.txt`, or one UTF-8 text file whose token stream is cut
90 / 5 / 5 into train / valid / test. Word level reads whitespace tokens plus `<eos>` at
each line end (as Zaremba et al. and PyTorch's word_language_model do); character level
reads every character of a line, spaces included, plus `<eos>` (any script, Chinese too).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seqnlp.errors import DatasetError, SeqnlpError, one_of
from seqnlp.models.language_model import EOS, LEVELS, UNK

if TYPE_CHECKING:
    import torch

    from seqnlp.text import Vocab

SPECIALS = (UNK, EOS)
SPLITS = ("train", "valid", "test")
NAMED_CORPORA = ("ptb", "wikitext-2")
_FILE_SPLIT = (0.90, 0.05)  # train and valid shares of a single file; the rest is test

Window = tuple["torch.Tensor", "torch.Tensor"]


class CorpusTooShortError(SeqnlpError, ValueError):
    """A token stream is too short for the batch size and BPTT length asked for."""


def tokenize_line(text: str, level: str) -> list[str]:
    """The tokens of one line: whitespace-separated words, or every character."""
    if level == "word":
        return text.split()
    if level == "char":
        return list(text)
    raise ValueError(f"level must be one of {one_of(LEVELS)}, got {level!r}")


def read_tokens(path: str | os.PathLike[str], level: str) -> list[str]:
    """The token stream of a UTF-8 text file (.xz and .gz too), `<eos>` after each line."""
    from seqnlp.fileio import iter_lines

    stream: list[str] = []
    for _, text in iter_lines(path):
        stream.extend(tokenize_line(text, level))
        stream.append(EOS)
    return stream


def read_splits(data: str, level: str = "word") -> dict[str, list[str]]:
    """The train, valid and test token streams of `data` (see the module docstring).

    Raises:
        DatasetError: an unknown name or path, or a named corpus not yet fetched (the
            message says how to fetch it).
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {one_of(LEVELS)}, got {level!r}")
    if data in NAMED_CORPORA:
        from seqnlp.datasets import split_files

        files = split_files(data)
        return {split: read_tokens(files[split], level) for split in SPLITS}
    path = Path(data)
    if path.is_dir():
        missing = [f"{split}.txt" for split in SPLITS if not (path / f"{split}.txt").is_file()]
        if missing:
            raise DatasetError(f"{path}: missing {', '.join(missing)} (a corpus folder holds "
                               "train.txt, valid.txt and test.txt)")
        return {split: read_tokens(path / f"{split}.txt", level) for split in SPLITS}
    if path.is_file():
        stream = read_tokens(path, level)
        train_end = int(len(stream) * _FILE_SPLIT[0])
        valid_end = train_end + int(len(stream) * _FILE_SPLIT[1])
        return {"train": stream[:train_end], "valid": stream[train_end:valid_end],
                "test": stream[valid_end:]}
    raise DatasetError(
        f"unknown language-model data {data!r}: use ptb, wikitext-2, a text file, or a "
        "folder with train.txt, valid.txt and test.txt"
    )


@dataclass(frozen=True)
class LMCorpus:
    """Token ids of the three splits, encoded with a vocabulary built on train.

    Attributes:
        name: the data name or path.
        level: "word" or "char".
        vocab: `<unk>`, `<eos>`, then train tokens by decreasing count.
        train, valid, test: (n,) int64 id streams.
    """

    name: str
    level: str
    vocab: Vocab
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray


def load_lm_corpus(
    data: str, level: str = "word", min_count: int = 1, max_vocab: int | None = None
) -> LMCorpus:
    """Read `data` and encode it with a vocabulary counted on its train split.

    With PTB at word level this gives exactly the standard 10,000 types.
    """
    from seqnlp.text import Vocab

    streams = read_splits(data, level)
    if not streams["train"]:
        raise CorpusTooShortError(f"{data}: the training split holds no tokens")
    vocab = Vocab.from_counts(
        Counter(streams["train"]), min_count=min_count, max_size=max_vocab, specials=SPECIALS
    )
    ids = {split: vocab.encode(tokens) for split, tokens in streams.items()}
    return LMCorpus(data, level, vocab, ids["train"], ids["valid"], ids["test"])


def oov_rate(tokens: list[str], vocab: Vocab) -> float:
    """The share of `tokens` that are not in `vocab` (and so are read as `<unk>`)."""
    unknown = sum(1 for token in tokens if token not in vocab)
    return unknown / len(tokens) if tokens else 0.0


def check_stream_length(
    num_tokens: int, batch_size: int, bptt: int, what: str, *, full_window: bool = True
) -> None:
    """Raise unless a stream fills `batch_size` rows with one full BPTT window each (for
    training), or with at least one input and its target (for evaluation,
    `full_window=False`).

    Raises:
        CorpusTooShortError: naming the token count, the batch size and the BPTT length.
    """
    per_row = bptt + 1 if full_window else 2
    needed = batch_size * per_row
    if num_tokens < needed:
        raise CorpusTooShortError(
            f"the {what} text has {num_tokens} tokens, too few for batch size {batch_size} "
            f"and BPTT length {bptt}: it needs at least {batch_size} x {per_row} = "
            f"{needed}; lower the batch size or the BPTT length, or give more text"
        )


def lm_batches(
    ids: np.ndarray, batch_size: int, bptt: int, variable: bool = False, seed: int = 0,
    rank: int = 0, world_size: int = 1,
) -> Callable[[int], list[Window]]:
    """A function `epoch -> [(inputs (B, t), targets (B, t)), ...]` over one stream.

    The stream is cut into `batch_size` parallel rows (`seqnlp.text.batchify`) read left
    to right in BPTT windows. Fixed windows are built once; variable ones (AWD-LSTM
    lengths) are drawn with `seed + epoch`, so an epoch is the same after a resume.

    Under data parallelism (`world_size` > 1) the stream is cut into
    `batch_size * world_size` rows and rank `rank` reads its own `batch_size` of them in
    every window, so each row's carried state stays continuous and the ranks together
    read the grid one process with `batch_size * world_size` rows reads; the function
    then has `presharded = True` (the Trainer does not deal batches out again).
    """
    import torch

    from seqnlp.text import batchify, bptt_windows

    grid = batchify(ids, batch_size * world_size)[rank * batch_size:(rank + 1) * batch_size]

    def windows(epoch: int) -> list[Window]:
        pairs = bptt_windows(grid, bptt, variable=variable, seed=seed + epoch)
        return [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in pairs]

    if variable:
        source = windows
    else:
        fixed = windows(0)

        def source(epoch: int) -> list[Window]:
            return fixed

    source.presharded = world_size > 1  # type: ignore[attr-defined]
    return source