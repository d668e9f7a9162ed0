"""The shared machinery of the recurrent layers in `seqnlp.nn.rnn`: sequence masks, the
time-unrolled explicit path (`unroll`), and `RecurrentLayerBase`, which owns the parameters
(named and shaped as in `torch.nn.LSTM`), the checks and the two implementations ("fused":
PyTorch's ATen kernels; "explicit": the step functions of `seqnlp.nn.cells`).

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

from seqnlp.errors import one_of

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


class RecurrentLayerBase(nn.Module):
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
            raise ValueError(f"impl must be one of {one_of(IMPLS)}, got {self.impl!r}")
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
        raise ValueError(f"impl must be one of {one_of(IMPLS)}, got {impl!r}")


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
