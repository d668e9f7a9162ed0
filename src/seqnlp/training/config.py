"""`TrainerConfig`: every option of the model-agnostic Trainer, validated once.

The config is a frozen dataclass of plain values (str, int, float, bool, None), so that it
is saved inside every checkpoint and read back with `torch.load(weights_only=True)`.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from typing import Any

OPTIMIZERS = ("adam", "adamw", "sgd", "adagrad", "rmsprop")
SCHEDULES = ("constant", "step", "exponential", "linear_warmup", "plateau")
MODES = ("min", "max")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class TrainerConfig:
    """Options of `Trainer`. Epochs and steps are counted from 0; a step is one update.

    Optimisation:
        optimizer: "adam" | "adamw" | "sgd" | "adagrad" | "rmsprop".
        lr: base learning rate (the schedule multiplies it).
        momentum: SGD and RMSprop momentum (ignored by the others).
        alpha: RMSprop's smoothing constant of the running mean of squared gradients
            (torch's `alpha`, Keras' `rho`: torch's default 0.99, Keras' 0.9).
        eps: added to the denominator of "adam", "adamw" and "rmsprop" (torch's default
            1e-8, Keras' 1e-7); "adagrad" keeps torch's 1e-10.
        weight_decay: L2 penalty ("adam", "sgd", "adagrad", "rmsprop") or decoupled decay
            ("adamw").
        clip_norm: rescale the gradient so that its global L2 norm is at most this.
        clip_value: clamp each gradient entry to [-clip_value, clip_value] (before clip_norm).
        grad_accum_steps: batches whose gradients are summed into one update.

    Length:
        epochs: passes over `train_batches`.
        max_steps: stop after this many updates, even mid-epoch (None: no limit).
        max_minutes: a time budget: once training has run this long (evaluations included,
            counted across resumes), the epoch in progress ends after its current update,
            is evaluated, and training stops (None: no limit). Under torchrun the ranks
            agree at every update: one rank past the budget stops them all.

    Learning-rate schedule (see `seqnlp.training.optim.LRSchedule`):
        schedule: "constant" | "step" | "exponential" | "linear_warmup" | "plateau".
        gamma: the multiplicative factor of "step", "exponential" and "plateau".
        step_size: "step" multiplies by gamma every `step_size` epochs.
        constant_epochs: "exponential" keeps the base lr for this many epochs, then
            multiplies by gamma at each later epoch (Zaremba et al., 2014: 4, 6 or 14).
        warmup_steps: "linear_warmup" rises linearly over this many updates, then holds.
        plateau_patience: "plateau" multiplies by gamma after this many evaluations
            without improvement of `metric`.
        min_lr: no schedule goes below this.

    Evaluation, best model and early stopping:
        eval_every: evaluate every this many updates (None: at the end of each epoch).
        metric: the key of the evaluation dict that decides the best model.
        mode: "min" or "max": whether a lower or a higher `metric` is better.
        patience: stop after this many evaluations without improvement (None: never).
        restore_best: at the end of `fit`, load the best weights back into the model.
        ema_decay: keep an exponential moving average of the weights (Polyak averaging),
            updated after every update with decay `min(ema_decay, (1 + step) / (10 +
            step))`; evaluations, the best model and the model `fit` ends with use the
            average (0: off; 0.999 averages over about the last thousand updates).

    Checkpoints (all written atomically; see `seqnlp.training.checkpoint`):
        checkpoint_dir: folder of `last.pt` (each epoch and every `checkpoint_every`
            updates), `best.pt` (when `keep_best`) and `epoch-NNN.pt` (when
            `keep_epochs`). None: no checkpoints, so no resume.
        checkpoint_every: also write `last.pt` every this many updates (None: epochs only).

    Reproducibility and placement:
        seed: seeds python, numpy and torch at the start of a fresh `fit` (rank added).
        deterministic: also `torch.use_deterministic_algorithms(True)` (process-wide).
        device: "auto" (cuda when available) | "cpu" | "cuda".
        find_unused_parameters: passed to DistributedDataParallel.

    Logging:
        log_path: JSONL file of step and evaluation records (None: none).
        log_every: write a step record every this many updates.
        progress: show a tqdm bar, only when stderr is a terminal.
    """

    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    alpha: float = 0.99
    eps: float = 1e-8
    weight_decay: float = 0.0
    clip_norm: float | None = None
    clip_value: float | None = None
    grad_accum_steps: int = 1
    epochs: int = 10
    max_steps: int | None = None
    max_minutes: float | None = None
    schedule: str = "constant"
    gamma: float = 0.5
    step_size: int = 1
    constant_epochs: int = 1
    warmup_steps: int = 0
    plateau_patience: int = 0
    min_lr: float = 0.0
    eval_every: int | None = None
    metric: str = "loss"
    mode: str = "min"
    patience: int | None = None
    restore_best: bool = True
    ema_decay: float = 0.0
    checkpoint_dir: str | None = None
    checkpoint_every: int | None = None
    keep_best: bool = True
    keep_epochs: bool = False
    seed: int = 0
    deterministic: bool = False
    device: str = "auto"
    find_unused_parameters: bool = False
    log_path: str | None = None
    log_every: int = 10
    progress: bool = True

    def __post_init__(self) -> None:
        for name in ("checkpoint_dir", "log_path"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, os.fspath(value))
        for option in dataclasses.fields(self):
            value = getattr(self, option.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{option.name} must be a finite number, got {value}")
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("schedule", self.schedule, SCHEDULES)
        _check_choice("mode", self.mode, MODES)
        _check_choice("device", self.device, DEVICES)
        _check_positive("lr", self.lr)
        _check_at_least("momentum", self.momentum, 0.0)
        _check_positive("eps", self.eps)
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if not 0.0 <= self.alpha < 1.0:
            raise ValueError(f"alpha must be in [0, 1), got {self.alpha}")
        _check_at_least("weight_decay", self.weight_decay, 0.0)
        _check_at_least("min_lr", self.min_lr, 0.0)
        for name in ("clip_norm", "clip_value", "max_minutes"):
            if getattr(self, name) is not None:
                _check_positive(name, getattr(self, name))
        for name in ("grad_accum_steps", "epochs", "step_size", "log_every"):
            _check_int_at_least(name, getattr(self, name), 1)
        for name in ("constant_epochs", "warmup_steps", "plateau_patience", "seed"):
            _check_int_at_least(name, getattr(self, name), 0)
        for name in ("max_steps", "eval_every", "checkpoint_every", "patience"):
            if getattr(self, name) is not None:
                _check_int_at_least(name, getattr(self, name), 1)
        if not 0.0 < self.gamma <= 1.0 and self.schedule != "constant":
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma}")
        if not self.metric:
            raise ValueError("metric must name a key of the evaluation dict, got ''")

    def to_dict(self) -> dict[str, Any]:
        """The options as a plain dict (what a checkpoint stores)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainerConfig:
        """Rebuild a config saved by `to_dict`; unknown keys raise ValueError."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown TrainerConfig options: {', '.join(unknown)}")
        return cls(**data)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")


def _check_at_least(name: str, value: float, low: float) -> None:
    if not value >= low:
        raise ValueError(f"{name} must be >= {low}, got {value}")


def _check_int_at_least(name: str, value: int, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
