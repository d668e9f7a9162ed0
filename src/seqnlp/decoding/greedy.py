"""Token-by-token generation over a step function, and greedy search (argmax at every step).

`generate` owns the loop that greedy search and sampling share: feed the last tokens, pick the
next ones, stop each sequence at its end token and pad it from there on, stop when every
sequence has ended or `max_len` tokens were produced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from seqnlp.decoding.state import StepFn, check_log_probs, forbid_token, start_tokens

ChooseFn = Callable[[torch.Tensor], torch.Tensor]
"""``choose(log_probs (N, V)) -> tokens (N,)``: how the next token is picked."""


@dataclass(frozen=True)
class GenerationResult:
    """Sequences produced by `greedy_search` or `sample`.

    Attributes:
        tokens: LongTensor (B, T), without the begin token; a sequence that ended holds its
            end token at ``lengths[b] - 1`` and `pad` after it. T is the longest length.
        lengths: LongTensor (B,), tokens up to and including the end token.
        log_prob: float tensor (B,), the sum of the step's log-probabilities of the chosen
            tokens (after the min_len mask, before any temperature or filtering).
        ended: BoolTensor (B,), whether the sequence emitted the end token within max_len.
    """

    tokens: torch.Tensor
    lengths: torch.Tensor
    log_prob: torch.Tensor
    ended: torch.Tensor


def check_lengths(max_len: int, min_len: int) -> None:
    """Raise ValueError unless ``0 <= min_len <= max_len`` and ``max_len >= 1``."""
    if max_len < 1:
        raise ValueError(f"max_len must be positive, got {max_len}")
    if not 0 <= min_len <= max_len:
        raise ValueError(f"min_len must be in [0, max_len={max_len}], got {min_len}")


@torch.no_grad()
def generate(
    step: StepFn,
    state: Any,
    bos: int | torch.Tensor,
    eos: int,
    max_len: int,
    choose: ChooseFn,
    min_len: int = 0,
    pad: int | None = None,
) -> GenerationResult:
    """Generate one sequence per row, picking each token with `choose`.

    Finished sequences stay in the batch (so the step's batch never changes): the step
    sees their end token once, then `pad`; `pad` is written after the end token and adds
    nothing to their log-probability. Runs under ``torch.no_grad()``.

    Args:
        step: ``step(state, tokens (B,)) -> (log_probs (B, V), state)``.
        state: the initial state, any nest of tensors with the batch on dim 0 (not read
            except to size the batch when `bos` is an int).
        bos: the first input token, an int or a LongTensor (B,).
        eos: the end token; a sequence that emits it is finished.
        max_len: the most tokens generated per sequence, the end token included.
        choose: picks the next tokens (B,) from log_probs (B, V).
        min_len: the end token is forbidden until this many tokens have been generated.
        pad: fed to and written after finished sequences; defaults to `eos`.

    Returns:
        A `GenerationResult`.
    """
    check_lengths(max_len, min_len)
    pad = eos if pad is None else pad
    tokens = start_tokens(bos, state)  # (B,)
    batch = tokens.numel()
    ended = torch.zeros(batch, dtype=torch.bool, device=tokens.device)
    lengths = torch.zeros(batch, dtype=torch.long, device=tokens.device)
    total: torch.Tensor | None = None
    columns = []
    for t in range(max_len):
        log_probs, state = step(state, tokens)
        check_log_probs(log_probs, batch)
        if t < min_len:
            log_probs = forbid_token(log_probs, eos)
        chosen = choose(log_probs).to(log_probs.device)  # (B,)
        # Follow the step's device (an int bos with no tensor in the state starts on CPU).
        ended, lengths = ended.to(chosen.device), lengths.to(chosen.device)
        picked = log_probs.gather(1, chosen[:, None]).squeeze(1)
        total = torch.zeros_like(picked) if total is None else total
        # A finished row keeps its score; `where` avoids 0 * -inf = nan.
        total = torch.where(ended, total, total + picked.to(total.dtype))
        tokens = torch.where(ended, torch.full_like(chosen, pad), chosen)
        lengths += (~ended).long()
        ended = ended | (tokens == eos)
        columns.append(tokens)
        if bool(ended.all()):
            break
    assert total is not None  # max_len >= 1, so the loop ran
    return GenerationResult(torch.stack(columns, dim=1), lengths, total, ended)


def greedy_search(
    step: StepFn,
    state: Any,
    bos: int | torch.Tensor,
    eos: int,
    max_len: int,
    min_len: int = 0,
    pad: int | None = None,
) -> GenerationResult:
    """Pick the most probable next token at every step.

    Greedy search is beam search with a beam of one: `beam_search(..., beam_size=1)` with
    the raw log-probability returns the same tokens and scores.

    Args:
        step: ``step(state, tokens (B,)) -> (log_probs (B, V), state)``.
        state: the initial state (see `generate`).
        bos: the first input token, an int or a LongTensor (B,).
        eos: the end token.
        max_len: the most tokens generated per sequence, the end token included.
        min_len: the end token is forbidden until this many tokens have been generated.
        pad: fed to and written after finished sequences; defaults to `eos`.

    Returns:
        A `GenerationResult` with tokens (B, T), lengths (B,), log_prob (B,), ended (B,).

    Example:
        >>> table = torch.tensor([[0.1, 0.9], [0.8, 0.2]]).log()  # bigram model, eos = 0
        >>> greedy_search(lambda s, x: (table[x], s), None, bos=0, eos=0, max_len=5).tokens
        tensor([[1, 0]])
    """
    return generate(step, state, bos, eos, max_len, _argmax, min_len=min_len, pad=pad)


def _argmax(log_probs: torch.Tensor) -> torch.Tensor:
    return log_probs.argmax(dim=-1)
