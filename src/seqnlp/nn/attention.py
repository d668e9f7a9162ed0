"""Attention over a padded memory (Bahdanau et al., 2015; Luong et al., 2015; Vaswani et al.,
2017 for the scaled dot product).

A query q (the decoder's state) scores every memory vector x_n (encoder states, or image
feature columns) with a score function s(x_n, q), a softmax over the real positions turns
the scores into weights, and the context is their weighted average:

    e_n     = s(x_n, q)                                  n = 1..S
    alpha_n = exp(e_n) / sum_{m: real} exp(e_m)          (0 at padded positions)
    c       = sum_n alpha_n x_n

Score functions (`SCORES`), with q in R^Q, x in R^K:

    dot         s = q . x                                (Luong; needs Q == K)
    scaled_dot  s = q . x / sqrt(K)                      (Vaswani; needs Q == K)
    general     s = q^T W x,  W (Q, K)                   (Luong's bilinear form)
    scaled_general  s = q^T W x / sqrt(K)                (the bilinear form on the scaled
                                                         dot product's scale)
    additive    s = v^T tanh(W_q q + W_x x + b),  W_q (A, Q), W_x (A, K), b, v (A,)
                                                         (Bahdanau's MLP)
    concat      s = v^T tanh(W [q; x]),  W (A, Q + K), v (A,)   (Luong's concat)

Why "scaled_general": with K = 512 and W drawn as torch's Linear draws it, Adam's updates
to W move the general score fast: on Multi30k the attention was one-hot (mean entropy 0.025
nats over val target tokens after 400 updates) and the model trailed one without attention
(val BLEU 12.4 against 13.4); dividing by sqrt(K) kept it soft (entropy 1.01) and gave val
BLEU 21.7.

The parts of a score that depend on the memory alone (W_x x for additive and concat) are
computed once per memory by `prepare` and reused at every decoder step.

Shape legend: B batch, S memory length, Q query size, K memory (key) size, A attention size.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

SCORES = ("dot", "scaled_dot", "general", "scaled_general", "additive", "concat")
BILINEAR = ("general", "scaled_general")  # a weight W (Q, K)
SCALED = ("scaled_dot", "scaled_general")  # divided by sqrt(K)


def masked_softmax(scores: Tensor, mask: Tensor | None, dim: int = -1) -> Tensor:
    """Softmax over `dim` counting only the positions where `mask` is true.

    Padded positions get weight exactly 0; a row with no real position gets all zeros
    (rather than NaN).

    Args:
        scores: any float tensor, e.g. (B, S) or (B, T, S).
        mask: bool, broadcastable to `scores` (True on real positions), or None for all.
        dim: the dimension normalised over.

    Returns:
        Weights of the shape of `scores`, summing to 1 over `dim` on rows with a real
        position.
    """
    if mask is None:
        return torch.softmax(scores, dim=dim)
    scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=dim)
    return weights.masked_fill(~mask, 0.0)  # an all-padded row: nan -> 0


class Attention(nn.Module):
    """Scores a query against a memory and returns the context and the weights.

    Args:
        score: one of `SCORES` (see the module docstring for the equations).
        query_size: Q.
        key_size: K, the width of the memory vectors.
        attention_size: A, the hidden width of "additive" and "concat" (ignored by the
            others; default K).

    Parameters: "general" and "scaled_general" `weight` (Q, K); "additive" `query_proj`
    (A, Q) with bias, `key_proj` (A, K), `v` (A,); "concat" `proj` (A, Q + K), `v` (A,).

    Shape:
        forward(query (B, Q), memory (B, S, K), mask (B, S) or None, prepared=None)
        -> (context (B, K), weights (B, S));
        a query (B, T, Q) of T steps at once gives (B, T, K) and (B, T, S).
    """

    def __init__(self, score: str, query_size: int, key_size: int,
                 attention_size: int | None = None) -> None:
        super().__init__()
        if score not in SCORES:
            raise ValueError(f"score must be one of {', '.join(SCORES)}, got {score!r}")
        if score in ("dot", "scaled_dot") and query_size != key_size:
            raise ValueError(f"{score} attention needs query_size == key_size, got "
                             f"{query_size} and {key_size}")
        self.score = score
        self.query_size, self.key_size = query_size, key_size
        size = attention_size or key_size
        self.attention_size = size
        if score in BILINEAR:
            self.weight = nn.Parameter(torch.empty(query_size, key_size))
        elif score == "additive":
            self.query_proj = nn.Linear(query_size, size)
            self.key_proj = nn.Linear(key_size, size, bias=False)
            self.v = nn.Parameter(torch.empty(size))
        elif score == "concat":
            self.proj = nn.Linear(query_size + key_size, size, bias=False)
            self.v = nn.Parameter(torch.empty(size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for `weight` and `v`, as torch's Linear."""
        if self.score in BILINEAR:
            bound = 1 / math.sqrt(self.key_size)
            nn.init.uniform_(self.weight, -bound, bound)
        if self.score in ("additive", "concat"):
            bound = 1 / math.sqrt(self.attention_size)
            nn.init.uniform_(self.v, -bound, bound)

    def prepare(self, memory: Tensor) -> Tensor | None:
        """The memory-only part of the score, computed once per memory.

        Returns:
            W_x x (B, S, A) for "additive", W[:, Q:] x (B, S, A) for "concat"; None else.
        """
        if self.score == "additive":
            return self.key_proj(memory)
        if self.score == "concat":
            return memory @ self.proj.weight[:, self.query_size:].t()  # (B, S, A)
        return None

    def scores(self, query: Tensor, memory: Tensor, prepared: Tensor | None = None) -> Tensor:
        """The unnormalised scores e (B, S), or (B, T, S) for a query (B, T, Q)."""
        steps = query.dim() == 3
        q = query if steps else query.unsqueeze(1)  # (B, T, Q)
        if self.score in ("dot", *BILINEAR, "scaled_dot"):
            if self.score in BILINEAR:
                q = q @ self.weight  # (B, T, K): q^T W
            e = q @ memory.transpose(1, 2)  # (B, T, S)
            if self.score in SCALED:
                e = e / math.sqrt(self.key_size)
        else:
            if prepared is None:
                prepared = self.prepare(memory)
            if self.score == "additive":
                projected = self.query_proj(q)  # (B, T, A)
            else:
                projected = q @ self.proj.weight[:, : self.query_size].t()  # (B, T, A)
            hidden = torch.tanh(projected.unsqueeze(2) + prepared.unsqueeze(1))  # (B, T, S, A)
            e = hidden @ self.v  # (B, T, S)
        return e if steps else e.squeeze(1)

    def forward(self, query: Tensor, memory: Tensor, mask: Tensor | None = None,
                prepared: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Attend; see the class docstring. `prepared` is `prepare(memory)`, if kept."""
        e = self.scores(query, memory, prepared)
        if mask is not None and e.dim() == 3:
            mask = mask.unsqueeze(1)  # (B, 1, S)
        weights = masked_softmax(e, mask)
        if weights.dim() == 3:
            return weights @ memory, weights  # (B, T, K), (B, T, S)
        return (weights.unsqueeze(1) @ memory).squeeze(1), weights  # (B, K), (B, S)

    def extra_repr(self) -> str:
        return (f"score={self.score!r}, query_size={self.query_size}, "
                f"key_size={self.key_size}, attention_size={self.attention_size}")
