"""One pipeline for every task: data -> vocabularies -> model from its config -> batches ->
Trainer (checkpoints, resume, early stopping, logging, data-parallel ranks) -> `Trained`.

A task supplies only what is its own, through the `Task` protocol: its vocabularies, the
complete model config from the user's options, batches, an evaluation and a prediction.
Building the model (through the registry), seeding, resuming and running the Trainer are
done once, here, by `train_task`:

    task = ClassificationTask(data, batch_size=64)
    trained = train_task(task, {"encoder": "gru", "bidirectional": True}, TrainerConfig())
    save_trained("model.pt", task, trained)
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from seqnlp.errors import SeqnlpError
from seqnlp.models.artifact import IncompatibleModelError

if TYPE_CHECKING:
    import torch

    from seqnlp.models.registry import LoadedModel
    from seqnlp.text import Vocab
    from seqnlp.training import FitResult, TrainerConfig


# How a task shows progress without printing: `track(items, desc, total, unit)` returns
# the items, wrapped in a bar by the CLI (`seqnlp.cli.progress.track`); `untracked` by default.
Track = Callable[..., Iterable[Any]]


def untracked(items: Iterable[Any], desc: str = "", total: int | None = None,
              unit: str = "") -> Iterable[Any]:
    """The default `track`: the items themselves, no progress shown."""
    return items


@runtime_checkable
class Task(Protocol):
    """What a task plugs into `train_task`.

    Attributes:
        kind: the registry kind of the model it trains ("sequence-classifier", ...).
        metric, mode: the dev score the Trainer selects the best model on, and whether
            higher ("max") or lower ("min") is better.
    """

    kind: str
    metric: str
    mode: str

    def build_vocabs(self) -> dict[str, Vocab]:
        """The vocabularies, built from the training split only ("tokens" is the main one)."""

    def model_config(self, options: Mapping[str, Any], vocabs: dict[str, Vocab]) -> Any:
        """The complete model config: the user's options plus the sizes the data fixes."""

    def init_model(self, model: torch.nn.Module, vocabs: dict[str, Vocab],
                   seed: int) -> dict[str, Any]:
        """Anything done to a fresh model before training (pretrained vectors); facts to report."""

    def train_batches(self, vocabs: dict[str, Vocab], config: Any,
                      seed: int) -> Callable[[int], Iterable[Any]]:
        """The Trainer's `epoch -> batches`, depending on the epoch and seed alone."""

    def dev_batches(self, vocabs: dict[str, Vocab], config: Any) -> list[Any] | None:
        """Fixed dev batches (None: no dev split, so no model selection)."""

    def evaluate(self, model: torch.nn.Module, batches: Iterable[Any]) -> dict[str, float]:
        """Scores over batches; must hold `metric` (called by the Trainer under no_grad)."""

    def predict(self, loaded: LoadedModel, texts: Sequence[str]) -> Sequence[Any]:
        """The task's output for raw texts, with a saved model."""

    def extra(self) -> dict[str, Any]:
        """JSON-able facts saved with the model (data name, tokenizer, label names, ...)."""


@dataclass
class Trained:
    """What `train_task` returns: the model with its best dev weights, in eval mode.

    Attributes:
        model: the trained module, on the CPU.
        vocabs: its vocabularies by name.
        fit: the Trainer's record (history, evaluations, best epoch).
        dev: the scores of the returned model on the dev batches ({} without dev).
        seconds: wall time of the whole call (vocabularies and batches included).
        info: what the task reported on the way (e.g. pretrained-vector coverage).
    """

    model: torch.nn.Module
    vocabs: dict[str, Vocab]
    fit: FitResult
    dev: dict[str, float]
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> Any:
        """The model's config."""
        return self.model.config  # type: ignore[return-value]

    @property
    def vocab(self) -> Vocab:
        """The main vocabulary."""
        return self.vocabs["tokens"]


StartCallback = Callable[["torch.nn.Module", dict[str, "Vocab"], dict[str, Any]], None]


def train_task(
    task: Task,
    model_config: Mapping[str, Any] | Any,
    trainer_config: TrainerConfig,
    *,
    resume: bool = False,
    on_step: Callable[..., None] | None = None,
    on_start: StartCallback | None = None,
) -> Trained:
    """Build the vocabularies and the model, train it with the Trainer, keep the best.

    Args:
        task: the task (its data is inside it).
        model_config: the model's options (a mapping the task completes with the sizes
            the data fixes), or a complete config dataclass.
        trainer_config: optimisation, epochs, checkpoints, device, seed; its `metric` and
            `mode` are set to the task's.
        resume: continue from `trainer_config.checkpoint_dir`'s last checkpoint when there
            is one (refused when it holds another model).
        on_step: the Trainer's per-update callback.
        on_start: called as `on_start(model, vocabs, info)` before the first update (to
            print sizes before a long run).

    Raises:
        IncompatibleModelError: `resume` finds a checkpoint of another model.
        SeqnlpError: early stopping asked for (`patience`) on data without a dev split.
        TrainingDiverged: the loss turned NaN or infinite (nothing is returned or saved).
    """
    from seqnlp.models.registry import check_model_size, model_kinds
    from seqnlp.training import Trainer, seed_everything

    start = time.perf_counter()
    trainer_config = dataclasses.replace(trainer_config, metric=task.metric, mode=task.mode)
    vocabs = task.build_vocabs()
    if dataclasses.is_dataclass(model_config) and not isinstance(model_config, type):
        config = model_config
    else:
        config = task.model_config(dict(model_config), vocabs)
    check_model_size(task.kind, config)  # before anything is allocated
    seed_everything(trainer_config.seed)
    model = model_kinds()[task.kind].module_class(config)
    info = dict(task.init_model(model, vocabs, trainer_config.seed) or {})
    if on_start is not None:
        on_start(model, vocabs, info)
    if resume and trainer_config.checkpoint_dir:
        check_resumable(Path(trainer_config.checkpoint_dir) / "last.pt", model)
    dev = task.dev_batches(vocabs, config)
    if dev is None and trainer_config.patience is not None:
        raise SeqnlpError(
            f"early stopping (--patience {trainer_config.patience}) needs a dev split to "
            "score, and this data has none: give a dev split (--dev-fraction above 0) or "
            "drop --patience"
        )
    trainer = Trainer(model, trainer_config)
    fit = trainer.fit(task.train_batches(vocabs, config, trainer_config.seed), dev,
                      task.evaluate, resume=resume, on_step=on_step)
    scores = trainer.evaluate(dev, task.evaluate) if dev else {}
    model = trainer.model.cpu()
    model.eval()
    return Trained(model, vocabs, fit, scores, time.perf_counter() - start, info)


def save_trained(path: str | os.PathLike[str], task: Task, trained: Trained,
                 extra: dict[str, Any] | None = None) -> None:
    """Save a trained model with its vocabularies, the task's facts and `extra`."""
    from seqnlp.models.registry import save_model

    save_model(path, task.kind, trained.model, trained.vocabs, {**task.extra(), **(extra or {})})


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
