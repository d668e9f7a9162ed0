"""The Trainer's checkpoint state: what `last.pt` and `best.pt` hold, how a resumed run
puts it back (model, optimizer, schedule, counters, best score, patience, running losses,
every rank's RNG states), and the divergence check that keeps a diverged state off disk.
A mixin of `seqnlp.training.trainer.Trainer`, kept apart so that the training loop reads
on its own.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from seqnlp.training import distributed as dist_utils
from seqnlp.training.checkpoint import (
    BEST,
    LAST,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from seqnlp.training.config import TrainerConfig
from seqnlp.training.divergence import (
    TrainingDiverged,
    diverged_message,
    first_bad_step,
    weights_finite,
)
from seqnlp.training.meters import RunningMean
from seqnlp.training.optim import LRSchedule
from seqnlp.training.stopping import EarlyStopping

logger = logging.getLogger(__name__)


class TrainerState:
    """Saving and restoring a `Trainer`'s full state; mixed into `Trainer`, which owns the
    attributes declared below (see `Trainer` for their meaning)."""

    config: TrainerConfig
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    schedule: LRSchedule
    dist: dist_utils.DistInfo
    stopping: EarlyStopping
    epoch: int
    step: int
    batches_done: int
    history: list[dict[str, Any]]
    evaluations: list[dict[str, Any]]
    _best_state: dict[str, torch.Tensor] | None
    _ema: list[torch.Tensor] | None
    _params: list[torch.nn.Parameter]
    _epoch_loss: RunningMean
    _log_loss: RunningMean
    _elapsed: float
    _lr: float
    _saved: dict[str, tuple[int, ...]]
    _first_bad: torch.Tensor  # the first update with a non-finite loss or gradient (0: none)

    def _now(self) -> float:
        raise NotImplementedError  # the Trainer's clock

    def _check_finite(self, weights: bool = True) -> None:
        """TrainingDiverged when a loss or gradient so far, or (with `weights`) a weight,
        is not finite; every rank calls it, before any evaluation or checkpoint (see
        `seqnlp.training.divergence`)."""
        step = first_bad_step(self._first_bad)
        if step or (weights and not weights_finite(self.model)):
            last = self._checkpoint_path(LAST)
            kept = str(last) if last is not None and last.is_file() else None
            raise TrainingDiverged(diverged_message(step, self.step, self.config, kept))

    def _keep_best(self, metrics: dict[str, float]) -> None:
        state = self.model.state_dict()
        self._best_state = {name: t.detach().to("cpu", copy=True) for name, t in state.items()}
        path = self._checkpoint_path(BEST)
        if path is not None and self.config.keep_best and self.dist.is_main:
            save_checkpoint(path, {
                "config": self.config.to_dict(), "model": self._best_state,
                "epoch": self.epoch, "step": self.step, "metrics": metrics,
            })

    def _checkpoint_path(self, name: str) -> Path | None:
        folder = self.config.checkpoint_dir
        return None if folder is None else Path(folder) / name

    def _save_last(self, name: str = LAST) -> None:
        """Write the full training state (every rank takes part; rank 0 writes)."""
        path = self._checkpoint_path(name)
        if path is None:
            return
        key = (self.epoch, self.step, self.batches_done, len(self.evaluations))
        if self._saved.get(name) == key:
            return  # nothing happened since this very state was written
        self._check_finite()  # never overwrite a good checkpoint with a diverged state
        rngs = dist_utils.all_gather(rng_state())
        if self.dist.is_main:
            save_checkpoint(path, self._training_state(rngs))
        self._saved[name] = key

    def _training_state(self, rngs: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "counters": {
                "epoch": self.epoch, "step": self.step, "batches_done": self.batches_done,
                "elapsed": self._now(),
            },
            "stopping": self.stopping.state_dict(),
            "running": {
                "epoch_loss": [float(self._epoch_loss.total), self._epoch_loss.count],
                "log_loss": [float(self._log_loss.total), self._log_loss.count],
                "lr": self._lr,
            },
            "history": self.history,
            "evaluations": self.evaluations,
            "ema": self._ema,
            "world_size": self.dist.world_size,
            "rng": rngs,
        }

    def _restore(self, state: dict[str, Any]) -> None:
        changed = sorted(k for k, v in state["config"].items() if getattr(self.config, k, v) != v)
        if changed:
            logger.warning("resuming with changed options: %s", ", ".join(changed))
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.stopping.load_state_dict(state["stopping"])
        counters = state["counters"]
        self.epoch, self.step = counters["epoch"], counters["step"]
        self.batches_done = counters["batches_done"]
        self._elapsed = float(counters["elapsed"])
        running = state["running"]
        self._epoch_loss.total, self._epoch_loss.count = running["epoch_loss"]
        self._log_loss.total, self._log_loss.count = running["log_loss"]
        self._lr = running["lr"]
        self.history = list(state["history"])
        self.evaluations = list(state["evaluations"])
        self._best_state = self._load_best_weights()
        if state.get("ema") is not None and self.config.ema_decay:
            self._ema = [t.to(p.device) for t, p in zip(state["ema"], self._params)]
        rngs = state["rng"]
        if len(rngs) != self.dist.world_size:
            logger.warning("checkpoint from %d ranks resumed on %d: random streams differ",
                           len(rngs), self.dist.world_size)
        set_rng_state(rngs[self.dist.rank % len(rngs)])

    def _load_best_weights(self) -> dict[str, torch.Tensor] | None:
        """The weights of best.pt when they are those of the restored best evaluation."""
        path = self._checkpoint_path(BEST)
        if path is None or not path.is_file() or self.stopping.best_step is None:
            return None
        best = load_checkpoint(path)
        return best["model"] if best["step"] == self.stopping.best_step else None
