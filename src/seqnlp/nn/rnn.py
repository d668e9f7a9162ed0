"""Recurrent layers `RNN`, `LSTM`, `GRU`: stacked, optionally bidirectional, over padded
batches with per-sequence lengths (Elman, 1990; Hochreiter and Schmidhuber, 1997;
Cho et al., 2014; bidirectional: Schuster and Paliwal, 1997).

Two implementations share one set of parameters, named and shaped as in `torch.nn.LSTM`
(`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, `..._l0_reverse`, ...), so a
state_dict moves freely between `impl="fused"`, `impl="explicit"` and `torch.nn.LSTM`:

- "fused" calls PyTorch's fused recurrent kernels (`torch.lstm`, `torch.gru`,
  `torch.rnn_tanh`, `torch.rnn_relu`: the ATen ops `torch.nn.LSTM` itself dispatches to), on a
  `PackedSequence` when lengths are given;
- "explicit" composes the step functions of `seqnlp.nn.cells`: cell -> `unroll` over time
  with a mask -> layers and directions.

`RecurrentEncoder` stacks one-direction layers into the bidirectional reader of right-padded
batches that every task shares (classifier, tagger, seq2seq encoder). The machinery common
to the three layers lives in `seqnlp.nn.recurrent`.

Shape legend: B batch, T time, I input size, H hidden size, L layers, D directions (1 or 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from seqnlp.nn.cells import NONLINEARITIES, gru_cell, lstm_cell, rnn_cell
from seqnlp.nn.recurrent import IMPLS, RecurrentLayerBase, State, sequence_mask, unroll

__all__ = ["GRU", "IMPLS", "LSTM", "RNN", "RecurrentEncoder", "reverse_padded",
           "sequence_mask", "unroll"]


class RNN(RecurrentLayerBase):
    """A stacked Elman RNN, `h_t = act(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)` (see
    `seqnlp.nn.cells.RNNCell`).

    Args:
        input_size: I.
        hidden_size: H.
        num_layers: L, layers stacked, each reading the previous one's output.
        bidirectional: add a reverse direction per layer; outputs are concatenated.
        dropout: dropout on the outputs of every layer but the last (no effect when L=1).
        batch_first: inputs and outputs are (B, T, ...) when True (the default, unlike
            torch), (T, B, ...) when False. Hidden states are (L*D, B, H) either way.
        bias: whether each layer has `bias_ih` and `bias_hh`.
        nonlinearity: "tanh" or "relu".
        impl: "fused" (PyTorch's kernels) or "explicit" (the cells, unrolled in Python);
            both give the same numbers and share the state_dict; may be changed at any time.

    Parameters (as in `torch.nn.RNN`): `weight_ih_l{k}` (H, I or D*H), `weight_hh_l{k}`
    (H, H), `bias_ih_l{k}`, `bias_hh_l{k}` (H,), and the same with suffix `_reverse`.

    Shape:
        forward(x (B, T, I), lengths (B,) or None, hx (L*D, B, H) or None)
        -> (output (B, T, D*H), h_n (L*D, B, H)).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        bidirectional: bool = False,
        dropout: float = 0.0,
        batch_first: bool = True,
        bias: bool = True,
        nonlinearity: str = "tanh",
        impl: str = "fused",
    ) -> None:
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(
            input_size, hidden_size, num_layers, bidirectional=bidirectional, dropout=dropout,
            batch_first=batch_first, bias=bias, impl=impl,
        )

    def forward(
        self,
        x: Tensor,
        lengths: Tensor | Sequence[int] | None = None,
        hx: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Read a padded batch.

        Args:
            x: (B, T, I) (or (T, B, I) when `batch_first=False`).
            lengths: (B,) true lengths in [1, T], any order; None when all are T. Outputs
                past a sequence's end are zero; `h_n` is the state at its last real token
                (for the reverse direction: after reading back to its first token).
            hx: initial state (L*D, B, H); zeros when None.

        Returns:
            `(output (B, T, D*H), h_n (L*D, B, H))`; layer l, direction d is `h_n[l*D + d]`.
        """
        output, (h_n,) = self._run(x, lengths, None if hx is None else (hx,))
        return output, h_n

    def _step(self, x: Tensor, state: State, weights: list[Tensor]) -> State:
        return (rnn_cell(x, state[0], *weights, nonlinearity=self.nonlinearity),)

    def _kernel(self, *args: object) -> tuple[Tensor, ...]:
        kernel = torch.rnn_tanh if self.nonlinearity == "tanh" else torch.rnn_relu
        return kernel(*args)

    def extra_repr(self) -> str:
        text = super().extra_repr()
        if self.nonlinearity != "tanh":
            text += f", nonlinearity={self.nonlinearity!r}"
        return text


class LSTM(RecurrentLayerBase):
    """A stacked LSTM (see `seqnlp.nn.cells.LSTMCell` for the equations; gates i, f, g, o).

    Arguments as for `RNN`, without `nonlinearity`. Parameters as in `torch.nn.LSTM`:
    `weight_ih_l{k}` (4H, I or D*H), `weight_hh_l{k}` (4H, H), `bias_ih_l{k}`,
    `bias_hh_l{k}` (4H,), and `_reverse` ones (no `proj_size`).

    Shape:
        forward(x (B, T, I), lengths (B,) or None, hx `(h_0, c_0)` each (L*D, B, H) or None)
        -> (output (B, T, D*H), `(h_n, c_n)` each (L*D, B, H)).
    """

    num_gates = 4
    num_states = 2

    def forward(
        self,
        x: Tensor,
        lengths: Tensor | Sequence[int] | None = None,
        hx: tuple[Tensor, Tensor] | None = None,
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Read a padded batch.

        Args:
            x: (B, T, I) (or (T, B, I) when `batch_first=False`).
            lengths: (B,) true lengths in [1, T], any order; None when all are T. Outputs
                past a sequence's end are zero; `h_n`, `c_n` are the states at its last real
                token (for the reverse direction: after reading back to its first token).
            hx: `(h_0, c_0)`, each (L*D, B, H); zeros when None.

        Returns:
            `(output (B, T, D*H), (h_n, c_n))`, each state (L*D, B, H), index `l*D + d`.
        """
        output, (h_n, c_n) = self._run(x, lengths, hx)
        return output, (h_n, c_n)

    def _step(self, x: Tensor, state: State, weights: list[Tensor]) -> State:
        return lstm_cell(x, (state[0], state[1]), *weights)

    def _kernel(self, *args: object) -> tuple[Tensor, ...]:
        return torch.lstm(*args)

    def _kernel_state(self, state: State) -> Tensor | list[Tensor]:
        return list(state)


class GRU(RecurrentLayerBase):
    """A stacked GRU (see `seqnlp.nn.cells.GRUCell` for the equations; gates r, z, n).

    Arguments as for `RNN`, without `nonlinearity`. Parameters as in `torch.nn.GRU`:
    `weight_ih_l{k}` (3H, I or D*H), `weight_hh_l{k}` (3H, H), `bias_ih_l{k}`,
    `bias_hh_l{k}` (3H,), and `_reverse` ones.

    Shape:
        forward(x (B, T, I), lengths (B,) or None, hx (L*D, B, H) or None)
        -> (output (B, T, D*H), h_n (L*D, B, H)).
    """

    num_gates = 3

    def forward(
        self,
        x: Tensor,
        lengths: Tensor | Sequence[int] | None = None,
        hx: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Read a padded batch; arguments and results as in `RNN.forward`."""
        output, (h_n,) = self._run(x, lengths, None if hx is None else (hx,))
        return output, h_n

    def _step(self, x: Tensor, state: State, weights: list[Tensor]) -> State:
        return (gru_cell(x, state[0], *weights),)

    def _kernel(self, *args: object) -> tuple[Tensor, ...]:
        return torch.gru(*args)


def reverse_padded(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse the first `lengths[b]` steps of each row of a right-padded batch.

    Padded steps stay where they are, so applying it twice gives `x` back.

    Shape:
        x (B, T, F), lengths (B,) -> (B, T, F)
    """
    steps = torch.arange(x.size(1), device=x.device)  # (T,)
    index = lengths.to(x.device).unsqueeze(1) - 1 - steps  # (B, T): len-1, len-2, ..., 0, <0
    index = torch.where(index >= 0, index, steps)  # padded steps map to themselves
    return x.gather(1, index.unsqueeze(-1).expand_as(x))


class RecurrentEncoder(nn.Module):
    """Stacked, optionally bidirectional recurrent layers over right-padded batches.

    The layers run on the padded tensor, never on a `PackedSequence`: with torch 2.13 on
    CPU, backward through a packed LSTM is about 20 times slower as soon as the lengths of a
    batch differ (a packed GRU about 5 times). Reading the padded tensor is exact at real
    steps: the forward direction is causal, so padding after a sequence never reaches its
    real steps; the backward direction reads each sequence reversed within its length
    (`reverse_padded`), so it starts at the last real token. Outputs at padded steps are
    not meaningful: callers mask them (`sequence_mask`).

    Args:
        kind: "rnn" | "lstm" | "gru".
        input_size, hidden_size, num_layers, bidirectional, dropout: as in `torch.nn.LSTM`
            (dropout between stacked layers).
        nonlinearity: "tanh" | "relu", for "rnn".

    Shape:
        forward(x (B, T, I), lengths (B,)) -> (B, T, D*H)
    """

    KINDS = ("rnn", "lstm", "gru")

    def __init__(self, kind: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0,
                 nonlinearity: str = "tanh") -> None:
        super().__init__()
        if kind not in self.KINDS:
            raise ValueError(f"kind must be one of {', '.join(self.KINDS)}, got {kind!r}")
        layer = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[kind]
        options: dict[str, Any] = {"nonlinearity": nonlinearity} if kind == "rnn" else {}
        directions = 2 if bidirectional else 1
        sizes = [input_size] + [directions * hidden_size] * (num_layers - 1)
        self.forward_layers = nn.ModuleList(layer(n, hidden_size, **options) for n in sizes)
        self.backward_layers = nn.ModuleList(
            layer(n, hidden_size, **options) for n in (sizes if bidirectional else [])
        )
        self.dropout = dropout
        self.output_size = directions * hidden_size

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        """Run every layer; see the class docstring."""
        for index, forward_layer in enumerate(self.forward_layers):
            if index > 0:
                x = F.dropout(x, self.dropout, self.training)
            states = [forward_layer(x)[0]]  # (B, T, H)
            if self.backward_layers:
                backward, _ = self.backward_layers[index](reverse_padded(x, lengths))
                states.append(reverse_padded(backward, lengths))  # (B, T, H)
            # one direction: no concatenation, which would copy the (B, T, H) states
            x = states[0] if len(states) == 1 else torch.cat(states, dim=-1)  # (B, T, D*H)
        return x


def build_sequence_encoder(kind: str, input_size: int, hidden_size: int, num_layers: int = 1,
                           bidirectional: bool = False, dropout: float = 0.0,
                           nonlinearity: str = "tanh",
                           tdnn_context: tuple[int, ...] = (-2, -1, 0, 1, 2)) -> nn.Module:
    """A recurrent stack ("rnn", "lstm", "gru") or a ReLU TDNN stack ("tdnn").

    Every encoder maps (B, T, I) and lengths (B,) to (B, T, D*H); a TDNN has one direction
    and `num_layers` layers of `tdnn_context` offsets. `dropout` acts between layers.
    """
    from seqnlp.nn.tdnn import TDNNStack

    if kind == "tdnn":
        if bidirectional:
            raise ValueError("a TDNN sees both sides through its context; it is not bidirectional")
        return TDNNStack(input_size, hidden_size, contexts=(tuple(tdnn_context),) * num_layers,
                         activation="relu", dropout=dropout)
    return RecurrentEncoder(kind, input_size, hidden_size, num_layers, bidirectional, dropout,
                            nonlinearity)
