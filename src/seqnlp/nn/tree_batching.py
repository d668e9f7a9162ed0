"""Dynamic batching of recursive networks by tree level (as TensorFlow Fold, Looks et al. 2017,
and DGL do): every node of the same height, across a whole batch of trees, is composed in one
tensor operation, so a batch costs one step per level instead of one per node.

The nodes of a batch are laid out level-major: the leaves of every tree first (height 0),
then every node of height 1, and so on. A node's children always sit at lower positions, so
level h reads its children from the states already computed and appends its own:

    positions  0 ........ L-1 | L ...... L+n1-1 | ... |  ... N-1
    height     0 (all leaves) | 1               | ... |  max height
               <- states[:start_h] ready ------> <- level h composed in one call ->
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

State = tuple[Tensor, ...]  # one tensor per part of a node's state, each (N, ...)


@dataclass(frozen=True)
class LevelSchedule:
    """Where each node of a batch of trees goes and what each level composes.

    Attributes:
        order: (N,) the batch-wide post-order index of the node at each level-major
            position (the inverse of `position`).
        position: (N,) the level-major position of each node, by batch-wide post-order
            index (tree t's nodes come after those of trees 0..t-1).
        num_leaves: L, the leaves (they take positions 0..L-1).
        levels: one `(left, right)` pair of (n_h,) position arrays per height h >= 1: the
            children of the n_h nodes that take the next n_h positions.
        roots: (B,) the position of each tree's root.
    """

    order: np.ndarray
    position: np.ndarray
    num_leaves: int
    levels: tuple[tuple[np.ndarray, np.ndarray], ...]
    roots: np.ndarray


def level_schedule(left: Sequence[np.ndarray], right: Sequence[np.ndarray],
                   heights: Sequence[np.ndarray]) -> LevelSchedule:
    """The level-major layout of a batch of binary trees.

    Args:
        left, right: per tree, (n_t,) the post-order index of each node's left and right
            child within its tree (-1 for a leaf).
        heights: per tree, (n_t,) each node's height (leaves 0); each tree's root is its
            last node.

    Returns:
        The `LevelSchedule` (NumPy int64 arrays).
    """
    sizes = np.array([len(h) for h in heights], dtype=np.int64)  # (B,)
    base = np.concatenate([[0], np.cumsum(sizes)[:-1]])  # (B,) first index of each tree
    height = np.concatenate([np.asarray(h, dtype=np.int64) for h in heights])  # (N,)
    lefts = np.concatenate([np.where(np.asarray(a) >= 0, np.asarray(a) + b, -1)
                            for a, b in zip(left, base)])  # (N,)
    rights = np.concatenate([np.where(np.asarray(a) >= 0, np.asarray(a) + b, -1)
                             for a, b in zip(right, base)])  # (N,)
    order = np.argsort(height, kind="stable")  # level-major, post-order within a level
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    counts = np.bincount(height)
    starts = np.concatenate([[0], np.cumsum(counts)])
    levels = []
    for h in range(1, len(counts)):
        nodes = order[starts[h]:starts[h + 1]]
        levels.append((position[lefts[nodes]], position[rights[nodes]]))
    roots = position[base + sizes - 1]
    return LevelSchedule(order, position, int(counts[0]), tuple(levels), roots)


def levels_as_tensors(schedule: LevelSchedule) -> list[tuple[Tensor, Tensor]]:
    """The schedule's levels as int64 tensors, ready for `evaluate_levels`."""
    return [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in schedule.levels]


def evaluate_levels(cell: torch.nn.Module, leaves: State,
                    levels: Sequence[tuple[Tensor, Tensor]],
                    types: Tensor | None = None) -> State:
    """Run a recursive cell bottom-up over a batch laid out by `level_schedule`.

    Args:
        cell: a module with `compose(left: State, right: State, left_type, right_type)
            -> State` (see `seqnlp.nn.tree`).
        leaves: the leaves' states, each (L, ...).
        levels: per height h >= 1, the (n_h,) positions of the left and right children.
        types: (N,) each node's type (SU-RNN), or None.

    Returns:
        The state of every node, each part (N, ...), in level-major order.
    """
    states = leaves
    for left, right in levels:
        left_type = None if types is None else types[left]
        right_type = None if types is None else types[right]
        new = cell.compose(tuple(s[left] for s in states), tuple(s[right] for s in states),
                           left_type, right_type)
        states = tuple(torch.cat([old, part]) for old, part in zip(states, new))
    return states
