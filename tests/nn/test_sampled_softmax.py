"""Sampled softmax: the log-uniform proposal, an unbiased partition estimate, and a loss that
approaches the full softmax loss as the samples grow."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from seqnlp.nn.sampled_softmax import (
    log_uniform_probs,
    log_uniform_sample,
    sampled_softmax_loss,
)


pytestmark = pytest.mark.usefixtures("one_thread")


def toy(vocab: int = 10, size: int = 4, rows: int = 1, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(rows, size, generator=g)
    weight = torch.randn(vocab, size, generator=g)
    bias = torch.randn(vocab, generator=g)
    return hidden, weight, bias


@pytest.mark.parametrize("vocab", [1, 2, 10, 10_000])
def test_log_uniform_probabilities_sum_to_one_and_decrease(vocab: int) -> None:
    q = log_uniform_probs(torch.arange(vocab), vocab)
    assert float(q.sum()) == pytest.approx(1.0, abs=1e-12)
    assert bool((q[1:] < q[:-1]).all())


def test_samples_follow_the_log_uniform_law() -> None:
    vocab, draws = 8, 200_000
    ids = log_uniform_sample(draws, vocab, generator=torch.Generator().manual_seed(1))
    assert int(ids.min()) >= 0 and int(ids.max()) < vocab
    freq = torch.bincount(ids, minlength=vocab).double() / draws
    q = log_uniform_probs(torch.arange(vocab), vocab)
    # 5 standard errors of a binomial proportion at each id
    assert bool(((freq - q).abs() <= 5 * (q * (1 - q) / draws).sqrt()).all())


def test_the_partition_estimate_is_unbiased_with_few_samples() -> None:
    # exp(loss + s_t) is the estimate Z_hat; with 5 draws out of 10 ids (many repeats and
    # accidental hits) its mean over many draws must still be the exact Z.
    hidden, weight, bias = toy()
    target = torch.tensor([3])
    scores = (hidden @ weight.t() + bias)[0]  # (V,)
    g = torch.Generator().manual_seed(2)
    estimates = []
    for _ in range(4000):
        sampled = log_uniform_sample(5, 10, generator=g)
        loss = sampled_softmax_loss(hidden, weight, bias, target, sampled)
        estimates.append(math.exp(float(loss) + float(scores[3])))
    exact = float(scores.exp().sum())
    assert sum(estimates) / len(estimates) == pytest.approx(exact, rel=0.05)


def test_loss_approaches_the_full_softmax_loss_as_samples_grow() -> None:
    hidden, weight, bias = toy(vocab=50, rows=6)
    targets = torch.tensor([0, 3, 7, 12, 30, 49])
    full = float(F.cross_entropy(hidden @ weight.t() + bias, targets))
    g = torch.Generator().manual_seed(3)

    def mean_error(samples: int) -> float:
        errors = [abs(float(sampled_softmax_loss(hidden, weight, bias, targets,
                                                 log_uniform_sample(samples, 50, generator=g)))
                      - full) for _ in range(20)]
        return sum(errors) / len(errors)

    few, many = mean_error(5), mean_error(50_000)
    assert many < 0.01
    assert many < few / 5


def test_draws_equal_to_the_target_are_masked() -> None:
    hidden, weight, bias = toy()
    sampled = torch.tensor([3, 3, 3])
    loss = sampled_softmax_loss(hidden, weight, bias, torch.tensor([3]), sampled)
    assert float(loss) == pytest.approx(0.0, abs=1e-6)  # only the true word remains


def test_gradient_reaches_only_the_target_and_sampled_rows() -> None:
    hidden, weight, bias = toy(vocab=20)
    weight.requires_grad_(True)
    loss = sampled_softmax_loss(hidden, weight, bias, torch.tensor([2]), torch.tensor([5, 9]))
    loss.backward()
    touched = torch.nonzero(weight.grad.abs().sum(1)).flatten().tolist()
    assert touched == [2, 5, 9]


def test_no_bias_equals_a_zero_bias() -> None:
    hidden, weight, _ = toy(vocab=6)
    target, sampled = torch.tensor([1]), torch.tensor([0, 4, 4, 5])
    without = sampled_softmax_loss(hidden, weight, None, target, sampled)
    zero = sampled_softmax_loss(hidden, weight, torch.zeros(6), target, sampled)
    torch.testing.assert_close(without, zero)
