"""Tests of seqnlp.decoding.sampling: temperature, top-k and nucleus filtering, reproducibility."""

from __future__ import annotations

import math

import pytest
import torch

from seqnlp.decoding import filter_logits, greedy_search, sample, top_k_filter, top_p_filter
from tests.decoding.steps import TinyRNN, bigram_step, random_bigram, table_from_probs

EOS = 0
PROBS = [0.1, 0.5, 0.25, 0.15]


def kept(logits: torch.Tensor) -> list[int]:
    return [i for i, value in enumerate(logits[0].tolist()) if value > -math.inf]


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.01, [1]),
        (0.45, [1]),
        (0.7, [1, 2]),
        (0.8, [1, 2, 3]),
        (0.95, [0, 1, 2, 3]),
        (1.0, [0, 1, 2, 3]),
    ],
)
def test_top_p_keeps_the_smallest_set_reaching_p(p: float, expected: list[int]) -> None:
    logits = torch.tensor([PROBS]).log()
    assert kept(top_p_filter(logits, p)) == expected


def test_top_p_keeps_the_kept_logits_unchanged_and_works_per_row() -> None:
    logits = torch.tensor([PROBS, PROBS[::-1]]).log()
    out = top_p_filter(logits, 0.7)
    assert out[0, 1] == logits[0, 1] and out[0, 2] == logits[0, 2]
    assert [i for i, v in enumerate(out[1].tolist()) if v > -math.inf] == [1, 2]


@pytest.mark.parametrize(
    ("k", "expected"), [(1, [1]), (2, [1, 2]), (3, [1, 2, 3]), (9, [0, 1, 2, 3])]
)
def test_top_k_keeps_the_k_most_probable(k: int, expected: list[int]) -> None:
    assert kept(top_k_filter(torch.tensor([PROBS]).log(), k)) == expected


def test_filters_apply_temperature_then_top_k_then_top_p() -> None:
    logits = torch.tensor([PROBS]).log()
    # Alone, p = 0.53 needs tokens 1 (0.5) and 2; after top-k = 3 renormalises the rest to
    # 0.556, 0.278, 0.167, token 1 alone reaches it.
    assert kept(filter_logits(logits, top_p=0.53)) == [1, 2]
    assert kept(filter_logits(logits, top_k=3, top_p=0.53)) == [1]
    sharp = filter_logits(logits, temperature=0.5).softmax(-1)[0]
    squared = torch.tensor(PROBS) ** 2
    assert sharp.tolist() == pytest.approx((squared / squared.sum()).tolist(), rel=1e-5)


@pytest.mark.parametrize(
    ("options", "message"),
    [({"temperature": 0.0}, "temperature"), ({"top_k": 0}, "top_k"), ({"top_p": 0.0}, "top_p"),
     ({"top_p": 1.5}, "top_p"), ({"temperature": float("inf")}, "finite"),
     ({"temperature": float("nan")}, "temperature"), ({"top_p": float("nan")}, "top_p")],
)
def test_invalid_options_raise_before_any_step(options: dict, message: str) -> None:
    def step(state: None, tokens: torch.Tensor) -> None:
        raise AssertionError("stepped")

    with pytest.raises(ValueError, match=message):
        sample(step, None, 1, EOS, max_len=3, **options)


@pytest.mark.parametrize(("seed", "batch"), [(0, 1), (1, 4), (2, 7)])
def test_top_k_one_and_a_cold_temperature_reproduce_greedy(seed: int, batch: int) -> None:
    model = TinyRNN(vocab_size=9, seed=seed)
    state = model.initial_state(batch)
    greedy = greedy_search(model, state, 1, EOS, max_len=15)
    for options in ({"top_k": 1}, {"temperature": 1e-4}, {"top_p": 1e-6}):
        generator = torch.Generator().manual_seed(seed)
        drawn = sample(model, state, 1, EOS, max_len=15, generator=generator, **options)
        assert torch.equal(drawn.tokens, greedy.tokens)
        assert torch.equal(drawn.log_prob, greedy.log_prob)  # scored under the model


def test_the_same_generator_seed_gives_the_same_sequences() -> None:
    model = TinyRNN(vocab_size=12, seed=5, sharpness=0.5)
    state = model.initial_state(4)

    def draw(seed: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        return sample(model, state, 1, EOS, max_len=20, top_p=0.9, generator=generator).tokens

    assert torch.equal(draw(3), draw(3))
    assert not torch.equal(draw(3), draw(4))


# The first token after bos = 1 is drawn from FIRST; 40,000 draws put every frequency
# within 0.01 of its probability with overwhelming odds (standard error <= 0.0025).
FIRST = [0.1, 0.2, 0.3, 0.4]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, FIRST),
        ({"top_k": 2}, [0.0, 0.0, 3 / 7, 4 / 7]),
        ({"top_p": 0.65}, [0.0, 0.0, 3 / 7, 4 / 7]),
        ({"temperature": 0.5}, [p * p / 0.3 for p in FIRST]),
        ({"temperature": 2.0}, [math.sqrt(p) / sum(map(math.sqrt, FIRST)) for p in FIRST]),
    ],
)
def test_first_token_frequencies_match_the_filtered_distribution(
    options: dict, expected: list[float]
) -> None:
    table = table_from_probs([[1, 0, 0, 0], FIRST, [1, 0, 0, 0], [1, 0, 0, 0]])
    draws = 40_000
    result = sample(
        bigram_step(table), None, torch.ones(draws, dtype=torch.long), EOS, max_len=1,
        generator=torch.Generator().manual_seed(0), **options,
    )
    frequencies = torch.bincount(result.tokens[:, 0], minlength=4).double() / draws
    assert frequencies.tolist() == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("min_len", [0, 2, 5])
def test_sampling_honours_min_len_and_stops_at_eos(min_len: int) -> None:
    table = random_bigram(5, seed=8, sharpness=0.3)
    bos = torch.ones(200, dtype=torch.long)
    generator = torch.Generator().manual_seed(1)
    step = bigram_step(table)
    result = sample(step, None, bos, EOS, max_len=8, min_len=min_len, generator=generator)
    rows = zip(result.tokens.tolist(), result.lengths.tolist(), result.ended.tolist())
    for row, length, ended in rows:
        assert EOS not in row[:min_len]
        assert ended == (EOS in row) and (not ended or row.index(EOS) == length - 1)
        assert all(token == EOS for token in row[length:])  # padded with eos, the default pad
    assert result.ended.any()
