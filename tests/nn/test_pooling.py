"""Pooling over padded sequences: each mode against a per-sequence reference."""

from __future__ import annotations

import pytest
import torch

from seqnlp.nn import LSTM
from seqnlp.nn.pooling import AttentionPooling, SequencePooling, last_states
from seqnlp.nn.rnn import sequence_mask


pytestmark = pytest.mark.usefixtures("one_thread")


LENGTHS = torch.tensor([4, 1, 6, 3])
GARBAGE = 1e4  # written into padded steps: any leak shows up in the result


def padded_states(width: int = 6, seed: int = 0) -> torch.Tensor:
    """(4, 6, width) random states with huge values at the padded steps."""
    torch.manual_seed(seed)
    states = torch.randn(len(LENGTHS), int(LENGTHS.max()), width, dtype=torch.float64)
    pad = ~sequence_mask(LENGTHS, states.size(1))
    return states.masked_fill(pad.unsqueeze(-1), GARBAGE)


def test_last_with_two_directions_takes_forward_at_the_end_and_backward_at_the_start():
    states = padded_states(width=6)
    pooled = last_states(states, LENGTHS, num_directions=2)
    for b, length in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(pooled[b, :3], states[b, length - 1, :3])
        torch.testing.assert_close(pooled[b, 3:], states[b, 0, 3:])


def test_last_with_one_direction_takes_the_last_real_step():
    states = padded_states()
    pooled = SequencePooling("last", 6)(states, LENGTHS)
    expected = torch.stack([states[b, n - 1] for b, n in enumerate(LENGTHS.tolist())])
    torch.testing.assert_close(pooled, expected)


def test_last_of_a_bidirectional_lstm_equals_its_final_hidden_states():
    torch.manual_seed(0)
    lstm = LSTM(3, 5, num_layers=2, bidirectional=True)
    x = torch.randn(len(LENGTHS), int(LENGTHS.max()), 3)
    output, (h_n, _) = lstm(x, LENGTHS)
    pooled = SequencePooling("last", 10, num_directions=2)(output, LENGTHS)
    torch.testing.assert_close(pooled, lstm.last_layer_state(h_n))


@pytest.mark.parametrize("pooling, reduce", [
    ("mean", lambda s: s.mean(0)), ("max", lambda s: s.max(0).values),
])
def test_mean_and_max_ignore_the_padded_steps(pooling, reduce):
    states = padded_states()
    pooled = SequencePooling(pooling, 6)(states, LENGTHS)
    expected = torch.stack([reduce(states[b, :n]) for b, n in enumerate(LENGTHS.tolist())])
    torch.testing.assert_close(pooled, expected)


def test_max_pooling_of_all_negative_states_is_not_zero():
    states = -torch.rand(2, 3, 4) - 1.0  # every real value below -1; padding would give 0
    pooled = SequencePooling("max", 4)(states, torch.tensor([3, 2]))
    assert (pooled < -1.0).all()


def test_attention_weights_sum_to_one_over_real_steps_and_are_zero_on_padding():
    torch.manual_seed(0)
    attention = AttentionPooling(6).double()
    states = padded_states()
    mask = sequence_mask(LENGTHS, states.size(1))
    weights = attention.weights(states, mask)
    torch.testing.assert_close(weights.sum(1), torch.ones(len(LENGTHS), dtype=torch.float64))
    assert (weights[~mask] == 0).all()
    assert (weights[mask] > 0).all()


def test_attention_pooling_equals_pooling_each_sequence_alone():
    torch.manual_seed(1)
    pooling = SequencePooling("attention", 6).double()
    states = padded_states()
    pooled = pooling(states, LENGTHS)
    for b, length in enumerate(LENGTHS.tolist()):
        alone = pooling(states[b:b + 1, :length], LENGTHS[b:b + 1])
        torch.testing.assert_close(pooled[b:b + 1], alone)
    # a single real step gets all the weight
    torch.testing.assert_close(pooled[1], states[1, 0])


def test_flatten_concatenates_every_step_up_to_the_fixed_length_with_padding_zeroed():
    states = padded_states(width=2)
    pooling = SequencePooling("flatten", 2, max_len=8)
    pooled = pooling(states, LENGTHS)
    assert pooled.shape == (len(LENGTHS), 16) and pooling.out_features == 16
    grid = pooled.view(len(LENGTHS), 8, 2)
    for b, length in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(grid[b, :length], states[b, :length])
        assert (grid[b, length:] == 0).all()


def test_flatten_refuses_inputs_longer_than_its_fixed_length():
    with pytest.raises(ValueError, match="built for length 4"):
        SequencePooling("flatten", 2, max_len=4)(torch.zeros(1, 5, 2), torch.tensor([5]))


@pytest.mark.parametrize("args, message", [
    (("sum", 4), "pooling must be one of"),
    (("flatten", 4), "needs max_len"),
    (("last", 4, 3), "num_directions must be 1 or 2"),
])
def test_bad_options_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        SequencePooling(*args)


def test_gradients_do_not_reach_padded_steps():
    states = padded_states().requires_grad_()
    for pooling in ("last", "mean", "max", "attention"):
        module = SequencePooling(pooling, 6).double()
        module(states, LENGTHS).sum().backward()
        pad = ~sequence_mask(LENGTHS, states.size(1))
        assert (states.grad[pad] == 0).all(), pooling
        states.grad = None
