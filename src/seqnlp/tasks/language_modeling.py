"""Language modelling pipeline: text -> Vocab -> batchified streams -> BPTT windows ->
Trainer -> saved model; perplexity of a saved model on any split.

Data: "ptb" (Mikolov's Penn Treebank), "wikitext-2" (Merity et al., 2016), a folder with
`train.txt`, `valid.txt` and `test.txt`, or one UTF-8 text file whose token stream is cut
90 / 5 / 5 into train / valid / test. Word level reads whitespace tokens plus `<eos>` at
each line end (as Zaremba et al. and PyTorch's word_language_model do); character level
reads every character of a line, spaces included, plus `<eos>` (any script, Chinese too).
Sentence scores and generation live in `seqnlp.tasks.lm_generation`.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqnlp.errors import DatasetError, SeqnlpError

if TYPE_CHECKING:
    import torch

    from seqnlp.models.language_model import LanguageModelConfig, RNNLanguageModel
    from seqnlp.text import Vocab
    from seqnlp.training import FitResult, TrainerConfig

LEVELS = ("word", "char")
EOS = "<eos>"
UNK = "<unk>"
SPECIALS = (UNK, EOS)
KIND = "language_model"
SPLITS = ("train", "valid", "test")
NAMED_CORPORA = ("ptb", "wikitext-2")
_FILE_SPLIT = (0.90, 0.05)  # train and valid shares of a single file; the rest is test

Window = tuple["torch.Tensor", "torch.Tensor"]


class CorpusTooShortError(SeqnlpError, ValueError):
    """A token stream is too short for the batch size and BPTT length asked for."""


class IncompatibleModelError(SeqnlpError):
    """A saved model or checkpoint does not fit the model or data it is used with."""


# ---------------------------------------------------------------------------- data


def tokenize_line(text: str, level: str) -> list[str]:
    """The tokens of one line: whitespace-separated words, or every character."""
    if level == "word":
        return text.split()
    if level == "char":
        return list(text)
    raise ValueError(f"level must be one of {LEVELS}, got {level!r}")


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
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
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
    ids: np.ndarray, batch_size: int, bptt: int, variable: bool = False, seed: int = 0
) -> Callable[[int], list[Window]]:
    """A function `epoch -> [(inputs (B, t), targets (B, t)), ...]` over one stream.

    The stream is cut into `batch_size` parallel rows (`seqnlp.text.batchify`) read left
    to right in BPTT windows. Fixed windows are built once; variable ones (AWD-LSTM
    lengths) are drawn with `seed + epoch`, so an epoch is the same after a resume.
    """
    import torch

    from seqnlp.text import batchify, bptt_windows

    grid = batchify(ids, batch_size)  # (B, N)

    def windows(epoch: int) -> list[Window]:
        pairs = bptt_windows(grid, bptt, variable=variable, seed=seed + epoch)
        return [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in pairs]

    if variable:
        return windows
    fixed = windows(0)
    return lambda epoch: fixed


def evaluate_perplexity(model: torch.nn.Module, batches: Iterable[Window]) -> dict[str, float]:
    """`{"loss", "ppl"}`: mean cross-entropy per target token and its exponential.

    The Trainer's `evaluate` function: it calls it in eval mode under `no_grad`, with the
    carried state reset, on windows read in order.
    """
    total, count = 0.0, 0
    for inputs, targets in batches:
        _, loss = model(inputs, targets)
        total += float(loss) * targets.numel()
        count += targets.numel()
    if count == 0:
        return {"loss": math.nan, "ppl": math.nan}
    return {"loss": total / count, "ppl": math.exp(total / count)}


def perplexity(
    model: RNNLanguageModel, ids: np.ndarray, batch_size: int = 10, bptt: int = 35
) -> dict[str, float]:
    """Perplexity of `model` on a stream, read in `batch_size` rows carrying the state.

    Returns:
        `{"loss", "ppl", "tokens"}`; tokens counts the predicted ones (the last
        `len % batch_size` tokens do not fill a column and are left out).
    """
    import torch

    check_stream_length(len(ids), batch_size, bptt, "evaluation", full_window=False)
    windows = lm_batches(ids, batch_size, bptt)(0)
    was_training = model.training
    model.eval()
    model.reset_state()
    try:
        with torch.no_grad():
            result = evaluate_perplexity(model, windows)
    finally:
        model.reset_state()
        model.train(was_training)
    result["tokens"] = float(sum(y.numel() for _, y in windows))
    return result


# ---------------------------------------------------------------------------- training


@dataclass(frozen=True)
class LMBatching:
    """How the streams are cut: B parallel rows, windows of `bptt` steps (fixed, or
    varied at random as in AWD-LSTM), and the rows of the evaluation streams."""

    batch_size: int = 20
    bptt: int = 35
    variable_bptt: bool = False
    eval_batch_size: int = 10

    def __post_init__(self) -> None:
        for name in ("batch_size", "bptt", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")


@dataclass
class LMTrainingResult:
    """A trained model (best validation weights) and its numbers."""

    model: RNNLanguageModel
    fit: FitResult
    valid: dict[str, float]
    test: dict[str, float] = field(default_factory=dict)


def train_language_model(
    corpus: LMCorpus,
    model_config: LanguageModelConfig,
    trainer_config: TrainerConfig,
    batching: LMBatching | None = None,
    *,
    resume: bool = False,
    on_step: Callable[..., None] | None = None,
) -> LMTrainingResult:
    """Train an `RNNLanguageModel` on `corpus.train`, choosing the best epoch on valid.

    The model is built after seeding with `trainer_config.seed`. Validation perplexity
    is computed after each epoch (or every `eval_every` updates); the returned model holds
    the best weights (with `restore_best`), whose valid and test perplexities are reported.

    Raises:
        CorpusTooShortError: a split is too short for the batch sizes and BPTT length.
        IncompatibleModelError: `resume` finds a checkpoint of another model.
    """
    from seqnlp.models.language_model import RNNLanguageModel
    from seqnlp.training import Trainer, seed_everything

    batching = batching or LMBatching()
    if model_config.vocab_size != len(corpus.vocab):
        raise ValueError(f"model vocab_size {model_config.vocab_size} != vocabulary "
                         f"size {len(corpus.vocab)}")
    check_stream_length(len(corpus.train), batching.batch_size, batching.bptt, "training")
    check_stream_length(len(corpus.valid), batching.eval_batch_size, batching.bptt,
                        "validation", full_window=False)
    seed_everything(trainer_config.seed)
    model = RNNLanguageModel(model_config)
    if resume and trainer_config.checkpoint_dir:
        check_resumable(Path(trainer_config.checkpoint_dir) / "last.pt", model)
    trainer = Trainer(model, trainer_config)
    train = lm_batches(corpus.train, batching.batch_size, batching.bptt,
                       variable=batching.variable_bptt, seed=trainer_config.seed)
    valid = lm_batches(corpus.valid, batching.eval_batch_size, batching.bptt)(0)
    fit = trainer.fit(train, valid, evaluate_perplexity, resume=resume, on_step=on_step)
    model = trainer.model.cpu()
    rows, bptt = batching.eval_batch_size, batching.bptt
    result = LMTrainingResult(model, fit, perplexity(model, corpus.valid, rows, bptt))
    if len(corpus.test) >= 2 * rows:
        result.test = perplexity(model, corpus.test, rows, bptt)
    return result


def check_resumable(path: Path, model: torch.nn.Module) -> None:
    """Refuse to resume from a checkpoint whose weights do not fit `model`.

    A missing checkpoint is fine (training starts afresh).

    Raises:
        IncompatibleModelError: naming the first parameter that differs; for the
            embedding, the two vocabulary sizes.
    """
    from seqnlp.training import load_checkpoint

    if not path.is_file():
        return
    saved = load_checkpoint(path).get("model", {})
    for name, tensor in model.state_dict().items():
        theirs = saved.get(name)
        if theirs is not None and tuple(theirs.shape) == tuple(tensor.shape):
            continue
        if name == "embedding.weight" and theirs is not None:
            raise IncompatibleModelError(
                f"{path}: the checkpoint's vocabulary has {theirs.shape[0]} tokens, this "
                f"corpus's has {tensor.shape[0]}; resume with the same data and options"
            )
        got = "missing" if theirs is None else f"shape {tuple(theirs.shape)}"
        raise IncompatibleModelError(
            f"{path}: checkpoint of another model ({name}: {got}, this model has shape "
            f"{tuple(tensor.shape)}); resume with the same model options"
        )


# ---------------------------------------------------------------------------- saved models


@dataclass(frozen=True)
class LoadedLM:
    """A language model read back from disk, with what it needs to read text."""

    model: RNNLanguageModel
    vocab: Vocab
    level: str
    extra: dict[str, Any]


def save_language_model(
    path: str | os.PathLike[str], model: RNNLanguageModel, vocab: Vocab, level: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write the model, its config, its vocabulary and its level (plus `extra` numbers)."""
    from seqnlp.models.artifact import save_artifact

    save_artifact(path, KIND, model.config, model, vocab=vocab.to_dict(),
                  extra={**(extra or {}), "level": level})


def load_language_model(path: str | os.PathLike[str]) -> LoadedLM:
    """Read a model saved by `save_language_model`, in eval mode on the CPU.

    Raises:
        ArtifactError: not a seqnlp model file, or a model of another kind.
        IncompatibleModelError: the vocabulary, config and weights do not agree.
    """
    from seqnlp.models.artifact import load_artifact
    from seqnlp.models.language_model import LanguageModelConfig, RNNLanguageModel
    from seqnlp.text import Vocab

    payload = load_artifact(path, KIND)
    try:
        config = LanguageModelConfig(**payload["config"])
        vocab = Vocab.from_dict(payload["vocab"])
    except (TypeError, ValueError) as exc:
        raise IncompatibleModelError(f"{path}: damaged language model ({exc})") from None
    level = payload.get("extra", {}).get("level")
    if level not in LEVELS or UNK not in vocab or EOS not in vocab:
        raise IncompatibleModelError(
            f"{path}: a language model needs a level (word or char) and a vocabulary with "
            f"{UNK} and {EOS}; this one has level {level!r}"
        )
    if len(vocab) != config.vocab_size:
        raise IncompatibleModelError(
            f"{path}: its vocabulary has {len(vocab)} tokens but the model predicts "
            f"{config.vocab_size}"
        )
    model = RNNLanguageModel(config)
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1].strip()
        raise IncompatibleModelError(f"{path}: weights do not fit the config ({first})") from None
    model.eval()
    return LoadedLM(model, vocab, level, dict(payload.get("extra", {})))


def evaluate_saved(
    lm: LoadedLM, data: str, split: str = "test", batch_size: int = 10, bptt: int = 35
) -> dict[str, float]:
    """Perplexity of a saved model on a split of `data`, read at the model's level.

    Returns:
        `{"loss", "ppl", "tokens", "oov_rate"}`; out-of-vocabulary tokens are read as
        `<unk>` (a corpus with its own unknowns scores high on them).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    tokens = read_splits(data, lm.level)[split]
    check_stream_length(len(tokens), batch_size, bptt, split, full_window=False)
    result = perplexity(lm.model, lm.vocab.encode(tokens), batch_size, bptt)
    result["oov_rate"] = oov_rate(tokens, lm.vocab)
    return result
