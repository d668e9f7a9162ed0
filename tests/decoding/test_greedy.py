"""Tests of seqnlp.decoding.greedy: argmax decoding, end tokens, padding, min_len."""

from __future__ import annotations

import math

import pytest
import torch

from seqnlp.decoding import greedy_search
from tests.decoding.steps import (
    TinyRNN,
    bigram_step,
    random_bigram,
    select_sentence,
    table_from_probs,
)

EOS, A, B, BOS = 0, 1, 2, 3
# Greedy takes A (0.6) and then can only reach eos with 0.4; B (0.4) then eos (0.9) is better.
SHORT_SIGHTED = table_from_probs(
    [
        [1.0, 0.0, 0.0, 0.0],  # after eos (the pad fed to finished sequences)
        [0.4, 0.3, 0.3, 0.0],  # after A
        [0.9, 0.05, 0.05, 0.0],  # after B
        [0.0, 0.6, 0.4, 0.0],  # after BOS
    ]
)


def test_greedy_takes_the_locally_best_token() -> None:
    result = greedy_search(bigram_step(SHORT_SIGHTED), None, BOS, EOS, max_len=5)
    assert result.tokens.tolist() == [[A, EOS]]
    assert result.lengths.tolist() == [2] and result.ended.tolist() == [True]
    assert result.log_prob.item() == pytest.approx(math.log(0.6 * 0.4), rel=1e-12)


def test_finished_rows_are_padded_and_score_nothing_more() -> None:
    # Row 0 ends after 1 token, row 1 after 3, row 2 never (cut at max_len = 4).
    table = table_from_probs(
        [[1, 0, 0, 0, 0], [0.1, 0, 0.9, 0, 0], [0.1, 0, 0, 0.9, 0], [0.6, 0, 0, 0, 0.4],
         [0.3, 0, 0, 0, 0.7]]
    )
    fed: list[list[int]] = []

    def step(state: None, tokens: torch.Tensor) -> tuple[torch.Tensor, None]:
        fed.append(tokens.tolist())
        return table[tokens], state

    result = greedy_search(step, None, torch.tensor([3, 1, 4]), EOS, max_len=4, pad=4)
    assert result.tokens.tolist() == [[0, 4, 4, 4], [2, 3, 0, 4], [4, 4, 4, 4]]
    assert result.lengths.tolist() == [1, 3, 4]
    assert result.ended.tolist() == [True, True, False]
    expected = [math.log(0.6), math.log(0.9 * 0.9 * 0.6), math.log(0.7**4)]
    assert result.log_prob.tolist() == pytest.approx(expected, rel=1e-12)
    assert [row[0] for row in fed] == [3, 0, 4, 4]  # eos is fed once, then the pad (4)


def test_pad_defaults_to_eos_and_the_loop_stops_when_all_ended() -> None:
    table = table_from_probs([[1, 0, 0], [0.2, 0.1, 0.7], [0.8, 0.1, 0.1]])
    result = greedy_search(bigram_step(table), None, torch.tensor([2, 1]), EOS, max_len=50)
    assert result.tokens.tolist() == [[0, 0], [2, 0]]
    assert result.lengths.tolist() == [1, 2]


def test_max_len_cuts_a_sequence_that_never_ends() -> None:
    table = table_from_probs([[1, 0], [0.1, 0.9]])
    result = greedy_search(bigram_step(table), None, 1, EOS, max_len=3)
    assert result.tokens.tolist() == [[1, 1, 1]] and result.ended.tolist() == [False]
    assert result.log_prob.item() == pytest.approx(3 * math.log(0.9), rel=1e-12)


@pytest.mark.parametrize("min_len", [0, 1, 3])
def test_min_len_forbids_eos_before_that_many_tokens(min_len: int) -> None:
    table = table_from_probs([[1, 0], [0.9, 0.1]])  # eos is nearly certain at every step
    result = greedy_search(bigram_step(table), None, 1, EOS, max_len=6, min_len=min_len)
    assert result.tokens.tolist() == [[1] * min_len + [EOS]]
    assert result.log_prob.item() == pytest.approx(min_len * math.log(0.1) + math.log(0.9))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_batch_decodes_like_its_sentences_one_by_one(seed: int) -> None:
    model = TinyRNN(vocab_size=7, seed=seed)
    state = model.initial_state(3)
    batched = greedy_search(model, state, 1, EOS, max_len=12)
    for b in range(3):
        single = greedy_search(model, select_sentence(state, b), 1, EOS, max_len=12)
        length = single.lengths.item()
        assert batched.lengths[b].item() == length
        assert batched.tokens[b, :length].tolist() == single.tokens[0, :length].tolist()
        assert batched.log_prob[b].item() == pytest.approx(single.log_prob.item(), rel=1e-12)


def test_the_score_is_the_sum_of_the_chosen_log_probs() -> None:
    table = random_bigram(6, seed=4)
    result = greedy_search(bigram_step(table), None, torch.arange(1, 6), EOS, max_len=10)
    for b, start in enumerate(range(1, 6)):
        inputs = [start] + result.tokens[b, : result.lengths[b] - 1].tolist()
        outputs = result.tokens[b, : result.lengths[b]].tolist()
        expected = sum(table[i, o].item() for i, o in zip(inputs, outputs))
        assert result.log_prob[b].item() == pytest.approx(expected, rel=1e-12)
        assert all(table[i].argmax().item() == o for i, o in zip(inputs, outputs))


@pytest.mark.parametrize(("max_len", "min_len"), [(0, 0), (3, 4), (3, -1)])
def test_invalid_lengths_raise(max_len: int, min_len: int) -> None:
    with pytest.raises(ValueError, match="max_len|min_len"):
        greedy_search(bigram_step(SHORT_SIGHTED), None, BOS, EOS, max_len=max_len, min_len=min_len)


def test_a_step_returning_the_wrong_shape_is_reported() -> None:
    def step(state: None, tokens: torch.Tensor) -> tuple[torch.Tensor, None]:
        return torch.zeros(tokens.numel() + 1, 4), state

    with pytest.raises(ValueError, match=r"shape \(2, V\), got \(3, 4\)"):
        greedy_search(step, None, torch.tensor([1, 2]), EOS, max_len=3)
