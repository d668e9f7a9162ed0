"""Language modelling on the shared pipeline: id streams -> BPTT windows -> `RNNLanguageModel`
-> Trainer (best epoch on valid perplexity) -> saved model; perplexity of a saved model on
any split.

The data is read by `seqnlp.tasks.lm_data`; training is `seqnlp.tasks.pipeline.train_task`
with a `LanguageModelTask`. Sentence scores and generation live in
`seqnlp.tasks.lm_generation`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from seqnlp.models.artifact import IncompatibleModelError
from seqnlp.models.language_model import ARTIFACT_KIND as KIND
from seqnlp.models.language_model import EOS, LEVELS, UNK, LoadedLM
from seqnlp.tasks.lm_data import (  # re-exported: the task's data API
    NAMED_CORPORA,
    SPECIALS,
    SPLITS,
    CorpusTooShortError,
    LMCorpus,
    Window,
    check_stream_length,
    lm_batches,
    load_lm_corpus,
    oov_rate,
    read_splits,
    read_tokens,
    tokenize_line,
)
from seqnlp.errors import one_of
from seqnlp.tasks.pipeline import Track, Trained, check_resumable, train_task, untracked

if TYPE_CHECKING:
    import torch

    from seqnlp.models.language_model import LanguageModelConfig, RNNLanguageModel
    from seqnlp.text import Vocab
    from seqnlp.training import FitResult, TrainerConfig

__all__ = [
    "EOS", "KIND", "LEVELS", "NAMED_CORPORA", "SPECIALS", "SPLITS", "UNK", "CorpusTooShortError",
    "IncompatibleModelError", "LMBatching", "LMCorpus", "LMTrainingResult", "LanguageModelTask",
    "LoadedLM", "Window", "check_resumable", "check_stream_length", "evaluate_perplexity",
    "evaluate_saved", "lm_batches", "load_language_model", "load_lm_corpus", "oov_rate",
    "perplexity", "read_splits", "read_tokens", "save_language_model", "tokenize_line",
    "train_language_model",
]


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
    model: RNNLanguageModel, ids: np.ndarray, batch_size: int = 10, bptt: int = 35,
    track: Track = untracked, desc: str = "evaluating",
) -> dict[str, float]:
    """Perplexity of `model` on a stream, read in `batch_size` rows carrying the state.

    Args:
        track: wraps the windows to show progress (the CLI's `progress.track`).
        desc: the phase `track` shows.

    Returns:
        `{"loss", "ppl", "tokens", "stream_tokens"}`: tokens counts the predicted ones,
        stream_tokens the whole stream. They differ by `len % batch_size` tokens at the
        end that do not fill a row, plus the first token of each of the `batch_size`
        rows, which is context only (nothing before it predicts it).
    """
    import torch

    check_stream_length(len(ids), batch_size, bptt, "evaluation", full_window=False)
    windows = lm_batches(ids, batch_size, bptt)(0)
    was_training = model.training
    model.eval()
    model.reset_state()
    try:
        with torch.no_grad():
            result = evaluate_perplexity(model, track(windows, desc, len(windows), "window"))
    finally:
        model.reset_state()
        model.train(was_training)
    result["tokens"] = float(sum(y.numel() for _, y in windows))
    result["stream_tokens"] = float(len(ids))
    return result


# ---------------------------------------------------------------------------- the task


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


class LanguageModelTask:
    """Language modelling for `train_task`: the corpus's vocabulary, BPTT windows over the
    train stream (carried state), valid perplexity.

    Args:
        corpus: the encoded splits and their vocabulary.
        batching: rows and window lengths.
    """

    kind = KIND
    metric = "ppl"
    mode = "min"

    def __init__(self, corpus: LMCorpus, batching: LMBatching | None = None) -> None:
        self.corpus = corpus
        self.batching = batching or LMBatching()

    def build_vocabs(self) -> dict[str, Vocab]:
        from seqnlp.training.distributed import dist_info_from_env

        batching, corpus = self.batching, self.corpus
        rows = batching.batch_size * dist_info_from_env().world_size
        check_stream_length(len(corpus.train), rows, batching.bptt, "training")
        check_stream_length(len(corpus.valid), batching.eval_batch_size, batching.bptt,
                            "validation", full_window=False)
        return {"tokens": corpus.vocab}

    def model_config(self, options: Mapping[str, Any], vocabs: dict[str, Vocab]) -> Any:
        from seqnlp.models.language_model import LanguageModelConfig

        return LanguageModelConfig(vocab_size=len(vocabs["tokens"]), **options)

    def init_model(self, model: Any, vocabs: dict[str, Vocab], seed: int) -> dict[str, Any]:
        if model.config.vocab_size != len(vocabs["tokens"]):
            raise ValueError(f"model vocab_size {model.config.vocab_size} != vocabulary "
                             f"size {len(vocabs['tokens'])}")
        return {}

    def train_batches(self, vocabs: dict[str, Vocab], config: Any, seed: int) -> Callable:
        """BPTT windows; under torchrun each rank reads its own rows of every window."""
        from seqnlp.training.distributed import dist_info_from_env

        batching, dist = self.batching, dist_info_from_env()
        return lm_batches(self.corpus.train, batching.batch_size, batching.bptt,
                          variable=batching.variable_bptt, seed=seed, rank=dist.rank,
                          world_size=dist.world_size)

    def dev_batches(self, vocabs: dict[str, Vocab], config: Any) -> list[Window]:
        return lm_batches(self.corpus.valid, self.batching.eval_batch_size, self.batching.bptt)(0)

    def evaluate(self, model: Any, batches: Iterable[Window]) -> dict[str, float]:
        return evaluate_perplexity(model, batches)

    def predict(self, loaded: Any, texts: Sequence[str]) -> list[Any]:
        from seqnlp.tasks.lm_generation import score_lines

        return score_lines(loaded, list(texts))

    def extra(self) -> dict[str, Any]:
        return {"data": self.corpus.name, "level": self.corpus.level}


@dataclass
class LMTrainingResult:
    """A trained model (best validation weights) and its numbers."""

    model: RNNLanguageModel
    fit: FitResult
    valid: dict[str, float]
    test: dict[str, float] = field(default_factory=dict)
    trained: Trained | None = None


def train_language_model(
    corpus: LMCorpus,
    model_config: LanguageModelConfig,
    trainer_config: TrainerConfig,
    batching: LMBatching | None = None,
    *,
    resume: bool = False,
    on_step: Callable[..., None] | None = None,
    on_start: Callable[..., None] | None = None,
    track: Track = untracked,
) -> LMTrainingResult:
    """Train an `RNNLanguageModel` on `corpus.train` through `train_task`, choosing the best
    epoch on valid, then report the valid and test perplexities of the kept weights.

    Raises:
        CorpusTooShortError: a split is too short for the batch sizes and BPTT length.
        IncompatibleModelError: `resume` finds a checkpoint of another model.
    """
    task = LanguageModelTask(corpus, batching)
    if model_config.vocab_size != len(corpus.vocab):
        raise ValueError(f"model vocab_size {model_config.vocab_size} != vocabulary "
                         f"size {len(corpus.vocab)}")
    trained = train_task(task, model_config, trainer_config, resume=resume, on_step=on_step,
                         on_start=on_start)
    rows, bptt = task.batching.eval_batch_size, task.batching.bptt
    result = LMTrainingResult(trained.model, trained.fit,
                              perplexity(trained.model, corpus.valid, rows, bptt, track,
                                         "valid perplexity of the best weights"),
                              trained=trained)
    if len(corpus.test) >= 2 * rows:
        result.test = perplexity(trained.model, corpus.test, rows, bptt, track,
                                 "test perplexity")
    return result


# ---------------------------------------------------------------------------- saved models


def save_language_model(
    path: str | os.PathLike[str], model: RNNLanguageModel, vocab: Vocab, level: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write the model, its config, its vocabulary and its level (plus `extra` numbers)."""
    from seqnlp.models.registry import save_model

    save_model(path, KIND, model, {"tokens": vocab}, {**(extra or {}), "level": level})


def load_language_model(path: str | os.PathLike[str]) -> LoadedLM:
    """Read a model saved by `save_language_model` (`load_model` for this kind).

    Raises:
        ArtifactError: not a seqnlp model file, a model of another kind, or one whose
            vocabulary, config and weights do not agree (`IncompatibleModelError`).
    """
    from seqnlp.models.registry import load_model

    return load_model(path, expect=KIND)  # type: ignore[return-value]


def evaluate_saved(
    lm: LoadedLM, data: str, split: str = "test", batch_size: int = 10, bptt: int = 35,
    track: Track = untracked,
) -> dict[str, float]:
    """Perplexity of a saved model on a split of `data`, read at the model's level.

    Returns:
        `{"loss", "ppl", "tokens", "oov_rate"}`; out-of-vocabulary tokens are read as
        `<unk>` (a corpus with its own unknowns scores high on them).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {one_of(SPLITS)}, got {split!r}")
    tokens = read_splits(data, lm.level)[split]
    check_stream_length(len(tokens), batch_size, bptt, split, full_window=False)
    result = perplexity(lm.model, lm.vocab.encode(tokens), batch_size, bptt, track,
                        f"{split} perplexity")
    result["oov_rate"] = oov_rate(tokens, lm.vocab)
    return result
