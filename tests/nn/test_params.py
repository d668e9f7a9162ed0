"""Parameter counts: the closed-form formula against real modules and the worked example."""

from __future__ import annotations

import pytest
import torch

from seqnlp.nn import GRU, LSTM, RNN, count_parameters, rnn_parameter_count

LAYERS = {"rnn": (RNN, torch.nn.RNN), "lstm": (LSTM, torch.nn.LSTM), "gru": (GRU, torch.nn.GRU)}


def test_worked_example_simple_rnn_on_32_dim_embeddings_of_10000_words():
    # Keras: Embedding(10000, 32) then SimpleRNN(32): one bias vector.
    assert rnn_parameter_count("rnn", 32, 32, bias="single") == 32 * (32 + 32) + 32 == 2_080
    # torch keeps bias_ih and bias_hh.
    assert rnn_parameter_count("rnn", 32, 32) == 32 * (32 + 32) + 64 == 2_112
    model = torch.nn.Sequential(torch.nn.Embedding(10_000, 32), RNN(32, 32))
    assert count_parameters(model[1]) == 2_112
    assert count_parameters(model) == 320_000 + 2_112


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_formula_equals_the_modules_counts(kind, num_layers, bidirectional, bias):
    ours_cls, torch_cls = LAYERS[kind]
    options = {"bidirectional": bidirectional, "bias": bias}
    expected = rnn_parameter_count(kind, 7, 5, num_layers, **options)
    assert count_parameters(ours_cls(7, 5, num_layers, **options)) == expected
    assert count_parameters(torch_cls(7, 5, num_layers, **options)) == expected


@pytest.mark.parametrize(
    "kind, bias, expected",
    [
        ("lstm", "single", 4 * (32 * (32 + 32) + 32)),  # Keras LSTM(32) on 32 inputs: 8,320
        ("lstm", "double", 4 * (32 * (32 + 32) + 64)),
        ("gru", "none", 3 * 32 * (32 + 32)),
    ],
)
def test_bias_options_count_one_two_or_no_vectors(kind, bias, expected):
    assert rnn_parameter_count(kind, 32, 32, bias=bias) == expected


def test_upper_layers_read_both_directions_of_the_layer_below():
    # layer 0: 2 * (4*3*(2+3) + 2*4*3); layer 1 reads 2*3 = 6 features.
    assert rnn_parameter_count("lstm", 2, 3, 2, bidirectional=True) == (
        2 * (12 * 5 + 24) + 2 * (12 * 9 + 24)
    )


def test_count_parameters_can_leave_out_frozen_weights_and_counts_shared_once():
    model = torch.nn.Sequential(torch.nn.Embedding(10, 4), torch.nn.Linear(4, 10, bias=False))
    model[1].weight = model[0].weight  # tied, as in a language model
    assert count_parameters(model) == 40
    model[0].weight.requires_grad_(False)
    assert count_parameters(model) == 0
    assert count_parameters(model, trainable_only=False) == 40


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "transformer"}, "transformer"),
        ({"bias": "triple"}, "triple"),
        ({"bias": 2}, "2"),
        ({"num_layers": 0}, "positive"),
    ],
)
def test_bad_arguments_raise_value_errors(kwargs, message):
    arguments = {"kind": "rnn", "input_size": 3, "hidden_size": 4} | kwargs
    with pytest.raises(ValueError, match=message):
        rnn_parameter_count(**arguments)
