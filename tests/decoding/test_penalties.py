"""Tests of seqnlp.decoding.penalties: GNMT and per-token length normalisation."""

from __future__ import annotations

import math
import random

import pytest

from seqnlp.decoding.penalties import LengthPenalty


@pytest.mark.parametrize(
    ("kind", "alpha", "length", "divisor"),
    [
        ("gnmt", 0.0, 9, 1.0),
        ("gnmt", 1.0, 7, 2.0),  # (5 + 7) / 6
        ("gnmt", 0.5, 31, math.sqrt(6.0)),  # ((5 + 31) / 6) ** 0.5
        ("gnmt", 0.6, 1, 1.0),  # lp = 1 for one token, whatever alpha
        ("average", 0.6, 4, 4.0),
        ("none", 2.0, 4, 1.0),
    ],
)
def test_divisor_matches_the_formula(kind: str, alpha: float, length: int, divisor: float) -> None:
    assert LengthPenalty(kind, alpha).divisor(length) == pytest.approx(divisor, rel=1e-15)


def test_score_divides_the_log_prob() -> None:
    assert LengthPenalty("average").score(-6.0, 3) == -2.0
    assert LengthPenalty("gnmt", 1.0).score(-6.0, 7) == -3.0
    assert LengthPenalty().score(-6.0, 7) == -6.0  # the default is the raw log-probability


def test_gnmt_normalisation_can_prefer_the_longer_hypothesis() -> None:
    short, long_ = (-2.0, 2), (-2.4, 12)
    raw, gnmt = LengthPenalty("gnmt", 0.0), LengthPenalty("gnmt", 1.0)
    assert raw.score(*short) > raw.score(*long_)
    assert gnmt.score(*short) < gnmt.score(*long_)


@pytest.mark.parametrize(
    ("kind", "alpha"), [("gnmt", 0.0), ("gnmt", 0.7), ("gnmt", 3.0), ("average", 0.0)]
)
def test_best_reachable_bounds_every_extension(kind: str, alpha: float) -> None:
    penalty, rng = LengthPenalty(kind, alpha), random.Random(0)
    for _ in range(500):
        length, max_len = rng.randint(1, 9), 10
        log_prob = -rng.expovariate(0.5)
        bound = penalty.best_reachable(log_prob, max_len)
        for longer in range(length + 1, max_len + 1):
            extended = log_prob - sum(rng.expovariate(2.0) for _ in range(longer - length))
            assert penalty.score(extended, longer) <= bound
        assert bound == penalty.score(log_prob, max_len)  # reached by adding log-prob 0


def test_best_reachable_of_a_positive_score_is_unbounded() -> None:
    assert LengthPenalty("gnmt", 0.6).best_reachable(0.5, 10) == math.inf
    assert LengthPenalty("average").best_reachable(-math.inf, 10) == -math.inf


@pytest.mark.parametrize(
    ("kind", "alpha", "message"),
    [("length", 0.0, "length_penalty must be one of"), ("gnmt", -0.1, "alpha must be"),
     ("gnmt", math.nan, "alpha must be")],
)
def test_invalid_options_raise_with_the_value(kind: str, alpha: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LengthPenalty(kind, alpha)


def test_divisor_of_an_empty_hypothesis_is_an_error() -> None:
    with pytest.raises(ValueError, match="length must be positive, got 0"):
        LengthPenalty().divisor(0)
