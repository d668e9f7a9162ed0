"""Exact references for the recurrent layers: both implementations equal torch.nn.RNN/LSTM/GRU
with copied weights (packed sequences for variable lengths), values and gradients."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqnlp.nn import GRU, LSTM, RNN, count_parameters

KINDS = {
    "rnn": (RNN, torch.nn.RNN, {}),
    "rnn_relu": (RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (LSTM, torch.nn.LSTM, {}),
    "gru": (GRU, torch.nn.GRU, {}),
}
B, T, I, H = 4, 6, 5, 3
UNSORTED = [3, 6, 1, 4]


def _pair(kind, impl, num_layers=1, bidirectional=False, dtype=torch.float32, **extra):
    ours_cls, torch_cls, options = KINDS[kind]
    torch.manual_seed(0)
    theirs = torch_cls(I, H, num_layers, bidirectional=bidirectional, batch_first=True,
                       **options, **extra).to(dtype)
    ours = ours_cls(I, H, num_layers, bidirectional=bidirectional, impl=impl,
                    **options, **extra).to(dtype)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _states(state):
    return state if isinstance(state, tuple) else (state,)


def _torch_reference(module, x, lengths, hx):
    if lengths is None:
        return module(x, hx)
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    output, final = module(packed, hx)
    return pad_packed_sequence(output, batch_first=True, total_length=x.size(1))[0], final


def _outputs_and_grads(module, x, lengths, hx, reference):
    output, final = (
        _torch_reference(module, x, lengths, hx) if reference else module(x, lengths, hx)
    )
    results = [output, *_states(final)]
    # the same random projection of every result for both modules (not randn_like, which
    # follows the strides of r, and torch's batch-first output is a transposed view)
    generator = torch.Generator().manual_seed(1)
    loss = sum(
        (r * torch.randn(r.shape, generator=generator, dtype=r.dtype)).sum() for r in results
    )
    leaves = [x, *_states(hx), *module.parameters()]
    return results + list(torch.autograd.grad(loss, leaves))


def _inputs(kind, num_layers, bidirectional, dtype):
    torch.manual_seed(2)
    x = torch.randn(B, T, I, dtype=dtype, requires_grad=True)
    shape = (num_layers * (2 if bidirectional else 1), B, H)
    states = tuple(torch.randn(shape, dtype=dtype, requires_grad=True)
                   for _ in range(2 if kind == "lstm" else 1))
    return x, states if kind == "lstm" else states[0]


@pytest.mark.parametrize("lengths", [None, UNSORTED], ids=["full", "unsorted_lengths"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("impl", ["fused", "explicit"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_layer_matches_torch_values_and_gradients(kind, impl, num_layers, bidirectional, lengths):
    ours, theirs = _pair(kind, impl, num_layers, bidirectional)
    x, hx = _inputs(kind, num_layers, bidirectional, torch.float32)
    got = _outputs_and_grads(ours, x, lengths, hx, reference=False)
    want = _outputs_and_grads(theirs, x, lengths, hx, reference=True)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", list(KINDS))
def test_explicit_layer_matches_torch_to_float64_precision(kind):
    ours, theirs = _pair(kind, "explicit", 2, True, dtype=torch.float64)
    x, hx = _inputs(kind, 2, True, torch.float64)
    got = _outputs_and_grads(ours, x, UNSORTED, hx, reference=False)
    want = _outputs_and_grads(theirs, x, UNSORTED, hx, reference=True)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("impl", ["fused", "explicit"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_outputs_at_padded_steps_are_exactly_zero(kind, impl):
    ours, _ = _pair(kind, impl, 2, True)
    output, _ = ours(torch.randn(B, T, I), torch.tensor(UNSORTED))
    for b, length in enumerate(UNSORTED):
        assert output[b, length:].eq(0).all()
        if kind != "rnn_relu":  # a ReLU output may be zero at a real step
            assert output[b, :length].ne(0).all()


@pytest.mark.parametrize("impl", ["fused", "explicit"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_padded_batch_gives_each_sequence_its_unpadded_result(kind, impl):
    ours, _ = _pair(kind, impl, 2, True)
    x = torch.randn(B, T, I)
    output, final = ours(x, UNSORTED)
    for b, length in enumerate(UNSORTED):
        alone_out, alone_final = ours(x[b : b + 1, :length])
        torch.testing.assert_close(output[b : b + 1, :length], alone_out, atol=1e-6, rtol=1e-6)
        for s, alone in zip(_states(final), _states(alone_final)):
            torch.testing.assert_close(s[:, b : b + 1], alone, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("kind", list(KINDS))
def test_fused_and_explicit_agree_and_share_the_state_dict(kind):
    fused, theirs = _pair(kind, "fused", 2, True)
    explicit = type(fused)(I, H, 2, bidirectional=True, impl="explicit", **KINDS[kind][2])
    explicit.load_state_dict(fused.state_dict())
    assert list(fused.state_dict()) == list(theirs.state_dict())
    x = torch.randn(B, T, I)
    out_f, final_f = fused(x, UNSORTED)
    out_e, final_e = explicit(x, UNSORTED)
    torch.testing.assert_close(out_f, out_e, atol=1e-6, rtol=1e-6)
    for a, b in zip(_states(final_f), _states(final_e)):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)
    theirs.load_state_dict(explicit.state_dict())  # and back into torch


@pytest.mark.parametrize("impl", ["fused", "explicit"])
def test_time_major_layout_gives_the_transposed_result(impl):
    batch_major, _ = _pair("lstm", impl, 2, True)
    time_major = LSTM(I, H, 2, bidirectional=True, batch_first=False, impl=impl)
    time_major.load_state_dict(batch_major.state_dict())
    x = torch.randn(B, T, I)
    out_b, (h_b, c_b) = batch_major(x, UNSORTED)
    out_t, (h_t, c_t) = time_major(x.transpose(0, 1), UNSORTED)
    torch.testing.assert_close(out_t.transpose(0, 1), out_b)
    torch.testing.assert_close((h_t, c_t), (h_b, c_b))


@pytest.mark.parametrize("impl", ["fused", "explicit"])
def test_missing_state_means_zeros(impl):
    ours, _ = _pair("gru", impl, 2, False)
    x = torch.randn(B, T, I)
    torch.testing.assert_close(ours(x), ours(x, hx=torch.zeros(2, B, H)))


@pytest.mark.filterwarnings("ignore:dropout option adds dropout:UserWarning")  # torch's twin
@pytest.mark.parametrize("impl", ["fused", "explicit"])
def test_dropout_acts_between_layers_in_training_only(impl):
    plain, _ = _pair("lstm", impl, 2, False)
    dropped, _ = _pair("lstm", impl, 2, False, dropout=0.5)
    x = torch.randn(B, T, I)
    dropped.eval()
    torch.testing.assert_close(dropped(x)[0], plain(x)[0])
    dropped.train()
    assert not torch.allclose(dropped(x)[0], plain(x)[0])
    single, _ = _pair("lstm", impl, 1, False, dropout=0.5)  # nothing to drop between
    single.train()
    torch.testing.assert_close(single(x)[0], _pair("lstm", impl)[0](x)[0])


@pytest.mark.parametrize("impl", ["fused", "explicit"])
def test_last_layer_state_is_forward_last_token_and_reverse_first_token(impl):
    ours, _ = _pair("gru", impl, 2, True)
    output, h_n = ours(torch.randn(B, T, I), UNSORTED)
    top = ours.last_layer_state(h_n)
    assert top.shape == (B, 2 * H)
    for b, length in enumerate(UNSORTED):
        torch.testing.assert_close(top[b, :H], output[b, length - 1, :H])
        torch.testing.assert_close(top[b, H:], output[b, 0, H:])


@pytest.mark.parametrize("kind", list(KINDS))
def test_parameter_count_equals_torch(kind):
    ours, theirs = _pair(kind, "fused", 2, True)
    assert count_parameters(ours) == count_parameters(theirs)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: m(torch.randn(B, T, I + 1)), "I=5"),
        (lambda m: m(torch.randn(B, T, I), [0, 1, 2, 3]), r"\[1, 6\]"),
        (lambda m: m(torch.randn(B, T, I), [7, 1, 2, 3]), r"\[1, 6\]"),
        (lambda m: m(torch.randn(B, T, I), [1, 2]), r"shape \(4,\)"),
        (lambda m: m(torch.randn(B, T, I), hx=torch.zeros(1, B, H)), r"\(L\*D, B, H\)"),
    ],
)
def test_bad_inputs_raise_value_errors_that_show_the_value(call, message):
    with pytest.raises(ValueError, match=message):
        call(GRU(I, H, 2))


def test_a_state_of_the_wrong_kind_is_rejected():
    with pytest.raises(ValueError, match="tuple"):
        LSTM(I, H)(torch.randn(B, T, I), hx=torch.zeros(1, B, H))
    with pytest.raises(ValueError, match="a tensor, got tuple"):
        GRU(I, H)(torch.randn(B, T, I), hx=(torch.zeros(1, B, H),))
    x, (h, c) = torch.randn(B, T, I), (torch.randn(1, B, H), torch.randn(1, B, H))
    assert LSTM(I, H)(x, hx=[h, c])[0].shape == (B, T, H)


def test_bad_options_raise_value_errors():
    with pytest.raises(ValueError, match="impl"):
        LSTM(I, H, impl="cudnn")
    with pytest.raises(ValueError, match="1.5"):
        GRU(I, H, dropout=1.5)
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(I, H, nonlinearity="sigmoid")


def test_extra_repr_shows_non_default_options():
    assert repr(LSTM(5, 3)) == "LSTM(5, 3)"
    assert repr(RNN(5, 3, 2, bidirectional=True, nonlinearity="relu", impl="explicit")) == (
        "RNN(5, 3, num_layers=2, bidirectional=True, impl='explicit', nonlinearity='relu')"
    )
