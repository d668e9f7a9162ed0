"""Dropout for sequences: one mask shared across time ("locked" or variational dropout,
Gal and Ghahramani, 2016) and dropout of whole word types from an embedding matrix
(embedding dropout, Gal and Ghahramani, 2016; as used in AWD-LSTM, Merity et al., 2018).

Shape legend: B batch, T time, H features, V vocabulary, E embedding size.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


def _check_p(p: float) -> float:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout must be in [0, 1], got {p}")
    return float(p)


def _keep_mask(like: Tensor, shape: tuple[int, ...], p: float) -> Tensor:
    """Bernoulli(1 - p) entries scaled by 1 / (1 - p) (all zero when p == 1)."""
    if p == 1.0:
        return like.new_zeros(shape)
    return like.new_empty(shape).bernoulli_(1.0 - p) / (1.0 - p)


def locked_dropout(x: Tensor, p: float, training: bool = True, batch_first: bool = True) -> Tensor:
    """Drop the same features at every time step of a sequence.

    Args:
        x: (B, T, ...) when `batch_first`, else (T, B, ...).
        p: the probability of dropping a feature; kept ones are scaled by 1 / (1 - p).
        training: apply dropout only when True; otherwise return `x` itself.
        batch_first: the layout of `x`.

    Returns:
        A tensor shaped like `x`; zeros stay zero, so padded steps stay zero.
    """
    p = _check_p(p)
    if not training or p == 0.0:
        return x
    shape = list(x.shape)
    shape[1 if batch_first else 0] = 1  # one mask per sequence, broadcast over time
    return x * _keep_mask(x, tuple(shape), p)


class LockedDropout(nn.Module):
    """`locked_dropout` as a module: active in training mode only.

    Args:
        p: dropout probability.
        batch_first: inputs are (B, T, ...) when True, (T, B, ...) when False.

    Shape:
        (B, T, H) -> (B, T, H), with one (B, 1, H) mask per call.
    """

    def __init__(self, p: float = 0.5, batch_first: bool = True) -> None:
        super().__init__()
        self.p = _check_p(p)
        self.batch_first = batch_first

    def forward(self, x: Tensor) -> Tensor:
        """Apply one mask per sequence, shared by all its time steps."""
        return locked_dropout(x, self.p, self.training, self.batch_first)

    def extra_repr(self) -> str:
        text = f"p={self.p}"
        return text if self.batch_first else text + ", batch_first=False"


def embedding_dropout(
    weight: Tensor,
    ids: Tensor,
    p: float,
    training: bool = True,
    padding_idx: int | None = None,
) -> Tensor:
    """Look up `ids` in `weight` after dropping whole rows (word types) with probability p.

    Every occurrence of a dropped word in the batch gets a zero vector; kept rows are
    scaled by 1 / (1 - p). One mask is drawn per call.

    Args:
        weight: the embedding matrix, (V, E).
        ids: integer ids of any shape (...).
        p: the probability of dropping a word type.
        training: drop only when True; otherwise a plain lookup.
        padding_idx: as in `torch.nn.functional.embedding` (no gradient to that row).

    Returns:
        (..., E) embeddings.
    """
    p = _check_p(p)
    if training and p > 0.0:
        weight = weight * _keep_mask(weight, (weight.size(0), 1), p)  # (V, E)
    return F.embedding(ids, weight, padding_idx)


class EmbeddingWithDropout(nn.Embedding):
    """An `nn.Embedding` that applies `embedding_dropout` in training mode.

    Its `weight` can be tied to an output layer exactly like a plain `nn.Embedding`'s.

    Args:
        num_embeddings: V.
        embedding_dim: E.
        padding_idx: as in `nn.Embedding`.
        dropout: the probability of dropping a word type.

    Shape:
        ids (...) -> (..., E).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        *,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(num_embeddings, embedding_dim, padding_idx=padding_idx)
        self.dropout = _check_p(dropout)

    def forward(self, input: Tensor) -> Tensor:
        """Look up `input` ids, dropping word types while training."""
        return embedding_dropout(
            self.weight, input, self.dropout, self.training, self.padding_idx
        )

    def extra_repr(self) -> str:
        return super().extra_repr() + f", dropout={self.dropout}"


__all__ = ["EmbeddingWithDropout", "LockedDropout", "embedding_dropout", "locked_dropout"]
