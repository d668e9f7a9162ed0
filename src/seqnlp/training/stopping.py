"""The best evaluation so far and early stopping on a metric that stopped improving
(Prechelt, 1998, "Early stopping - but when?": stop after `patience` evaluations without
a new best)."""

from __future__ import annotations

from typing import Any

from seqnlp.training.optim import is_improvement


class EarlyStopping:
    """Tracks the best score, when it was reached, and evaluations since.

    Args:
        mode: "min" (lower is better) or "max".
        patience: evaluations without a strictly better score after which `stopped`
            becomes True; None never stops.

    Attributes:
        best_score, best_epoch, best_step: the best evaluation (None before any).
        bad_evals: evaluations since the best one.
        stopped: whether patience has run out.
    """

    def __init__(self, mode: str, patience: int | None) -> None:
        self.mode = mode
        self.patience = patience
        self.best_score: float | None = None
        self.best_epoch: int | None = None
        self.best_step: int | None = None
        self.bad_evals = 0
        self.stopped = False

    def update(self, score: float, epoch: int, step: int) -> bool:
        """Record one evaluation; return whether it is a new best. NaN never is."""
        if is_improvement(score, self.best_score, self.mode):
            self.best_score, self.best_epoch, self.best_step = score, epoch, step
            self.bad_evals = 0
            return True
        self.bad_evals += 1
        if self.patience is not None and self.bad_evals >= self.patience:
            self.stopped = True
        return False

    def state_dict(self) -> dict[str, Any]:
        """Plain values, for a checkpoint."""
        return {"best_score": self.best_score, "best_epoch": self.best_epoch,
                "best_step": self.best_step, "bad_evals": self.bad_evals,
                "stopped": self.stopped}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""
        self.best_score = state["best_score"]
        self.best_epoch = state["best_epoch"]
        self.best_step = state["best_step"]
        self.bad_evals = int(state["bad_evals"])
        self.stopped = bool(state["stopped"])
