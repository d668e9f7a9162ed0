"""Time-delay neural network layers (Waibel et al., 1989; sub-sampled contexts as in
Peddinti et al., 2015): a linear map of a window of time-shifted inputs, run as a conv1d;
and banks of windows of several widths side by side (Kim, 2014).

Shape legend: B batch, T time, I input size, O output size, H hidden size, K context taps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqnlp.nn.rnn import sequence_mask
from seqnlp.errors import one_of

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def context_offsets(context_size: int, dilation: int = 1) -> tuple[int, ...]:
    """The offsets of a centred window: `dilation * (j - (context_size - 1) // 2)`.

    For example `context_offsets(5)` is (-2, -1, 0, 1, 2), `context_offsets(3, 3)` is
    (-3, 0, 3), and an even size leans right: `context_offsets(4)` is (-1, 0, 1, 2).
    """
    if context_size < 1 or dilation < 1:
        raise ValueError(
            f"context_size and dilation must be positive, got {context_size}, {dilation}"
        )
    centre = (context_size - 1) // 2
    return tuple(dilation * (j - centre) for j in range(context_size))


class TDNN(nn.Module):
    r"""One time-delay layer: :math:`y_t = b + \sum_{k} W_k x_{t + o_k}` over offsets o_k.

    Inputs outside the sequence (`t + o_k < 0` or `>= length`) count as zero vectors, so
    the output has the input's length T whatever the offsets. With `lengths`, padded
    positions are zeroed before the window is applied (nothing leaks from padding into
    real positions: a padded sequence gives the same outputs as the sequence alone) and
    outputs at padded positions are zero.

    The offsets need not be evenly spaced: the layer runs `conv1d` with dilation equal to
    the greatest common divisor of their gaps, over a kernel that is zero at the taps not
    in the context (e.g. (-3, 0, 1) runs a 5-tap kernel with two zero taps).

    Args:
        input_size: I.
        output_size: O.
        context: the offsets o_k, strictly increasing, e.g. (-2, -1, 0, 1, 2) or (-3, 0, 3);
            default: `context_offsets(context_size, dilation)`.
        context_size: the number of taps of a centred window, used when `context` is None
            (default 5).
        dilation: the spacing of that window.
        bias: whether to add `bias` (O,).

    Attributes:
        weight: (O, I, K), `weight[:, :, k]` is W_k. bias: (O,).

    Shape:
        forward(x (B, T, I), lengths (B,) or None) -> (B, T, O).
    """

    def __init__(
        self,
        input_size: int,
        output_size: int,
        context: Sequence[int] | None = None,
        *,
        context_size: int | None = None,
        dilation: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if context is not None and context_size is not None:
            raise ValueError("give either context or context_size, not both")
        if context is None:
            context = context_offsets(5 if context_size is None else context_size, dilation)
        self.context = _check_context(context)
        self.input_size = input_size
        self.output_size = output_size
        self.weight = nn.Parameter(torch.empty(output_size, input_size, len(self.context)))
        self.bias = nn.Parameter(torch.empty(output_size)) if bias else None
        lo, hi = self.context[0], self.context[-1]
        gaps = [b - a for a, b in zip(self.context, self.context[1:])]
        self._dilation = math.gcd(*gaps) if gaps else 1
        taps = torch.tensor([(o - lo) // self._dilation for o in self.context])
        self.register_buffer("_taps", taps, persistent=False)
        self._span = (hi - lo) // self._dilation + 1
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw weights and bias from uniform(-1/sqrt(I*K), 1/sqrt(I*K)), as `nn.Conv1d`."""
        bound = 1.0 / math.sqrt(self.input_size * len(self.context))
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def forward(self, x: Tensor, lengths: Tensor | Sequence[int] | None = None) -> Tensor:
        """Apply the window at every step.

        Args:
            x: (B, T, I).
            lengths: (B,) true lengths, or None when every step is real.

        Returns:
            (B, T, O), zero at padded steps.
        """
        if x.dim() != 3 or x.size(2) != self.input_size:
            raise ValueError(
                f"expected input of shape (B, T, {self.input_size}), got {tuple(x.shape)}"
            )
        length = x.size(1)
        pad = None
        if lengths is not None:
            pad = ~sequence_mask(lengths, length).to(x.device)[..., None]  # (B, T, 1)
            x = x.masked_fill(pad, 0.0)
        lo, hi = self.context[0], self.context[-1]
        left, right = max(0, -lo), max(0, hi)
        channels = F.pad(x.transpose(1, 2), (left, right))  # (B, I, left + T + right)
        y = F.conv1d(channels, self._kernel(), self.bias, dilation=self._dilation)
        start = lo + left  # the window of output t starts at padded step t + start
        y = y[:, :, start : start + length].transpose(1, 2)  # (B, T, O)
        return y if pad is None else y.masked_fill(pad, 0.0)

    def _kernel(self) -> Tensor:
        """The conv1d kernel (O, I, span): the weights at their taps, zeros between."""
        if len(self.context) == self._span:
            return self.weight
        kernel = self.weight.new_zeros(self.output_size, self.input_size, self._span)
        return kernel.index_copy(2, self._taps, self.weight)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.output_size}, context={self.context}"
        return text if self.bias is not None else text + ", bias=False"


class TDNNStack(nn.Module):
    """TDNN layers stacked, each followed by a nonlinearity (and dropout while training).

    The receptive field grows with depth: with contexts (-2..2), (-1, 2), (-3, 3) each
    output sees steps t-6 .. t+7 (Peddinti et al., 2015, sub-sample the upper layers'
    contexts in this way).

    Args:
        input_size: I.
        hidden_size: H, the output size of every layer.
        contexts: one offset tuple per layer.
        activation: "relu", "tanh" or "sigmoid" (Waibel et al. used the sigmoid).
        dropout: dropout probability after each activation.

    Shape:
        forward(x (B, T, I), lengths (B,) or None) -> (B, T, H), zero at padded steps.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        contexts: Sequence[Sequence[int]] = ((-2, -1, 0, 1, 2),),
        *,
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {one_of(sorted(ACTIVATIONS))}, got {activation!r}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout must be in [0, 1], got {dropout}")
        if not contexts:
            raise ValueError("contexts must name at least one layer")
        sizes = [input_size] + [hidden_size] * len(contexts)
        self.layers = nn.ModuleList(
            TDNN(n_in, n_out, context) for n_in, n_out, context in zip(sizes, sizes[1:], contexts)
        )
        self.activation = activation
        self.dropout = dropout

    @property
    def receptive_field(self) -> tuple[int, int]:
        """The (first, last) input offsets that reach an output step."""
        first = sum(layer.context[0] for layer in self.layers)
        last = sum(layer.context[-1] for layer in self.layers)
        return first, last

    def forward(self, x: Tensor, lengths: Tensor | Sequence[int] | None = None) -> Tensor:
        """Run every layer; see `TDNN.forward`."""
        act = ACTIVATIONS[self.activation]
        for layer in self.layers:
            x = F.dropout(act(layer(x, lengths)), self.dropout, self.training)
        if lengths is None:
            return x
        # sigmoid(0) = 0.5: zero the padded steps again after the last activation
        return x.masked_fill(~sequence_mask(lengths, x.size(1)).to(x.device)[..., None], 0.0)

    def extra_repr(self) -> str:
        return f"activation={self.activation!r}, dropout={self.dropout}"


class MultiWidthTDNN(nn.Module):
    """TDNN stacks of several window widths side by side, their outputs concatenated: the
    filters of widths 3, 4 and 5 over word vectors of Kim (2014), which max pooling over
    time then turns into one feature per filter.

    A window of width w reads the centred offsets `context_offsets(w)` (an even width
    leans right: 4 reads t-1 .. t+2); each width has `hidden_size` filters and, with
    `num_layers` above 1, further layers of the same width on top.

    Args:
        input_size: I.
        hidden_size: H, the filters of each width.
        widths: the window widths, e.g. (3, 4, 5).
        num_layers: layers per width.
        activation, dropout: as `TDNNStack`.

    Shape:
        forward(x (B, T, I), lengths (B,) or None) -> (B, T, len(widths) * H), zero at
        padded steps; the first H features come from the first width.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        widths: Sequence[int] = (3, 4, 5),
        num_layers: int = 1,
        *,
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if not widths or any(w < 1 for w in widths) or len(set(widths)) != len(widths):
            raise ValueError(f"widths must be distinct positive integers, got {tuple(widths)}")
        self.widths = tuple(int(w) for w in widths)
        self.branches = nn.ModuleList(
            TDNNStack(input_size, hidden_size, (context_offsets(w),) * num_layers,
                      activation=activation, dropout=dropout)
            for w in self.widths
        )

    def forward(self, x: Tensor, lengths: Tensor | Sequence[int] | None = None) -> Tensor:
        """Run every width's stack on `x` and concatenate the features."""
        return torch.cat([branch(x, lengths) for branch in self.branches], dim=-1)  # (B, T, W*H)

    def extra_repr(self) -> str:
        return f"widths={self.widths}"


def _check_context(context: Sequence[int]) -> tuple[int, ...]:
    offsets = tuple(int(o) for o in context)
    if not offsets or any(b <= a for a, b in zip(offsets, offsets[1:])):
        raise ValueError(f"context must be non-empty and strictly increasing, got {context}")
    return offsets
