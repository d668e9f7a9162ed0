"""Parameter counts: of any module, and of recurrent layers in closed form.

A recurrent layer direction with G gates (1 for a simple RNN, 4 for an LSTM, 3 for a GRU),
input size I and hidden size H holds G*H*(I + H) weights plus its biases. Frameworks
disagree on the biases:

- torch (and cuDNN) keep two vectors, `bias_ih` and `bias_hh`: G*H*(I + H) + 2*G*H;
- Keras's `SimpleRNN` and `LSTM` keep one: G*H*(I + H) + G*H. (Keras's `GRU` with
  `reset_after=True`, its default since TF 2, keeps two, like torch.)

Worked example: embedding size 32 feeding a simple RNN with state size 32 has
32*(32 + 32) + 32 = 2,080 parameters in Keras and 32*(32 + 32) + 2*32 = 2,112 in torch.
"""

from __future__ import annotations

from torch import nn

from seqnlp.errors import one_of

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
BIAS_VECTORS = {True: 2, "double": 2, "single": 1, False: 0, "none": 0}


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """The number of scalar parameters of `module`, each shared tensor counted once.

    Args:
        module: any torch module.
        trainable_only: count only parameters with `requires_grad=True`.

    Returns:
        The total number of elements.
    """
    return sum(
        weight.numel()
        for weight in module.parameters()
        if weight.requires_grad or not trainable_only
    )


def rnn_parameter_count(
    kind: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    bias: bool | str = True,
) -> int:
    """The parameter count of a stacked recurrent layer, by formula.

    With G gates (`kind` "rnn": 1, "lstm": 4, "gru": 3), D directions, and n bias vectors
    per direction, layer 0 has D * (G*H*(I + H) + n*G*H) parameters and every later layer
    D * (G*H*(D*H + H) + n*G*H), since it reads the D*H-wide output below it.

    Args:
        kind: "rnn", "lstm" or "gru".
        input_size: I.
        hidden_size: H.
        num_layers: L.
        bidirectional: D = 2 when True.
        bias: True or "double" for torch's two bias vectors (`bias_ih`, `bias_hh`),
            "single" for one (Keras's `SimpleRNN`/`LSTM`), False or "none" for none.

    Returns:
        The count; for torch's layers (`bias` True or False) it equals
        `count_parameters(seqnlp.nn.LSTM(...))` and that of `torch.nn.LSTM(...)`.

    Raises:
        ValueError: on an unknown `kind` or `bias`, or a size below 1.
    """
    if kind not in GATES:
        raise ValueError(f"kind must be one of {one_of(sorted(GATES))}, got {kind!r}")
    if not isinstance(bias, (bool, str)) or bias not in BIAS_VECTORS:
        raise ValueError(f"bias must be True, False, 'double', 'single' or 'none', got {bias!r}")
    if min(input_size, hidden_size, num_layers) < 1:
        raise ValueError(
            "input_size, hidden_size and num_layers must be positive, got "
            f"{input_size}, {hidden_size}, {num_layers}"
        )
    rows = GATES[kind] * hidden_size  # G*H
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else directions * hidden_size
        per_direction = rows * (layer_input + hidden_size) + BIAS_VECTORS[bias] * rows
        total += directions * per_direction
    return total
