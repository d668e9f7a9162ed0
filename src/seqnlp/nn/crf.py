"""A linear-chain conditional random field over per-position emission scores (Lafferty et
al., 2001), as used on top of a BiLSTM by Huang et al. (2015) and Lample et al. (2016).

The score of a tag sequence y for a sentence of length T is

    s(y) = start[y_1] + sum_t emission[t, y_t] + sum_{t>1} transition[y_{t-1}, y_t] + end[y_T]

and p(y) = exp(s(y)) / Z, where Z sums exp(s) over all K^T sequences. The forward algorithm
computes log Z in O(T K^2) in log space; Viterbi finds the best sequence the same way with max
in place of logsumexp. Everything is batched over sentences of different lengths with a mask
(True on real positions, which come first in each row).

Constraints (tags that may not follow each other, or may not begin or end a sentence) are
given as boolean tables; a forbidden move's score is `FORBIDDEN` (-10,000), so that no
decoded path uses one while every probability stays finite and gradients stay defined.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

FORBIDDEN = -10_000.0


class LinearChainCRF(nn.Module):
    """Transition, start and end scores over `num_tags` tags, with optional constraints.

    Args:
        num_tags: K.
        allowed: (K, K) bools (a tensor or nested lists), `allowed[i][j]`: tag j may
            follow tag i (None: all).
        allowed_start: (K,) bools, tags a sentence may begin with (None: all).
        allowed_end: (K,) bools, tags a sentence may end with (None: all).
    """

    def __init__(self, num_tags: int, allowed: Tensor | Sequence[Any] | None = None,
                 allowed_start: Tensor | Sequence[Any] | None = None,
                 allowed_end: Tensor | Sequence[Any] | None = None) -> None:
        super().__init__()
        if num_tags < 1:
            raise ValueError(f"num_tags must be >= 1, got {num_tags}")
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))
        self.register_buffer("transition_penalty", _penalty(allowed, (num_tags, num_tags)))
        self.register_buffer("start_penalty", _penalty(allowed_start, (num_tags,)))
        self.register_buffer("end_penalty", _penalty(allowed_end, (num_tags,)))
        nn.init.uniform_(self.transitions, -0.1, 0.1)

    def extra_repr(self) -> str:
        constrained = bool((self.transition_penalty < 0).any() or (self.start_penalty < 0).any()
                           or (self.end_penalty < 0).any())
        return f"num_tags={self.num_tags}, constrained={constrained}"

    def _scores(self) -> tuple[Tensor, Tensor, Tensor]:
        """Transition, start and end scores with the constraints applied."""
        return (self.transitions + self.transition_penalty, self.start + self.start_penalty,
                self.end + self.end_penalty)

    def forward(self, emissions: Tensor, tags: Tensor, mask: Tensor | None = None,
                reduction: str = "mean") -> Tensor:
        """The negative log-likelihood of `tags`: the training loss.

        Args:
            emissions: (B, T, K) scores of each tag at each position.
            tags: (B, T) gold tag indices (any value at padded positions).
            mask: (B, T) bool, True on real positions; None: every position is real.
            reduction: "mean" (over sentences), "sum", "token_mean" (over real positions)
                or "none" ((B,) values).
        """
        mask = _check(emissions, mask, self.num_tags)
        nll = self.log_partition(emissions, mask) - self.score(emissions, tags, mask)
        if reduction == "none":
            return nll
        if reduction == "sum":
            return nll.sum()
        if reduction == "mean":
            return nll.mean()
        if reduction == "token_mean":
            return nll.sum() / mask.sum()
        raise ValueError(f"unknown reduction {reduction!r}")

    def score(self, emissions: Tensor, tags: Tensor, mask: Tensor | None = None) -> Tensor:
        """s(tags) of each sentence, (B,)."""
        mask = _check(emissions, mask, self.num_tags)
        transitions, start, end = self._scores()
        tags = tags.masked_fill(~mask, 0)
        weights = mask.to(emissions.dtype)
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (B, T)
        total = start[tags[:, 0]] + (emitted * weights).sum(1)
        if tags.size(1) > 1:
            moves = transitions[tags[:, :-1], tags[:, 1:]]  # (B, T - 1)
            total = total + (moves * weights[:, 1:]).sum(1)
        last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)
        return total + end[last]

    def log_partition(self, emissions: Tensor, mask: Tensor | None = None) -> Tensor:
        """log Z of each sentence by the forward algorithm, (B,)."""
        mask = _check(emissions, mask, self.num_tags)
        transitions, start, end = self._scores()
        alpha = start + emissions[:, 0]  # (B, K): log-sum of every prefix ending in each tag
        for t in range(1, emissions.size(1)):
            step = torch.logsumexp(alpha.unsqueeze(2) + transitions, dim=1) + emissions[:, t]
            alpha = torch.where(mask[:, t : t + 1], step, alpha)
        return torch.logsumexp(alpha + end, dim=1)

    def log_likelihood(self, emissions: Tensor, tags: Tensor, mask: Tensor | None = None) -> Tensor:
        """log p(tags | sentence), (B,)."""
        return -self.forward(emissions, tags, mask, reduction="none")

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The best tag sequence of each sentence (Viterbi).

        Returns:
            `(tags, scores)`: (B, T) long, 0 at padded positions; (B,) their scores s(tags).
        """
        mask = _check(emissions, mask, self.num_tags)
        transitions, start, end = self._scores()
        batch, length, k = emissions.shape
        best = start + emissions[:, 0]  # (B, K): the best prefix ending in each tag
        stay = torch.arange(k, device=emissions.device).expand(batch, k)
        pointers = []  # pointers[t - 1][b, j]: the best tag before tag j at position t
        for t in range(1, length):
            candidates = best.unsqueeze(2) + transitions  # (B, K from, K to)
            top, came_from = candidates.max(dim=1)
            real = mask[:, t : t + 1]
            best = torch.where(real, top + emissions[:, t], best)
            pointers.append(torch.where(real, came_from, stay))  # padding: keep the tag
        scores, tag = (best + end).max(dim=1)
        path = [tag]
        for came_from in reversed(pointers):
            tag = came_from.gather(1, tag.unsqueeze(1)).squeeze(1)
            path.append(tag)
        tags = torch.stack(path[::-1], dim=1)
        return tags.masked_fill(~mask, 0), scores


def _penalty(allowed: Tensor | Sequence[Any] | None, shape: tuple[int, ...]) -> Tensor:
    """0 where allowed, FORBIDDEN elsewhere.

    Built from Python values with no tensor op, so that building the module on the meta
    device (the registry's shape check) runs no kernel; a meta op here would make torch
    import its reference implementations, about 2 s.
    """
    if allowed is None:
        return torch.zeros(shape)
    values = allowed.tolist() if isinstance(allowed, Tensor) else allowed
    table = _as_nested(values, len(shape))
    if _shape_of(table, len(shape)) != shape:
        raise ValueError(f"constraint table has shape {_shape_of(table, len(shape))}, "
                         f"expected {shape}")
    if len(shape) == 1:
        return torch.tensor([0.0 if ok else FORBIDDEN for ok in table])
    return torch.tensor([[0.0 if ok else FORBIDDEN for ok in row] for row in table])


def _as_nested(values: Any, dims: int) -> list[Any]:
    return [list(row) for row in values] if dims == 2 else list(values)


def _shape_of(table: list[Any], dims: int) -> tuple[int, ...]:
    if dims == 1:
        return (len(table),)
    widths = {len(row) for row in table}
    return (len(table), widths.pop() if len(widths) == 1 else -1)


def _check(emissions: Tensor, mask: Tensor | None, num_tags: int) -> Tensor:
    """The mask as bool (all True when None), after checking the shapes."""
    if emissions.dim() != 3 or emissions.size(2) != num_tags:
        raise ValueError(f"emissions must be (batch, length, {num_tags}), got "
                         f"{tuple(emissions.shape)}")
    if emissions.size(1) == 0:
        raise ValueError("sentences must have at least one position")
    if mask is None:
        return torch.ones(emissions.shape[:2], dtype=torch.bool, device=emissions.device)
    mask = mask.to(torch.bool)
    if mask.shape != emissions.shape[:2]:
        raise ValueError(f"mask has shape {tuple(mask.shape)}, emissions {tuple(emissions.shape)}")
    if not bool(mask[:, 0].all()):
        raise ValueError("every sentence needs at least one position, and the first must be real")
    if bool((mask[:, 1:] & ~mask[:, :-1]).any()):
        raise ValueError("mask must be True on a prefix of each row (padding at the end only)")
    return mask
