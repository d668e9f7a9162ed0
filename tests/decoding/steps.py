"""Step functions the decoding tests run on: bigram tables and a tiny recurrent network whose
state is a nest with per-sentence memory (so a wrong reorder changes the results), plus a
brute-force enumeration of every sequence a decoder could produce."""

from __future__ import annotations

import math
from typing import Any

import torch

from seqnlp.decoding.penalties import LengthPenalty


def bigram_step(log_table: torch.Tensor):
    """A stateless step over a (V, V) table: row = previous token, column = next token."""

    def step(state: Any, tokens: torch.Tensor) -> tuple[torch.Tensor, Any]:
        return log_table[tokens], state

    return step


def random_bigram(vocab_size: int, seed: int, sharpness: float = 2.0) -> torch.Tensor:
    """A random (V, V) table of next-token log-probabilities, float64."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(vocab_size, vocab_size, generator=g, dtype=torch.float64) * sharpness
    return torch.log_softmax(logits, dim=-1)


def table_from_probs(rows: list[list[float]]) -> torch.Tensor:
    """A (V, V) log-probability table from rows of probabilities (0 becomes -inf)."""
    return torch.tensor(rows, dtype=torch.float64).log()


class TinyRNN:
    """``h' = tanh(E[x] + h W + mean(memory))``, ``log_probs = log_softmax(h' O)``, float64.

    The state is ``(h (N, H), {"memory": (N, 3, H), "tag": "tiny"})``: a tuple holding a
    dict with a tensor leaf and a non-tensor leaf, the kind of nest seq2seq decoders carry.
    """

    def __init__(
        self, vocab_size: int, hidden_size: int = 6, seed: int = 0, sharpness: float = 2.0
    ) -> None:
        self.generator = torch.Generator().manual_seed(seed)
        self.hidden_size = hidden_size
        self.embedding = self._randn(vocab_size, hidden_size)
        self.w = self._randn(hidden_size, hidden_size) / hidden_size**0.5
        self.out = self._randn(hidden_size, vocab_size) * sharpness

    def _randn(self, *shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=self.generator, dtype=torch.float64)

    def initial_state(self, batch: int) -> tuple[torch.Tensor, dict[str, Any]]:
        """A fresh state for `batch` sentences, each with its own random memory."""
        memory = self._randn(batch, 3, self.hidden_size)
        h = torch.zeros(batch, self.hidden_size, dtype=torch.float64)
        return h, {"memory": memory, "tag": "tiny"}

    def __call__(self, state: Any, tokens: torch.Tensor) -> tuple[torch.Tensor, Any]:
        h, extra = state
        assert extra["tag"] == "tiny"
        h = torch.tanh(self.embedding[tokens] + h @ self.w + extra["memory"].mean(dim=1))  # (N, H)
        return torch.log_softmax(h @ self.out, dim=-1), (h, extra)


def select_sentence(state: Any, b: int) -> Any:
    """The state of sentence `b` alone (a batch of one) from a TinyRNN state."""
    h, extra = state
    return h[b : b + 1], {"memory": extra["memory"][b : b + 1], "tag": extra["tag"]}


def enumerate_sequences(
    step: Any, state: Any, bos: int, eos: int, max_len: int, min_len: int = 0
) -> list[tuple[tuple[int, ...], float, bool]]:
    """Every sequence a decoder may return for one sentence, as (tokens, log_prob, ended).

    A sequence ends at its first eos (allowed once `min_len` tokens precede it) or is cut
    at `max_len`; sequences of log-probability -inf are left out.
    """
    found: list[tuple[tuple[int, ...], float, bool]] = []

    def walk(state: Any, token: int, prefix: list[int], log_prob: float) -> None:
        log_probs, state = step(state, torch.tensor([token]))
        for v, lp in enumerate(log_probs[0].tolist()):
            total = log_prob + lp
            if (v == eos and len(prefix) < min_len) or total == -math.inf:
                continue
            tokens = prefix + [v]
            if v == eos or len(tokens) == max_len:
                found.append((tuple(tokens), total, v == eos))
            else:
                walk(state, v, tokens, total)

    walk(state, bos, [], 0.0)
    return found


def ranked(
    sequences: list[tuple[tuple[int, ...], float, bool]], penalty: LengthPenalty
) -> list[tuple[tuple[int, ...], float]]:
    """(tokens, score) of the sequences, best normalised score first."""
    scored = [(tokens, penalty.score(lp, len(tokens))) for tokens, lp, _ in sequences]
    return sorted(scored, key=lambda item: -item[1])
