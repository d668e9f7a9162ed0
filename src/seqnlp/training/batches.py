"""What the Trainer does with a batch: move it to the device, call the model, count it.

A batch is any nesting of dicts, lists and tuples (named tuples included) with tensors
at the leaves. A dict is passed as keyword arguments (`model(**batch)`), a list or tuple
as positional ones (`model(*batch)`), anything else as the single argument; the model
returns `(output, loss)` with a scalar loss.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import torch
from torch import nn

Batch = Any
# Training data: a function `epoch -> iterable of batches`, or a re-iterable collection
# (a list) giving the same batches every epoch.
BatchSource = Callable[[int], Iterable[Batch]] | Iterable[Batch]
# Evaluation: `evaluate(model, dev_batches) -> {"name": value}`.
EvaluateFn = Callable[[nn.Module, Iterable[Batch]], Mapping[str, float]]


def move_to_device(batch: Batch, device: torch.device) -> Batch:
    """A copy of `batch` with every tensor moved to `device` (other leaves kept as is)."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {key: move_to_device(value, device) for key, value in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # a named tuple
        return type(batch)(*(move_to_device(value, device) for value in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to_device(value, device) for value in batch)
    return batch


def call_model(model: nn.Module, batch: Batch) -> tuple[Any, torch.Tensor]:
    """Run `model` on `batch` and return its `(output, loss)`.

    Raises:
        TypeError: when the model does not return a pair whose second item is a scalar
            tensor.
    """
    if isinstance(batch, Mapping):
        result = model(**batch)
    elif isinstance(batch, (list, tuple)) and not hasattr(batch, "_fields"):
        result = model(*batch)
    else:
        result = model(batch)
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise TypeError(f"the model must return (output, loss); got {type(result).__name__}")
    output, loss = result
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise TypeError(
            "the model must return (output, loss) with a scalar loss tensor "
            "(was it given its targets?); got loss "
            f"{loss if loss is None else type(loss).__name__}"
        )
    return output, loss.reshape(())


def count_examples(batch: Batch) -> int:
    """The size of dim 0 of the first tensor in `batch` (0 when it holds none)."""
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() else 1
    if isinstance(batch, Mapping):
        values: Iterable[Batch] = batch.values()
    elif isinstance(batch, (list, tuple)):
        values = batch
    else:
        return 0
    for value in values:
        count = count_examples(value)
        if count:
            return count
    return 0


def chunked(items: Iterable[Batch], size: int) -> Iterator[list[Batch]]:
    """Consecutive lists of `size` items (the batches of one accumulated update); the
    last may be shorter."""
    chunk: list[Batch] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def epoch_batches(source: BatchSource) -> Callable[[int], Iterable[Batch]]:
    """Normalise `train_batches` to a function of the epoch.

    Raises:
        TypeError: for a one-shot iterator (a generator), which a second epoch or a
            resume could not read again.
    """
    if callable(source):
        return source
    if isinstance(source, Iterator):
        raise TypeError(
            "train_batches is a one-shot iterator; pass a list of batches or a function "
            "epoch -> iterable of batches"
        )
    return lambda epoch: source


def dev_batches_of(source: Callable[[], Iterable[Batch]] | Iterable[Batch]) -> Iterable[Batch]:
    """Normalise `dev_batches` (a re-iterable, or a function of no argument)."""
    if isinstance(source, Iterator):
        raise TypeError(
            "dev_batches is a one-shot iterator; pass a list of batches or a function "
            "() -> iterable of batches"
        )
    if callable(source):
        return _Called(source)
    return source


class OnDevice:
    """Re-iterable view of `batches` that moves each batch to `device` as it is read."""

    def __init__(self, batches: Iterable[Batch], device: torch.device) -> None:
        self.batches = batches
        self.device = device

    def __iter__(self) -> Iterator[Batch]:
        for batch in self.batches:
            yield move_to_device(batch, self.device)


class _Called:
    """Re-iterable that calls a zero-argument function each time it is iterated."""

    def __init__(self, make: Callable[[], Iterable[Batch]]) -> None:
        self.make = make

    def __iter__(self) -> Iterator[Batch]:
        return iter(self.make())


@torch.no_grad()
def mean_loss(model: nn.Module, batches: Iterable[Batch]) -> dict[str, float]:
    """The default evaluation: `{"loss": mean of the batch losses}` (NaN when empty)."""
    total, count = 0.0, 0
    for batch in batches:
        _, loss = call_model(model, batch)
        total += float(loss)
        count += 1
    return {"loss": total / count if count else float("nan")}
