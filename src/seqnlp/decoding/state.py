"""The step-function contract shared by every decoder, and helpers that move its state around.

A decoder drives ``step(state, tokens) -> (log_probs, new_state)``: ``tokens`` is a LongTensor
(N,) of the last token of each sequence, ``log_probs`` a float tensor (N, V) of next-token
log-probabilities, and ``state`` any nest (tensor, tuple, list, namedtuple, dict, None) whose
tensor leaves hold one row per sequence on dim 0. Beam search repeats each sentence's rows
K times and, after every step, selects the surviving rows; `repeat_state` and `reorder_state`
do that for any such nest. States laid out otherwise (an LSTM's ``(h, c)`` of shape (L, N, H))
take ``functools.partial(reorder_state, dim=1)`` and ``functools.partial(repeat_state, dim=1)``,
or any function with the same signature for mixed layouts::

    def reorder(state, index):      # state = {"memory": (N, S, H), "hidden": (L, N, H)}
        return {"memory": state["memory"].index_select(0, index),
                "hidden": state["hidden"].index_select(1, index)}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

StepFn = Callable[[Any, torch.Tensor], tuple[torch.Tensor, Any]]
"""``step(state, tokens (N,)) -> (log_probs (N, V), new_state)``."""

ReorderFn = Callable[[Any, torch.Tensor], Any]
"""``reorder(state, index (M,)) -> state`` whose row i is the old row ``index[i]``."""

RepeatFn = Callable[[Any, int], Any]
"""``repeat(state, k) -> state`` whose rows ``b*k .. b*k+k-1`` are copies of the old row b."""


def map_state(state: Any, fn: Callable[[torch.Tensor], torch.Tensor]) -> Any:
    """Apply `fn` to every tensor leaf of a nest, keeping its structure.

    Tuples, lists, namedtuples and dicts are rebuilt with the same type; anything else
    that is not a tensor (None, ints, strings) is returned unchanged.

    Args:
        state: a tensor or a nest of tuples, lists and dicts with tensor leaves.
        fn: the function applied to each tensor leaf.

    Returns:
        A nest of the same structure holding ``fn(leaf)`` for each tensor leaf.
    """
    if isinstance(state, torch.Tensor):
        return fn(state)
    if isinstance(state, tuple) and hasattr(state, "_fields"):  # namedtuple
        return type(state)(*(map_state(item, fn) for item in state))
    if isinstance(state, (tuple, list)):
        return type(state)(map_state(item, fn) for item in state)
    if isinstance(state, dict):
        return type(state)((key, map_state(value, fn)) for key, value in state.items())
    return state


def reorder_state(state: Any, index: torch.Tensor, dim: int = 0) -> Any:
    """Select rows of every tensor leaf: row i of the result is row ``index[i]`` of the input.

    Args:
        state: a nest whose tensor leaves have the batch on `dim`.
        index: LongTensor (M,) of rows to keep, repeats allowed.
        dim: the batch dimension of every leaf (1 for an LSTM's (L, N, H) hidden state).

    Returns:
        The nest with ``leaf.index_select(dim, index)`` for each tensor leaf.
    """
    return map_state(state, lambda leaf: leaf.index_select(dim, index.to(leaf.device)))


def repeat_state(state: Any, k: int, dim: int = 0) -> Any:
    """Repeat each row of every tensor leaf `k` times, copies adjacent (``repeat_interleave``).

    Sentence b of a batch then owns rows ``b*k .. b*k+k-1``, the layout beam search uses.

    Args:
        state: a nest whose tensor leaves have the batch on `dim`.
        k: copies of each row, positive.
        dim: the batch dimension of every leaf.

    Returns:
        The nest with ``leaf.repeat_interleave(k, dim)`` for each tensor leaf.
    """
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")
    return map_state(state, lambda leaf: leaf.repeat_interleave(k, dim=dim))


def first_tensor(state: Any) -> torch.Tensor | None:
    """The first tensor leaf of a nest in depth-first order, or None when it has none."""
    if isinstance(state, torch.Tensor):
        return state
    if isinstance(state, dict):
        items = list(state.values())
    elif isinstance(state, (tuple, list)):
        items = list(state)
    else:
        return None
    for item in items:
        found = first_tensor(item)
        if found is not None:
            return found
    return None


def start_tokens(bos: int | torch.Tensor, state: Any) -> torch.Tensor:
    """The first input tokens, a LongTensor (B,).

    A tensor `bos` is used as given. An int is repeated over the batch, whose size is read
    from dim 0 of the state's first tensor leaf (1 when the state holds no tensor); pass a
    (B,) tensor when the state's leaves do not have the batch on dim 0.

    Args:
        bos: the begin-of-sequence token, an int or a LongTensor (B,).
        state: the decoder's initial state.

    Returns:
        LongTensor (B,) on the device of the state (or of `bos`).
    """
    if isinstance(bos, torch.Tensor):
        if bos.dim() != 1 or bos.numel() == 0:
            raise ValueError(
                f"bos must be an int or a non-empty 1-D tensor, got shape {tuple(bos.shape)}"
            )
        return bos.long()
    leaf = first_tensor(state)
    batch = 1 if leaf is None or leaf.dim() == 0 else leaf.size(0)
    device = None if leaf is None else leaf.device
    return torch.full((batch,), int(bos), dtype=torch.long, device=device)


def check_log_probs(log_probs: torch.Tensor, rows: int) -> None:
    """Raise ValueError unless a step returned a floating tensor of shape (rows, V)."""
    if not isinstance(log_probs, torch.Tensor) or not log_probs.is_floating_point():
        raise ValueError(
            f"step must return a float tensor of log-probabilities, got {type(log_probs)}"
        )
    if log_probs.dim() != 2 or log_probs.size(0) != rows:
        raise ValueError(
            f"step must return log_probs of shape ({rows}, V), got {tuple(log_probs.shape)}"
        )


def forbid_token(log_probs: torch.Tensor, token: int) -> torch.Tensor:
    """A copy of `log_probs` (N, V) with column `token` set to -inf (the input is untouched)."""
    column = torch.tensor([token], device=log_probs.device)
    return log_probs.index_fill(1, column, float("-inf"))
