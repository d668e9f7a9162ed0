"""Ancestral sampling with temperature, top-k (Fan et al., 2018) and nucleus top-p
(Holtzman et al., 2020, "The Curious Case of Neural Text Degeneration") filtering.

At each step the step's log-probabilities are divided by the temperature, cut to the k most
probable tokens, then cut to the smallest set of tokens whose probability sums to at least p,
renormalised, and one token is drawn. A `torch.Generator` makes the draws reproducible.
"""

from __future__ import annotations

import math

from typing import Any

import torch

from seqnlp.decoding.greedy import GenerationResult, generate
from seqnlp.decoding.state import StepFn


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the `k` largest entries of each row and set the others to -inf.

    Exactly `k` survive per row (ties at the k-th value are broken by `torch.topk`).

    Args:
        logits: float tensor (N, V) of unnormalised log-probabilities.
        k: how many tokens to keep, positive; k >= V keeps every token.

    Returns:
        A new tensor (N, V).
    """
    if k < 1:
        raise ValueError(f"top_k must be positive, got {k}")
    if k >= logits.size(-1):
        return logits.clone()
    values, index = logits.topk(k, dim=-1)  # (N, k)
    return torch.full_like(logits, float("-inf")).scatter(-1, index, values)


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Keep the nucleus of each row: the smallest set of most probable tokens whose
    probabilities sum to at least `p`, and set the others to -inf.

    A token survives when the probability of the tokens ranked above it is below `p`, so
    the most probable token always survives.

    Args:
        logits: float tensor (N, V) of unnormalised log-probabilities.
        p: the nucleus mass, in (0, 1]; 1 keeps every token.

    Returns:
        A new tensor (N, V).
    """
    if not 0 < p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {p}")
    if p == 1:
        return logits.clone()
    sorted_logits, order = logits.sort(dim=-1, descending=True)  # (N, V), most probable first
    probs = sorted_logits.softmax(dim=-1)
    # (N, V) probability of the tokens ranked above each token: an exclusive cumulative sum.
    cumulative = probs.cumsum(dim=-1)
    mass_above = torch.cat([torch.zeros_like(probs[..., :1]), cumulative[..., :-1]], dim=-1)
    drop_sorted = mass_above >= p
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)  # back to vocab order
    return logits.masked_fill(drop, float("-inf"))


def filter_logits(
    log_probs: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> torch.Tensor:
    """Apply temperature, then top-k, then top-p, as `sample` does before drawing.

    Args:
        log_probs: float tensor (N, V).
        temperature: > 0; below 1 sharpens the distribution, above 1 flattens it.
        top_k: keep this many tokens per row, or None for all.
        top_p: keep the nucleus of this mass, or None for all.

    Returns:
        Logits (N, V) whose softmax is the sampling distribution.
    """
    _check_sampling(temperature, top_k, top_p)
    logits = log_probs / temperature
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    return logits


def sample(
    step: StepFn,
    state: Any,
    bos: int | torch.Tensor,
    eos: int,
    max_len: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    min_len: int = 0,
    generator: torch.Generator | None = None,
    pad: int | None = None,
) -> GenerationResult:
    """Draw one sequence per row from the (filtered) model distribution.

    ``top_k=1`` (or a temperature near 0) reproduces `greedy_search`. The reported
    ``log_prob`` is under the model (the step's log-probabilities), not under the filtered
    distribution.

    Args:
        step: ``step(state, tokens (B,)) -> (log_probs (B, V), state)``.
        state: the initial state (see `generate`).
        bos: the first input token, an int or a LongTensor (B,).
        eos: the end token.
        max_len: the most tokens generated per sequence, the end token included.
        temperature: divides the log-probabilities, > 0.
        top_k: sample among the k most probable tokens only.
        top_p: sample within the nucleus of mass p only.
        min_len: the end token is forbidden until this many tokens have been generated.
        generator: the source of randomness (on the device of the log-probabilities);
            the same seed gives the same sequences.
        pad: fed to and written after finished sequences; defaults to `eos`.

    Returns:
        A `GenerationResult`.
    """
    _check_sampling(temperature, top_k, top_p)

    def choose(log_probs: torch.Tensor) -> torch.Tensor:
        logits = filter_logits(log_probs, temperature, top_k, top_p)
        probs = logits.float().softmax(dim=-1)  # (B, V)
        return torch.multinomial(probs, 1, generator=generator).squeeze(1)

    return generate(step, state, bos, eos, max_len, choose, min_len=min_len, pad=pad)


def _check_sampling(temperature: float, top_k: int | None, top_p: float | None) -> None:
    if not 0 < temperature < math.inf:  # nan and inf would make every probability nan
        raise ValueError(f"temperature must be a finite number > 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be positive, got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
