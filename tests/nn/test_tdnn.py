"""Time-delay layers against a direct sum over delayed inputs; masking; receptive fields."""

from __future__ import annotations

import pytest
import torch

from seqnlp.nn import TDNN, TDNNStack, context_offsets

CONTEXTS = [(-2, -1, 0, 1, 2), (-3, 0, 3), (-3, 0, 1), (0,), (-1, 2), (1, 2), (-4, -2)]


def _direct_sum(layer: TDNN, x: torch.Tensor) -> torch.Tensor:
    """y[b, t] = bias + sum_k W_k x[b, t + o_k], zero outside [0, T): written as loops."""
    batch, length, _ = x.shape
    y = torch.zeros(batch, length, layer.output_size, dtype=x.dtype)
    for t in range(length):
        y[:, t] = layer.bias
        for k, offset in enumerate(layer.context):
            if 0 <= t + offset < length:
                y[:, t] += x[:, t + offset] @ layer.weight[:, :, k].T
    return y


@pytest.mark.parametrize("context", CONTEXTS, ids=str)
def test_tdnn_equals_the_direct_sum_over_delayed_inputs(context):
    torch.manual_seed(0)
    layer = TDNN(4, 3, context).double()
    x = torch.randn(2, 7, 4, dtype=torch.float64)
    y = layer(x)
    assert y.shape == (2, 7, 3)
    torch.testing.assert_close(y, _direct_sum(layer, x), atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("length", [1, 2, 3])
def test_tdnn_keeps_the_length_of_sequences_shorter_than_the_window(length):
    layer = TDNN(4, 3, (-3, 0, 1))
    x = torch.randn(2, length, 4)
    torch.testing.assert_close(layer(x), _direct_sum(layer, x))


def test_tdnn_stores_only_the_weights_of_its_taps():
    layer = TDNN(4, 3, (-3, 0, 1))
    assert layer.weight.shape == (3, 4, 3)
    y = layer(torch.randn(2, 6, 4)).sum()
    y.backward()
    assert layer.weight.grad.shape == (3, 4, 3)


@pytest.mark.parametrize(
    "size, dilation, expected",
    [(5, 1, (-2, -1, 0, 1, 2)), (3, 3, (-3, 0, 3)), (4, 1, (-1, 0, 1, 2)), (1, 2, (0,))],
)
def test_context_size_and_dilation_give_a_centred_window(size, dilation, expected):
    assert context_offsets(size, dilation) == expected
    assert TDNN(2, 2, context_size=size, dilation=dilation).context == expected


@pytest.mark.parametrize("context", [(-2, 0, 1), (1, 2), (0,)], ids=str)
def test_padding_never_leaks_into_real_positions(context):
    torch.manual_seed(0)
    layer = TDNN(4, 3, context)
    lengths = [3, 7, 5]
    x = torch.randn(3, 7, 4)
    y = layer(x, lengths)
    for b, length in enumerate(lengths):
        alone = layer(x[b : b + 1, :length])
        torch.testing.assert_close(y[b : b + 1, :length], alone)
        assert y[b, length:].eq(0).all()
    garbage = x.clone()
    garbage[0, 3:] = 1e6  # changing padded steps changes nothing
    torch.testing.assert_close(layer(garbage, lengths), y)


def test_stack_receptive_field_is_the_sum_of_its_contexts():
    torch.manual_seed(0)
    stack = TDNNStack(2, 4, [(-2, -1, 0, 1, 2), (-1, 2), (-3, 3)], activation="tanh").double()
    assert stack.receptive_field == (-6, 7)
    x = torch.randn(1, 30, 2, dtype=torch.float64)
    bumped = x.clone()
    bumped[0, 15] += 1.0
    changed = (stack(bumped) - stack(x)).abs().sum(-1)[0].nonzero().flatten().tolist()
    # input step 15 reaches outputs t with t + first <= 15 <= t + last
    assert changed == list(range(15 - 7, 15 + 6 + 1))


def test_stack_output_is_zero_at_padded_steps_even_after_a_sigmoid():
    stack = TDNNStack(2, 3, [(-1, 0, 1), (0, 1)], activation="sigmoid")
    y = stack(torch.randn(2, 5, 2), [5, 2])
    assert y.shape == (2, 5, 3)
    assert y[1, 2:].eq(0).all() and y[1, :2].ne(0).all()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: TDNN(2, 2, (0, 0)), "strictly increasing"),
        (lambda: TDNN(2, 2, (1, -1)), "strictly increasing"),
        (lambda: TDNN(2, 2, ()), "non-empty"),
        (lambda: TDNN(2, 2, (0,), context_size=3), "not both"),
        (lambda: TDNN(2, 2, context_size=0), "positive"),
        (lambda: TDNNStack(2, 2, [(0,)], activation="gelu"), "gelu"),
        (lambda: TDNN(2, 2)(torch.randn(1, 3, 5)), r"\(B, T, 2\)"),
    ],
)
def test_bad_options_raise_value_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_repr_shows_the_context():
    assert repr(TDNN(3, 4, (-3, 0, 3))) == "TDNN(3, 4, context=(-3, 0, 3))"
