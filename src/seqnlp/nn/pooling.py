"""Pooling a sequence of states (B, T, W) into one vector per sequence, mask-aware.

"last" takes the final state of each direction (Elman 1990; the forward half at each
sequence's last real step, the backward half at step 0), "mean"/"max" pool over real steps,
"attention" is the additive self-attention pooling of Yang et al. (2016), and "flatten"
concatenates every step of a fixed-length input (the Keras `return_sequences` + Flatten
variant that feeds h_1..h_L to the classifier).

Shape legend: B batch, T time, W state width (D*H for a recurrent encoder), L fixed length.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqnlp.nn.rnn import sequence_mask
from seqnlp.errors import one_of

POOLINGS = ("last", "mean", "max", "attention", "flatten")


def last_states(states: Tensor, lengths: Tensor, num_directions: int = 1) -> Tensor:
    """Final state of each direction: forward at step `length - 1`, backward at step 0.

    Args:
        states: (B, T, D*H), the directions concatenated on the last axis (forward first).
        lengths: (B,) true lengths, each at least 1.
        num_directions: D, 1 or 2.

    Returns:
        (B, D*H).
    """
    batch, _, width = states.shape
    last = (lengths.to(states.device) - 1).clamp(min=0).view(batch, 1, 1).expand(batch, 1, width)
    pooled = states.gather(1, last).squeeze(1)  # (B, D*H)
    if num_directions == 2:
        half = width // 2
        pooled = torch.cat([pooled[:, :half], states[:, 0, half:]], dim=1)  # (B, 2H)
    return pooled


def mean_states(states: Tensor, mask: Tensor) -> Tensor:
    """Mean over the real steps. Shape: states (B, T, W), mask (B, T) -> (B, W)."""
    weights = mask.unsqueeze(-1).to(states.dtype)  # (B, T, 1)
    total = (states * weights).sum(1)  # (B, W)
    return total / weights.sum(1).clamp(min=1.0)


def max_states(states: Tensor, mask: Tensor) -> Tensor:
    """Element-wise max over the real steps. Shape: (B, T, W), (B, T) -> (B, W)."""
    return states.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(1).values


class AttentionPooling(nn.Module):
    r"""Additive self-attention pooling (Yang et al., 2016), over the real steps only.

    .. math::
        u_t = \tanh(W h_t + b), \quad
        a_t = \frac{\exp(v^\top u_t)}{\sum_{s \le \text{len}} \exp(v^\top u_s)}, \quad
        \text{out} = \sum_t a_t h_t

    Args:
        input_size: W, the width of each state.
        attention_size: the width of u_t (default: W).

    Shape:
        forward(states (B, T, W), mask (B, T)) -> (B, W); `weights(...)` -> (B, T).
    """

    def __init__(self, input_size: int, attention_size: int | None = None) -> None:
        super().__init__()
        size = attention_size or input_size
        self.project = nn.Linear(input_size, size)
        self.context = nn.Linear(size, 1, bias=False)

    def weights(self, states: Tensor, mask: Tensor) -> Tensor:
        """The attention distribution a (B, T): zero at padded steps, rows sum to 1."""
        scores = self.context(torch.tanh(self.project(states))).squeeze(-1)  # (B, T)
        return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)

    def forward(self, states: Tensor, mask: Tensor) -> Tensor:
        """Weighted sum of the states."""
        return torch.bmm(self.weights(states, mask).unsqueeze(1), states).squeeze(1)  # (B, W)


class SequencePooling(nn.Module):
    """Pool (B, T, W) states to (B, out_features) with one of `POOLINGS`.

    Args:
        pooling: "last" | "mean" | "max" | "attention" | "flatten".
        input_size: W, the width of each state.
        num_directions: 2 when the states are a bidirectional concatenation (for "last").
        max_len: L, the fixed sequence length that "flatten" needs; shorter inputs are
            zero-padded to it, padded steps are zeroed, longer inputs raise ValueError.

    Shape:
        forward(states (B, T, W), lengths (B,)) -> (B, W), or (B, L*W) for "flatten".
    """

    def __init__(
        self, pooling: str, input_size: int, num_directions: int = 1, max_len: int | None = None
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {one_of(POOLINGS)}, got {pooling!r}")
        if pooling == "flatten" and not max_len:
            raise ValueError("pooling='flatten' needs max_len, the fixed sequence length")
        if num_directions not in (1, 2):
            raise ValueError(f"num_directions must be 1 or 2, got {num_directions}")
        self.pooling = pooling
        self.num_directions = num_directions
        self.max_len = max_len
        self.attention = AttentionPooling(input_size) if pooling == "attention" else None
        self.out_features = input_size * (max_len if pooling == "flatten" and max_len else 1)

    def forward(self, states: Tensor, lengths: Tensor) -> Tensor:
        """Pool each sequence of the batch; see the class docstring."""
        if self.pooling == "last":
            return last_states(states, lengths, self.num_directions)
        mask = sequence_mask(lengths, states.size(1)).to(states.device)  # (B, T)
        if self.pooling == "mean":
            return mean_states(states, mask)
        if self.pooling == "max":
            return max_states(states, mask)
        if self.pooling == "attention":
            assert self.attention is not None
            return self.attention(states, mask)
        return self._flatten(states, mask)

    def _flatten(self, states: Tensor, mask: Tensor) -> Tensor:
        assert self.max_len is not None
        batch, time, width = states.shape
        if time > self.max_len:
            raise ValueError(
                f"flatten pooling was built for length {self.max_len}, got {time} steps"
            )
        padded = states.new_zeros(batch, self.max_len, width)  # (B, L, W)
        padded[:, :time] = states * mask.unsqueeze(-1)
        return padded.flatten(1)  # (B, L*W)

    def extra_repr(self) -> str:
        text = f"pooling={self.pooling!r}, out_features={self.out_features}"
        if self.num_directions == 2:
            text += ", num_directions=2"
        return text
