"""Attention: masked softmax, each score function against its formula, context shapes."""

from __future__ import annotations

import math

import pytest
import torch

from seqnlp.nn.attention import SCORES, Attention, masked_softmax

pytestmark = pytest.mark.usefixtures("one_thread")


def test_masked_softmax_sums_to_one_and_is_zero_on_padding() -> None:
    scores = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 9.0, 9.0]])
    mask = torch.tensor([[True, True, True, True], [True, True, False, False]])
    weights = masked_softmax(scores, mask)
    assert torch.allclose(weights.sum(-1), torch.ones(2))
    assert weights[1, 2:].tolist() == [0.0, 0.0]
    expected = torch.softmax(torch.tensor([0.5, -1.0]), dim=0)
    assert torch.allclose(weights[1, :2], expected)


def test_masked_softmax_of_an_all_padded_row_is_zeros_not_nan() -> None:
    weights = masked_softmax(torch.zeros(1, 3), torch.zeros(1, 3, dtype=torch.bool))
    assert weights.tolist() == [[0.0, 0.0, 0.0]]


@pytest.mark.parametrize("score", SCORES)
def test_attention_weights_sum_to_one_and_ignore_padding(score: str) -> None:
    torch.manual_seed(0)
    attention = Attention(score, 4, 4, attention_size=3)
    memory = torch.randn(2, 5, 4)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    context, weights = attention(torch.randn(2, 4), memory, mask)
    assert context.shape == (2, 4) and weights.shape == (2, 5)
    assert torch.allclose(weights.sum(-1), torch.ones(2))
    assert weights[1, 2:].abs().sum() == 0
    changed = memory.clone()
    changed[1, 2:] = 100.0  # what lies under the padding cannot change the result
    query = torch.tensor([[0.3, -0.2, 0.1, 0.5], [1.0, 0.0, -1.0, 0.5]])
    context1, weights1 = attention(query, memory, mask)
    context2, weights2 = attention(query, changed, mask)
    assert torch.allclose(context1[1], context2[1]) and torch.allclose(weights1, weights2)


# One hand-computed case: q = (1, 2), x_1 = (1, 0), x_2 = (0, 1), x_3 = (1, 1).
Q = torch.tensor([[1.0, 2.0]])
X = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])


def test_dot_score_is_the_dot_product() -> None:
    attention = Attention("dot", 2, 2)
    assert attention.scores(Q, X).tolist() == [[1.0, 2.0, 3.0]]


def test_scaled_dot_score_divides_by_the_root_of_the_key_size() -> None:
    attention = Attention("scaled_dot", 2, 2)
    expected = [[1 / math.sqrt(2), 2 / math.sqrt(2), 3 / math.sqrt(2)]]
    assert torch.allclose(attention.scores(Q, X), torch.tensor(expected))


def test_general_score_is_the_bilinear_form() -> None:
    attention = Attention("general", 2, 2)
    with torch.no_grad():
        attention.weight.copy_(torch.tensor([[1.0, 2.0], [0.0, -1.0]]))
    # q^T W = (1, 2 - 2) = (1, 0): scores x_1 -> 1, x_2 -> 0, x_3 -> 1
    assert attention.scores(Q, X).tolist() == [[1.0, 0.0, 1.0]]


def test_scaled_general_score_is_the_bilinear_form_over_the_root_of_the_key_size() -> None:
    attention = Attention("scaled_general", 2, 2)
    with torch.no_grad():
        attention.weight.copy_(torch.tensor([[1.0, 2.0], [0.0, -1.0]]))
    expected = [[1 / math.sqrt(2), 0.0, 1 / math.sqrt(2)]]
    assert torch.allclose(attention.scores(Q, X), torch.tensor(expected))


def test_additive_score_is_bahdanaus_mlp() -> None:
    attention = Attention("additive", 2, 2, attention_size=2)
    with torch.no_grad():
        attention.query_proj.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        attention.query_proj.bias.copy_(torch.tensor([0.5, -0.5]))
        attention.key_proj.weight.copy_(torch.tensor([[2.0, 0.0], [0.0, -1.0]]))
        attention.v.copy_(torch.tensor([1.0, -2.0]))
    # W_q q + b = (1.5, 1.5); W_x x_n = (2, 0), (0, -1), (2, -1)
    expected = [math.tanh(3.5) - 2 * math.tanh(1.5), math.tanh(1.5) - 2 * math.tanh(0.5),
                math.tanh(3.5) - 2 * math.tanh(0.5)]
    assert torch.allclose(attention.scores(Q, X), torch.tensor([expected]))


def test_concat_score_is_luongs_concat() -> None:
    attention = Attention("concat", 2, 2, attention_size=1)
    with torch.no_grad():
        attention.proj.weight.copy_(torch.tensor([[0.5, 0.25, 1.0, -1.0]]))
        attention.v.copy_(torch.tensor([2.0]))
    # W [q; x] = 0.5 + 0.5 + x_a - x_b = 1 + (1, -1, 0)
    expected = [2 * math.tanh(2.0), 2 * math.tanh(0.0), 2 * math.tanh(1.0)]
    assert torch.allclose(attention.scores(Q, X), torch.tensor([expected]))


def test_context_is_the_weighted_average_of_the_memory() -> None:
    attention = Attention("dot", 2, 2)
    context, weights = attention(Q, X)
    expected_weights = torch.softmax(torch.tensor([1.0, 2.0, 3.0]), dim=0)
    assert torch.allclose(weights[0], expected_weights)
    assert torch.allclose(context[0], expected_weights @ X[0])


@pytest.mark.parametrize("score", SCORES)
def test_a_query_of_many_steps_equals_one_step_at_a_time(score: str) -> None:
    torch.manual_seed(1)
    attention = Attention(score, 3, 3, attention_size=4)
    memory, query = torch.randn(2, 6, 3), torch.randn(2, 4, 3)
    mask = torch.tensor([[True] * 6, [True] * 3 + [False] * 3])
    contexts, weights = attention(query, memory, mask)
    prepared = attention.prepare(memory)
    for t in range(4):
        context, weight = attention(query[:, t], memory, mask, prepared)
        assert torch.allclose(contexts[:, t], context, atol=1e-6)
        assert torch.allclose(weights[:, t], weight, atol=1e-6)


def test_dot_attention_refuses_different_sizes() -> None:
    with pytest.raises(ValueError, match="query_size == key_size"):
        Attention("dot", 3, 4)
    with pytest.raises(ValueError, match="score must be one of"):
        Attention("cosine", 3, 3)
