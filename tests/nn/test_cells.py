"""Exact references: each cell equals torch's cell with copied weights, values and gradients."""

from __future__ import annotations

import math

import pytest
import torch

from seqnlp.nn import GRUCell, LSTMCell, RNNCell

CASES = [
    ("rnn_tanh", lambda: RNNCell(5, 7), lambda: torch.nn.RNNCell(5, 7)),
    (
        "rnn_relu",
        lambda: RNNCell(5, 7, nonlinearity="relu"),
        lambda: torch.nn.RNNCell(5, 7, nonlinearity="relu"),
    ),
    ("rnn_no_bias", lambda: RNNCell(5, 7, bias=False), lambda: torch.nn.RNNCell(5, 7, bias=False)),
    ("lstm", lambda: LSTMCell(5, 7), lambda: torch.nn.LSTMCell(5, 7)),
    (
        "lstm_no_bias",
        lambda: LSTMCell(5, 7, bias=False),
        lambda: torch.nn.LSTMCell(5, 7, bias=False),
    ),
    ("gru", lambda: GRUCell(5, 7), lambda: torch.nn.GRUCell(5, 7)),
    ("gru_no_bias", lambda: GRUCell(5, 7, bias=False), lambda: torch.nn.GRUCell(5, 7, bias=False)),
]
TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-10}


def _pair(make_ours, make_theirs, dtype):
    torch.manual_seed(0)
    theirs = make_theirs().to(dtype)
    ours = make_ours().to(dtype)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def _run(cell, x, hx, weights):
    out = _as_tuple(cell(x, hx))
    loss = sum((o * w).sum() for o, w in zip(out, weights))
    leaves = [x, *_as_tuple(hx), *cell.parameters()]
    return out, torch.autograd.grad(loss, leaves)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name, make_ours, make_theirs", CASES, ids=[c[0] for c in CASES])
def test_cell_matches_torch_values_and_gradients(name, make_ours, make_theirs, dtype):
    ours, theirs = _pair(make_ours, make_theirs, dtype)
    x = torch.randn(4, 5, dtype=dtype, requires_grad=True)
    num_states = 2 if name.startswith("lstm") else 1
    states = tuple(torch.randn(4, 7, dtype=dtype, requires_grad=True) for _ in range(num_states))
    hx = states if num_states == 2 else states[0]
    weights = [torch.randn(4, 7, dtype=dtype) for _ in range(num_states)]
    out_ours, grads_ours = _run(ours, x, hx, weights)
    out_theirs, grads_theirs = _run(theirs, x, hx, weights)
    tol = TOLERANCE[dtype]
    for a, b in zip(out_ours + grads_ours, out_theirs + grads_theirs):
        torch.testing.assert_close(a, b, atol=tol, rtol=tol)


@pytest.mark.parametrize("name, make_ours, make_theirs", CASES, ids=[c[0] for c in CASES])
def test_cell_without_state_starts_from_zeros_like_torch(name, make_ours, make_theirs):
    ours, theirs = _pair(make_ours, make_theirs, torch.float32)
    x = torch.randn(3, 5)
    for a, b in zip(_as_tuple(ours(x)), _as_tuple(theirs(x))):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name, make_ours, make_theirs", CASES, ids=[c[0] for c in CASES])
def test_cell_parameters_have_torch_names_and_shapes(name, make_ours, make_theirs):
    ours, theirs = make_ours(), make_theirs()
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in theirs.state_dict().items()
    }


@pytest.mark.parametrize("cls, gates", [(RNNCell, 1), (LSTMCell, 4), (GRUCell, 3)])
def test_reset_parameters_draws_within_one_over_sqrt_hidden(cls, gates):
    torch.manual_seed(0)
    cell = cls(6, 100)
    bound = 1 / math.sqrt(100)
    assert cell.weight_ih.shape == (gates * 100, 6)
    for weight in cell.parameters():
        assert weight.abs().max() <= bound
        assert weight.abs().max() > 0.9 * bound  # spread over the whole interval


def test_extra_repr_shows_non_default_options():
    assert repr(RNNCell(3, 4)) == "RNNCell(3, 4)"
    assert repr(RNNCell(3, 4, bias=False, nonlinearity="relu")) == (
        "RNNCell(3, 4, bias=False, nonlinearity='relu')"
    )
    assert repr(LSTMCell(3, 4)) == "LSTMCell(3, 4)"


def test_cell_rejects_wrong_input_shape_and_unknown_nonlinearity():
    with pytest.raises(ValueError, match=r"\(B, 5\)"):
        GRUCell(5, 7)(torch.randn(2, 6))
    with pytest.raises(ValueError, match="sigmoid"):
        RNNCell(5, 7, nonlinearity="sigmoid")
