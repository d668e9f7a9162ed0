"""Data-parallel training helpers: the torchrun environment, the process group, sharding.

Launch `torchrun --nproc_per_node=N script.py` (or `python -m torch.distributed.run`):
torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT, the Trainer reads
them here, joins the process group (gloo on CPU, nccl on CUDA) and wraps the model in
`torch.nn.parallel.DistributedDataParallel`, which averages gradients across ranks.

Sharding: every rank builds the same batch sequence for an epoch and keeps every
`world_size`-th batch, starting at its rank (batches are taken in groups of `world_size`;
an incomplete last group is dropped so that every rank makes the same number of updates).
With mean losses and equal batch sizes, one update then equals a single-process update
on the `world_size` batches of a group concatenated.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from seqnlp.errors import SeqnlpError

T = TypeVar("T")


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands in a data-parallel job (rank 0 of 1 when alone)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        """Whether there is more than one process."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Whether this process writes checkpoints, logs and progress bars (rank 0)."""
        return self.rank == 0


def dist_info_from_env() -> DistInfo:
    """Read RANK, WORLD_SIZE and LOCAL_RANK (set by torchrun); 0, 1, 0 when absent."""
    try:
        rank = int(os.environ.get("RANK", "0"))
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError as exc:
        raise ValueError(f"malformed torchrun environment: {exc}") from None
    if not 0 <= rank < world_size:
        raise ValueError(f"RANK must be in [0, WORLD_SIZE), got {rank} of {world_size}")
    return DistInfo(rank=rank, world_size=world_size, local_rank=local_rank)


def resolve_device(name: str, info: DistInfo) -> torch.device:
    """The device for "auto", "cpu" or "cuda"; under torchrun, CUDA device LOCAL_RANK.

    Raises:
        SeqnlpError: for "cuda" on a machine without CUDA.
    """
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise SeqnlpError("device='cuda' was asked for but CUDA is not available")
    torch.cuda.set_device(info.local_rank)  # nccl and all_gather_object use it
    return torch.device("cuda", info.local_rank)


def wrap_model(
    model: nn.Module, info: DistInfo, device: torch.device, find_unused_parameters: bool
) -> nn.Module:
    """`model` in DistributedDataParallel when there are several ranks, else itself."""
    if not info.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(
        model, device_ids=device_ids, find_unused_parameters=find_unused_parameters
    )


def init_process_group(info: DistInfo, device: torch.device) -> bool:
    """Join the default process group when `info` has several ranks.

    Uses nccl for a CUDA device and gloo otherwise, with the env:// rendezvous that
    torchrun prepares. Returns True when this call created the group (so the caller
    destroys it), False when alone or when a group already exists.
    """
    if not info.enabled or dist.is_initialized():
        return False
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)
    return True


def shard_batches(batches: Iterable[T], rank: int, world_size: int) -> Iterator[T]:
    """Every `world_size`-th batch from index `rank`; an incomplete last group is dropped.

    Example: 7 batches b0..b6 on 2 ranks give rank 0 [b0, b2, b4] and rank 1 [b1, b3, b5].
    """
    if world_size == 1:
        yield from batches
        return
    group: list[T] = []
    for batch in batches:
        group.append(batch)
        if len(group) == world_size:
            yield group[rank]
            group = []


def all_reduce_mean(value: float, device: torch.device) -> float:
    """The mean of `value` over the ranks (the value itself when not distributed)."""
    if not dist.is_initialized():
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return float(tensor.item()) / dist.get_world_size()


def all_reduce_min_positive(value: torch.Tensor) -> int:
    """The smallest positive value of a 0-dim integer tensor over the ranks (0: none is
    positive); the value itself, read back, when not distributed."""
    if not dist.is_initialized():
        return int(value)
    none = torch.iinfo(torch.int64).max
    tensor = torch.where(value > 0, value.to(torch.int64), none).reshape(1)
    dist.all_reduce(tensor, op=dist.ReduceOp.MIN)
    found = int(tensor.item())
    return 0 if found == none else found


def all_gather(obj: Any) -> list[Any]:
    """Every rank's `obj`, indexed by rank (a one-element list when not distributed)."""
    if not dist.is_initialized():
        return [obj]
    gathered: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, obj)
    return gathered


def barrier() -> None:
    """Wait for every rank (nothing when not distributed)."""
    if dist.is_initialized():
        dist.barrier()
