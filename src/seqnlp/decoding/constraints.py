"""Constraints on what a decoder may generate, as wrappers of the step function: blocking
repeated n-grams (the `no_repeat_ngram_size` of other generators; Paulus et al., 2018), so
that greedy and beam output of a small model do not loop ("the president 's president 's").

A wrapped step works with every decoder unchanged (greedy, sampling, beam search): its
state carries the tokens fed so far beside the model's own state, one row per sequence on
dim 0, so beam search's reordering keeps each hypothesis's history with it.
"""

from __future__ import annotations

from typing import Any

import torch

from seqnlp.decoding.state import StepFn


def block_repeated_ngrams(step: StepFn, n: int) -> StepFn:
    """Wrap `step` so that no sequence ever holds the same n-gram twice.

    At each step, for every row whose last n-1 tokens occurred earlier in its history,
    the tokens that followed them there get log-probability -inf (so the n-gram they would
    complete cannot come again). The log-probabilities are not renormalised, as in other
    generators: a blocked token simply cannot be chosen.

    Args:
        step: ``step(state, tokens (N,)) -> (log_probs (N, V), state)``, whose state
            holds its rows on dim 0 (the decoders' default reordering).
        n: the n-gram length, at least 1 (1: never repeat a token).

    Returns:
        A step over states ``(state, history)`` made by `with_history`.

    Example:
        >>> table = torch.tensor([[1e-9, .1, .9], [1e-9, .1, .9], [1e-9, .9, .1]]).log()
        >>> step = block_repeated_ngrams(lambda s, x: (table[x], s), 2)  # greedy: 2 1 2 1 ...
        >>> start = with_history(None, torch.zeros(1, 0, dtype=torch.long))
        >>> greedy_search(step, start, bos=torch.tensor([1]), eos=0, max_len=6).tokens
        tensor([[2, 1, 1, 0]])
    """
    if n < 1:
        raise ValueError(f"the n-gram length must be at least 1, got {n}")

    def blocked_step(state: Any, tokens: torch.Tensor) -> tuple[torch.Tensor, Any]:
        inner, history = state
        history = torch.cat([history, tokens.to(history.device)[:, None]], dim=1)
        log_probs, inner = step(inner, tokens)
        rows, banned = repeated_ngram_ends(history.tolist(), n)
        if rows:
            log_probs = log_probs.clone()
            log_probs[torch.tensor(rows), torch.tensor(banned)] = float("-inf")
        return log_probs, (inner, history)

    return blocked_step


def with_history(state: Any, history: torch.Tensor) -> tuple[Any, torch.Tensor]:
    """The initial state of a `block_repeated_ngrams` step.

    Args:
        state: the model's initial state.
        history: LongTensor (N, P): tokens each sequence already holds (a prompt), not
            counting the first token the decoder will feed; (N, 0) for none.
    """
    return state, history.long()


def repeated_ngram_ends(histories: list[list[int]], n: int) -> tuple[list[int], list[int]]:
    """The (row, token) pairs that would complete an n-gram already in the row's history.

    Args:
        histories: each row's tokens so far.
        n: the n-gram length.

    Returns:
        `(rows, tokens)`, two lists of the same length.
    """
    rows, tokens = [], []
    for row, seq in enumerate(histories):
        if len(seq) < n:
            continue
        key = tuple(seq[len(seq) - n + 1:]) if n > 1 else ()
        seen = set()
        for start in range(len(seq) - n + 1):
            if tuple(seq[start:start + n - 1]) == key:
                seen.add(seq[start + n - 1])
        rows.extend([row] * len(seen))
        tokens.extend(sorted(seen))
    return rows, tokens
