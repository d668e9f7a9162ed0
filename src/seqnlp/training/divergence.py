"""Divergence: a training loss, gradient or weight that turned NaN or infinite.

The Trainer records, on the device and without synchronising, the first update whose loss
or gradient norm was not finite (`mark_non_finite`); it reads that record back only where
it synchronises anyway (a log record, an evaluation, a checkpoint, the end of `fit`) and
then stops with `TrainingDiverged`, before anything is evaluated, kept as best or written.
So the last checkpoint on disk is always one of finite weights.
"""

from __future__ import annotations

import torch
from torch import nn

from seqnlp.errors import SeqnlpError
from seqnlp.training import distributed as dist_utils
from seqnlp.training.config import TrainerConfig


class TrainingDiverged(SeqnlpError):
    """The loss, its gradient or the weights became NaN or infinite; nothing was saved."""


def mark_non_finite(first_bad: torch.Tensor, step: int, *values: torch.Tensor | None) -> None:
    """Write `step` into `first_bad` (0-dim, int64, 0 = none yet) when it is still 0 and any
    of `values` is not finite; no host synchronisation."""
    finite = [torch.isfinite(v).all() for v in values if v is not None]
    if not finite:
        return
    bad = ~torch.stack(finite).all()
    first_bad.masked_fill_(bad & (first_bad == 0), step)


def first_bad_step(first_bad: torch.Tensor) -> int:
    """The earliest step marked on any rank (0: none); every rank gets the same answer."""
    return dist_utils.all_reduce_min_positive(first_bad)


def weights_finite(model: nn.Module) -> bool:
    """True when every parameter of `model` is finite (one host synchronisation)."""
    checks = [torch.isfinite(p).all() for p in model.parameters()]
    return not checks or bool(torch.stack(checks).all())


def diverged_message(first_bad: int, steps: int, config: TrainerConfig,
                     checkpoint: str | None) -> str:
    """What happened, at which step, what was kept and what to try, in one line.

    Args:
        first_bad: the first update with a non-finite loss or gradient (0: none; then
            the weights went bad by update `steps`).
        steps: updates done.
        config: the run's options (the learning rate and clipping to suggest below).
        checkpoint: the last checkpoint on disk, when there is one.
    """
    what = (f"the loss or its gradient became NaN or infinite at step {first_bad}"
            if first_bad else f"the weights became NaN or infinite by step {steps}")
    kept = f"the last checkpoint, {checkpoint}, is kept" if checkpoint else "nothing was saved"
    clip = ("clip the gradient norm (--clip 1)" if config.clip_norm is None
            else f"clip harder (--clip below {config.clip_norm:g})")
    return (f"training diverged: {what}; {kept}; lower the learning rate (--lr below "
            f"{config.lr:g}) or {clip}")
