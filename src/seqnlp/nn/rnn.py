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

Shape legend: B batch, T time, I input size, H hidden size, L layers, D directions (1 or 2).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from seqnlp.nn.cells import NONLINEARITIES, gru_cell, lstm_cell, rnn_cell

IMPLS = ("fused", "explicit")

State = tuple[Tensor, ...]
Step = Callable[[Tensor, State], State]


def sequence_mask(lengths: Tensor | Sequence[int], max_len: int | None = None) -> Tensor:
    """A boolean (B, T) mask, True at the real steps `t < lengths[b]` of each sequence.

    Args:
        lengths: (B,) integer lengths.
        max_len: T; by default `max(lengths)`.

    Returns:
        A bool tensor on the device of `lengths` (CPU for a Python sequence).
    """
    lengths = torch.as_tensor(lengths, dtype=torch.int64)
    max_len = int(lengths.max()) if max_len is None else max_len
    steps = torch.arange(max_len, device=lengths.device)  # (T,)
    return steps[None, :] < lengths[:, None]  # (B, T)


def unroll(
    step: Step, x: Tensor, state: State, mask: Tensor | None = None, reverse: bool = False
) -> tuple[Tensor, State]:
    """Run one recurrent cell over time: the time-unrolled layer of the explicit path.

    Where `mask[b, t]` is False the state of sequence `b` is carried over unchanged and its
    output is exactly zero. Left-aligned padding therefore gives: the forward direction stops
    at each sequence's last real token, and the reverse direction (`reverse=True`, time
    read from T-1 down to 0) starts there, from `state`.

    Args:
        step: `step(x_t (B, I), state) -> state`; the first state tensor is the output.
        x: inputs, (B, T, I).
        state: initial state, a tuple of (B, H) tensors (`(h,)`, or `(h, c)` for an LSTM).
        mask: (B, T) bool, or None when every step is real.
        reverse: read time backwards.

    Returns:
        `(outputs (B, T, H), final_state)`; `outputs[:, t]` is the state after reading step t.
    """
    times = range(x.size(1))
    outputs: list[Tensor] = []  # in reading order
    for t in reversed(times) if reverse else times:
        new_state = step(x[:, t], state)
        if mask is None:
            outputs.append(new_state[0])
        else:
            real = mask[:, t, None]  # (B, 1)
            new_state = tuple(torch.where(real, new, old) for new, old in zip(new_state, state))
            outputs.append(torch.where(real, new_state[0], 0.0))
        state = new_state
    if reverse:
        outputs.reverse()
    return torch.stack(outputs, dim=1), state  # (B, T, H)


class _RecurrentLayer(nn.Module):
    """Parameters, checks and the two implementations; subclasses add the cell.

    A subclass sets `num_gates`, `num_states` (1, or 2 for the LSTM's `(h, c)`) and defines
    `_step` (one explicit step) and `_kernel` (the fused ATen op).
    """

    num_gates: int = 1
    num_states: int = 1

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
        impl: str = "fused",
    ) -> None:
        super().__init__()
        _check_options(input_size, hidden_size, num_layers, dropout, impl)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = float(dropout)
        self.batch_first = batch_first
        self.bias = bias
        self.impl = impl
        rows = self.num_gates * hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else self.output_size
            for direction in range(self.num_directions):
                suffix = _suffix(layer, direction)
                self.register_parameter(f"weight_ih{suffix}", _param(rows, layer_input))
                self.register_parameter(f"weight_hh{suffix}", _param(rows, hidden_size))
                if bias:
                    self.register_parameter(f"bias_ih{suffix}", _param(rows))
                    self.register_parameter(f"bias_hh{suffix}", _param(rows))
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        """D: 2 when bidirectional, else 1."""
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """D * H, the last dimension of the output."""
        return self.num_directions * self.hidden_size

    def reset_parameters(self) -> None:
        """Draw every weight and bias from uniform(-1/sqrt(H), 1/sqrt(H)), as torch does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def layer_weights(self, layer: int, direction: int = 0) -> list[Tensor]:
        """`[weight_ih, weight_hh, bias_ih, bias_hh]` of one layer and direction (no biases
        when `bias=False`)."""
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
        return [getattr(self, name + _suffix(layer, direction)) for name in names]

    def flat_weights(self) -> list[Tensor]:
        """All weights in torch's order: layer by layer, forward before reverse."""
        return [
            weight
            for layer in range(self.num_layers)
            for direction in range(self.num_directions)
            for weight in self.layer_weights(layer, direction)
        ]

    def last_layer_state(self, h_n: Tensor) -> Tensor:
        """The top layer's final hidden state, forward and reverse concatenated.

        Args:
            h_n: (L*D, B, H), as returned by `forward` (for an LSTM pass `h_n`, not `c_n`).

        Returns:
            (B, D*H); for a bidirectional layer `[h_forward_at_last_token, h_reverse_at_first]`.
        """
        top = h_n.view(self.num_layers, self.num_directions, -1, self.hidden_size)[-1]
        return top.transpose(0, 1).reshape(top.size(1), self.output_size)  # (B, D*H)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        defaults = {"num_layers": 1, "bidirectional": False, "dropout": 0.0,
                    "batch_first": True, "bias": True, "impl": "fused"}
        for name, default in defaults.items():
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)!r}"
        return text

    def _run(
        self, x: Tensor, lengths: Tensor | Sequence[int] | None, hx: State | None
    ) -> tuple[Tensor, State]:
        """Check the inputs, run the chosen implementation, restore the time axis."""
        self._check_input(x)
        if not self.batch_first:
            x = x.transpose(0, 1)
        lengths = None if lengths is None else self._check_lengths(lengths, x)
        state = self._initial_state(x, hx)
        if self.impl == "fused":
            output, final = self._forward_fused(x, lengths, state)
        elif self.impl == "explicit":
            output, final = self._forward_explicit(x, lengths, state)
        else:
            raise ValueError(f"impl must be one of {IMPLS}, got {self.impl!r}")
        return (output if self.batch_first else output.transpose(0, 1)), final

    def _forward_fused(
        self, x: Tensor, lengths: Tensor | None, state: State
    ) -> tuple[Tensor, State]:
        """PyTorch's fused kernel; packed (sorted internally) when lengths are given."""
        options = (self.bias, self.num_layers, self.dropout, self.training, self.bidirectional)
        weights = self.flat_weights()
        if lengths is None:
            output, *final = self._kernel(x, self._kernel_state(state), weights, *options, True)
            return output, tuple(final)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        sorted_state = tuple(s.index_select(1, packed.sorted_indices) for s in state)
        data, *final = self._kernel(
            packed.data, packed.batch_sizes, self._kernel_state(sorted_state), weights, *options
        )
        packed_output = PackedSequence(
            data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices
        )
        output, _ = pad_packed_sequence(packed_output, batch_first=True, total_length=x.size(1))
        return output, tuple(s.index_select(1, packed.unsorted_indices) for s in final)

    def _forward_explicit(
        self, x: Tensor, lengths: Tensor | None, state: State
    ) -> tuple[Tensor, State]:
        """Cells unrolled with a mask, directions concatenated, layers stacked."""
        mask = None if lengths is None else sequence_mask(lengths, x.size(1)).to(x.device)
        finals: list[State] = []
        layer_input = x  # (B, T, I)
        for layer in range(self.num_layers):
            if layer > 0:
                layer_input = F.dropout(layer_input, self.dropout, self.training)
            outputs = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                step = functools.partial(self._step, weights=self.layer_weights(layer, direction))
                start = tuple(s[index] for s in state)
                output, final = unroll(step, layer_input, start, mask, reverse=direction == 1)
                outputs.append(output)
                finals.append(final)
            layer_input = torch.cat(outputs, dim=-1)  # (B, T, D*H)
        return layer_input, tuple(torch.stack(parts) for parts in zip(*finals))

    def _step(self, x: Tensor, state: State, weights: list[Tensor]) -> State:
        raise NotImplementedError

    def _kernel(self, *args: object) -> tuple[Tensor, ...]:
        raise NotImplementedError

    def _kernel_state(self, state: State) -> Tensor | list[Tensor]:
        return state[0]

    def _check_input(self, x: Tensor) -> None:
        if x.dim() != 3 or x.size(2) != self.input_size:
            order = "(B, T, I)" if self.batch_first else "(T, B, I)"
            raise ValueError(
                f"expected input of shape {order} with I={self.input_size}, got {tuple(x.shape)}"
            )

    def _check_lengths(self, lengths: Tensor | Sequence[int], x: Tensor) -> Tensor:
        lengths = torch.as_tensor(lengths, dtype=torch.int64).cpu()
        batch, time = x.shape[:2]
        if lengths.shape != (batch,):
            raise ValueError(f"lengths must have shape ({batch},), got {tuple(lengths.shape)}")
        if int(lengths.min()) < 1 or int(lengths.max()) > time:
            raise ValueError(
                f"lengths must lie in [1, {time}], got {lengths.tolist()}"
            )
        return lengths

    def _initial_state(self, x: Tensor, hx: State | None) -> State:
        expected = (self.num_layers * self.num_directions, x.size(0), self.hidden_size)
        if hx is None:
            zeros = x.new_zeros(expected)
            return (zeros,) * self.num_states
        if not _is_state(hx, self.num_states):
            wanted = "a tensor" if self.num_states == 1 else "a tuple (h_0, c_0) of tensors"
            given = hx[0] if self.num_states == 1 else hx  # RNN and GRU wrap hx as (hx,)
            raise ValueError(f"hx must be {wanted}, got {type(given).__name__}")
        for tensor in hx:
            if tuple(tensor.shape) != expected:
                raise ValueError(
                    f"hx must have shape (L*D, B, H) = {expected}, got {tuple(tensor.shape)}"
                )
        return tuple(hx)


class RNN(_RecurrentLayer):
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


class LSTM(_RecurrentLayer):
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


class GRU(_RecurrentLayer):
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


def _check_options(
    input_size: int, hidden_size: int, num_layers: int, dropout: float, impl: str
) -> None:
    if input_size < 1 or hidden_size < 1 or num_layers < 1:
        raise ValueError(
            "input_size, hidden_size and num_layers must be positive, got "
            f"{input_size}, {hidden_size}, {num_layers}"
        )
    if not 0.0 <= dropout <= 1.0:
        raise ValueError(f"dropout must be in [0, 1], got {dropout}")
    if impl not in IMPLS:
        raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")


def _is_state(hx: object, num_states: int) -> bool:
    return (
        isinstance(hx, (tuple, list))
        and len(hx) == num_states
        and all(isinstance(tensor, Tensor) for tensor in hx)
    )


def _suffix(layer: int, direction: int) -> str:
    return f"_l{layer}" + ("_reverse" if direction == 1 else "")


def _param(*shape: int) -> nn.Parameter:
    return nn.Parameter(torch.empty(*shape))
