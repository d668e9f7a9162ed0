"""Recurrent cells written out: the Elman RNN (Elman, 1990), the LSTM (Hochreiter and
Schmidhuber, 1997, with the forget gate of Gers et al., 2000) and the GRU (Cho et al., 2014).

Each cell is a pure step function (`rnn_cell`, `lstm_cell`, `gru_cell`) over explicit
weights, plus a module (`RNNCell`, `LSTMCell`, `GRUCell`) that owns the weights under
torch's names and shapes, so that a state_dict moves to and from `torch.nn.LSTMCell` etc.
The layers in `seqnlp.nn.rnn` reuse the same step functions.

Shape legend: B batch, I input size, H hidden size, G gates (1 RNN, 4 LSTM, 3 GRU).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

NONLINEARITIES = ("tanh", "relu")


def rnn_cell(
    x: Tensor,
    h: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> Tensor:
    """One Elman step: `h' = act(W_ih x + b_ih + W_hh h + b_hh)`.

    Args:
        x: input, (B, I).
        h: previous hidden state, (B, H).
        weight_ih, weight_hh: (H, I) and (H, H).
        bias_ih, bias_hh: (H,) each, or None.
        nonlinearity: "tanh" or "relu".

    Returns:
        The next hidden state, (B, H).
    """
    pre = F.linear(x, weight_ih, bias_ih) + F.linear(h, weight_hh, bias_hh)  # (B, H)
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def lstm_cell(
    x: Tensor,
    state: tuple[Tensor, Tensor],
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step; the gates are stacked in torch's order i, f, g, o.

    Args:
        x: input, (B, I).
        state: `(h, c)`, each (B, H).
        weight_ih, weight_hh: (4H, I) and (4H, H).
        bias_ih, bias_hh: (4H,) each, or None.

    Returns:
        `(h', c')`, each (B, H).
    """
    h, c = state
    gates = F.linear(x, weight_ih, bias_ih) + F.linear(h, weight_hh, bias_hh)  # (B, 4H)
    i, f, g, o = gates.chunk(4, dim=1)  # each (B, H)
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_next = torch.sigmoid(o) * torch.tanh(c_next)
    return h_next, c_next


def gru_cell(
    x: Tensor,
    h: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
) -> Tensor:
    """One GRU step; the gates are stacked in torch's order r, z, n.

    The reset gate multiplies `W_hn h + b_hn` (torch and cuDNN), not `h` before the product
    as in Cho et al. (2014); Keras calls this variant `reset_after=True`.

    Args:
        x: input, (B, I).
        h: previous hidden state, (B, H).
        weight_ih, weight_hh: (3H, I) and (3H, H).
        bias_ih, bias_hh: (3H,) each, or None.

    Returns:
        The next hidden state, (B, H).
    """
    x_r, x_z, x_n = F.linear(x, weight_ih, bias_ih).chunk(3, dim=1)  # each (B, H)
    h_r, h_z, h_n = F.linear(h, weight_hh, bias_hh).chunk(3, dim=1)  # each (B, H)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h


class _CellBase(nn.Module):
    """Weights and initialisation shared by the three cells; `num_gates` is G."""

    num_gates: int = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(
                f"input_size and hidden_size must be positive, got {input_size}, {hidden_size}"
            )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        rows = self.num_gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(rows))
            self.bias_hh = nn.Parameter(torch.empty(rows))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every weight and bias from uniform(-1/sqrt(H), 1/sqrt(H)), as torch does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        return text

    def _state_or_zeros(self, x: Tensor, h: Tensor | None) -> Tensor:
        """Check that `x` is (B, I); return `h`, or a zero (B, H) state when it is None."""
        if x.dim() != 2 or x.size(1) != self.input_size:
            raise ValueError(
                f"expected input of shape (B, {self.input_size}), got {tuple(x.shape)}"
            )
        return x.new_zeros(x.size(0), self.hidden_size) if h is None else h


class RNNCell(_CellBase):
    r"""An Elman RNN cell.

    .. math::
        h' = \tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})

    (or ReLU in place of tanh with `nonlinearity="relu"`).

    Torch keeps two bias vectors, so a cell has H(H + I) + 2H parameters; Keras's
    `SimpleRNN` keeps one, H(H + I) + H (see `seqnlp.nn.params.rnn_parameter_count`).

    Args:
        input_size: I, the size of each input vector.
        hidden_size: H, the size of the state.
        bias: whether to add `bias_ih` and `bias_hh`.
        nonlinearity: "tanh" or "relu".

    Attributes:
        weight_ih: (H, I). weight_hh: (H, H). bias_ih, bias_hh: (H,).

    Shape:
        input (B, I), hx (B, H) or None for zeros -> h' (B, H).
    """

    num_gates = 1

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"
    ) -> None:
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """Advance one step; `hx=None` starts from zeros."""
        h = self._state_or_zeros(input, hx)
        return rnn_cell(
            input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
            self.nonlinearity,
        )

    def extra_repr(self) -> str:
        text = super().extra_repr()
        if self.nonlinearity != "tanh":
            text += f", nonlinearity={self.nonlinearity!r}"
        return text


class LSTMCell(_CellBase):
    r"""A long short-term memory cell.

    .. math::
        \begin{array}{ll}
        i = \sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}) \\
        f = \sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}) \\
        g = \tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}) \\
        o = \sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}) \\
        c' = f \odot c + i \odot g \\
        h' = o \odot \tanh(c')
        \end{array}

    Args:
        input_size: I, the size of each input vector.
        hidden_size: H, the size of the state.
        bias: whether to add `bias_ih` and `bias_hh`.

    Attributes:
        weight_ih: (4H, I), rows `W_ii | W_if | W_ig | W_io`. weight_hh: (4H, H).
        bias_ih, bias_hh: (4H,).

    Shape:
        input (B, I), hx `(h, c)` each (B, H) or None for zeros -> `(h', c')` each (B, H).
    """

    num_gates = 4

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        """Advance one step; `hx=None` starts from zeros."""
        h, c = (None, None) if hx is None else hx
        state = (self._state_or_zeros(input, h), self._state_or_zeros(input, c))
        return lstm_cell(input, state, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class GRUCell(_CellBase):
    r"""A gated recurrent unit cell.

    .. math::
        \begin{array}{ll}
        r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}) \\
        z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) \\
        n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})) \\
        h' = (1 - z) \odot n + z \odot h
        \end{array}

    Args:
        input_size: I, the size of each input vector.
        hidden_size: H, the size of the state.
        bias: whether to add `bias_ih` and `bias_hh`.

    Attributes:
        weight_ih: (3H, I), rows `W_ir | W_iz | W_in`. weight_hh: (3H, H).
        bias_ih, bias_hh: (3H,).

    Shape:
        input (B, I), hx (B, H) or None for zeros -> h' (B, H).
    """

    num_gates = 3

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """Advance one step; `hx=None` starts from zeros."""
        h = self._state_or_zeros(input, hx)
        return gru_cell(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
