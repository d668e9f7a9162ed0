"""Training checkpoints: atomic writes, safe loads, and the random-number states
(saving, restoring and seeding them, and torch's deterministic mode).

A checkpoint is a dict of tensors and plain values (no pickled objects), so that it
loads with `torch.load(weights_only=True)`. It is written to a temporary file beside the
target and renamed over it only once complete (`seqnlp.fileio.atomic_write`): a crash
mid-write leaves the previous checkpoint, never a truncated one, under the final name.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqnlp.errors import SeqnlpError
from seqnlp.fileio import atomic_write

FORMAT_VERSION = 1
LAST = "last.pt"
BEST = "best.pt"


class CheckpointError(SeqnlpError):
    """A checkpoint file is missing, unreadable, or not one written by this Trainer."""


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Write `state` (plus `format_version`) to `path` atomically; return the path."""
    target = Path(path)
    with atomic_write(target, "wb") as handle:
        torch.save({"format_version": FORMAT_VERSION, **state}, handle)
    return target


def load_checkpoint(
    path: str | os.PathLike[str], map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint`, with `weights_only=True`.

    Raises:
        CheckpointError: when the file is absent, corrupt, or of another format version.
    """
    target = Path(path)
    if not target.is_file():
        raise CheckpointError(f"{target}: no such checkpoint")
    try:
        state = torch.load(target, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for a damaged archive
        raise CheckpointError(f"{target}: unreadable checkpoint ({exc})") from None
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{target}: not a seqnlp checkpoint of format {FORMAT_VERSION}")
    return state


def rng_state() -> dict[str, Any]:
    """The python, numpy, torch and CUDA generator states as tensors and plain values."""
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    state: dict[str, Any] = {
        "python": [version, list(internal), gauss],
        "numpy": [name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore generator states saved by `rng_state`."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"].cpu())
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def seed_everything(seed: int) -> None:
    """Seed python's `random`, numpy's global generator and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def set_deterministic(enabled: bool) -> None:
    """Make torch choose deterministic kernels (process-wide) or allow any again.

    Also fixes cuDNN's algorithm choice and sets CUBLAS_WORKSPACE_CONFIG, which CUDA
    matrix products need to be deterministic (it must be set before CUDA starts).
    """
    if enabled:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(enabled)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = enabled
