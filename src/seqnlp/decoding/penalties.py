"""Length normalisation of beam-search scores (Wu et al., 2016, "Google's Neural Machine
Translation System", section 7).

Every token adds a negative log-probability, so the raw score favours short hypotheses.
Beam search ranks finished hypotheses by ``log P(Y) / lp(Y)`` instead, with
``lp(Y) = ((5 + |Y|) / 6) ** alpha`` (GNMT; alpha = 0 leaves the raw log-probability) or
``lp(Y) = |Y|`` (the average log-probability per token). ``|Y|`` counts the generated
tokens, the end token included and the begin token excluded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from seqnlp.errors import one_of

LENGTH_PENALTIES = ("gnmt", "average", "none")


@dataclass(frozen=True)
class LengthPenalty:
    """A length normalisation: ``score = log_prob / divisor(length)``.

    Args:
        kind: ``"gnmt"`` divides by ``((5 + length) / 6) ** alpha``; ``"average"`` divides
            by ``length``; ``"none"`` keeps the raw log-probability.
        alpha: the GNMT exponent, >= 0 (0 gives the raw log-probability; GNMT used 0.2-0.6).
            The other kinds ignore it.
    """

    kind: str = "gnmt"
    alpha: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in LENGTH_PENALTIES:
            raise ValueError(f"length_penalty must be one of {one_of(LENGTH_PENALTIES)}, got {self.kind!r}")
        if not (math.isfinite(self.alpha) and self.alpha >= 0):
            raise ValueError(f"alpha must be a finite number >= 0, got {self.alpha}")

    def divisor(self, length: int) -> float:
        """The normaliser lp(Y) of a hypothesis of `length` tokens (>= 1); never below 1."""
        if length < 1:
            raise ValueError(f"length must be positive, got {length}")
        if self.kind == "gnmt":
            return ((5.0 + length) / 6.0) ** self.alpha
        if self.kind == "average":
            return float(length)
        return 1.0

    def score(self, log_prob: float, length: int) -> float:
        """The normalised score of a hypothesis with total `log_prob` and `length` tokens."""
        return log_prob / self.divisor(length)

    def best_reachable(self, log_prob: float, max_len: int) -> float:
        """An upper bound on the score of any hypothesis that extends an alive prefix.

        Extending a prefix adds log-probabilities <= 0, so its total stays <= `log_prob`,
        and the divisor grows with the length; for ``log_prob <= 0`` the best possible
        score is therefore ``log_prob / divisor(max_len)``. A positive `log_prob` (a step
        that returns scores rather than log-probabilities) has no bound: +inf.

        Args:
            log_prob: the raw log-probability of the alive prefix.
            max_len: the longest hypothesis the search may produce.

        Returns:
            The bound, a float (-inf for a dead prefix).
        """
        if log_prob > 0:
            return math.inf
        return log_prob / self.divisor(max_len)
