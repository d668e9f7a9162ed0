"""The options of a word2vec run (Mikolov et al., 2013), as one frozen, validated dataclass.

Names and defaults follow gensim's `Word2Vec` where it has the option (`vector_size`,
`window`, `min_count`, `max_vocab_size`, `sample`, `negative`, `ns_exponent`, `alpha`,
`min_alpha`, `epochs`, `workers`, `seed`, `cbow_mean`); choices are strings.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any

ARCHITECTURES = ("skipgram", "cbow")
LOSSES = ("negative", "hierarchical")
DEFAULT_ALPHA = {"skipgram": 0.025, "cbow": 0.05}  # word2vec.c's defaults


@dataclass(frozen=True)
class Word2VecConfig:
    """Everything that decides a word2vec run; saved beside the vectors it produced.

    Attributes:
        architecture: "skipgram" (context word predicts the centre word) or "cbow"
            (the mean or sum of the context words predicts the centre word).
        loss: "negative" (negative sampling) or "hierarchical" (Huffman-tree
            hierarchical softmax, as in the original C tool).
        vector_size: E, the dimension of the word vectors.
        window: the largest distance between the centre word and a context word; each
            centre word draws its own window uniformly from 1..window.
        min_count: words seen fewer times are dropped from the vocabulary.
        max_vocab_size: while counting, whenever more distinct words than this are held,
            the rarest are pruned (the C tool's ReduceVocab); None never prunes.
        sample: subsampling threshold t; a word of frequency f is kept with probability
            (sqrt(f / t) + 1) * t / f. 0 disables subsampling.
        negative: number of noise words per prediction (loss="negative").
        ns_exponent: the noise distribution is the unigram distribution to this power.
        alpha: the initial learning rate; None picks the C tool's default, 0.025 for
            skip-gram and 0.05 for CBOW (gensim uses 0.025 for both).
        min_alpha: the learning rate reached, linearly, at the end of the last epoch.
        epochs: passes over the corpus.
        workers: training threads. 1 with a fixed seed is bit-for-bit reproducible;
            more threads update the shared matrices without locks (Hogwild), so the
            result varies from run to run.
        seed: seeds the initial vectors and every random draw of training.
        cbow_mean: CBOW averages the context vectors (True) or sums them (False).
        max_sentence_length: longer sentences (a text8-style single line) are cut into
            pieces of this many words; no word is dropped.
        chunk_words: about how many words one kernel call (one job of a worker) trains on.
    """

    architecture: str = "skipgram"
    loss: str = "negative"
    vector_size: int = 100
    window: int = 5
    min_count: int = 5
    max_vocab_size: int | None = None
    sample: float = 1e-3
    negative: int = 5
    ns_exponent: float = 0.75
    alpha: float | None = None
    min_alpha: float = 0.0001
    epochs: int = 5
    workers: int = 2
    seed: int = 1
    cbow_mean: bool = True
    max_sentence_length: int = 10_000
    chunk_words: int = 100_000

    def __post_init__(self) -> None:
        _check_choice("architecture", self.architecture, ARCHITECTURES)
        if self.alpha is None:  # resolved here, so that a saved config holds the number
            object.__setattr__(self, "alpha", DEFAULT_ALPHA[self.architecture])
        _check_choice("loss", self.loss, LOSSES)
        for name in ("vector_size", "window", "min_count", "epochs", "workers",
                     "max_sentence_length", "chunk_words"):
            _check_int(name, getattr(self, name), minimum=1)
        if self.max_vocab_size is not None:
            _check_int("max_vocab_size", self.max_vocab_size, minimum=1)
        _check_int("negative", self.negative, minimum=1 if self.loss == "negative" else 0)
        _check_int("seed", self.seed, minimum=0)
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"seed must be in [0, 2**63), got {self.seed}")
        if not isinstance(self.cbow_mean, bool):
            raise ValueError(f"cbow_mean must be a bool, got {self.cbow_mean!r}")
        _check_float("sample", self.sample, minimum=0.0)
        _check_float("ns_exponent", self.ns_exponent)
        _check_float("alpha", self.alpha, minimum=0.0)
        if self.alpha == 0:
            raise ValueError(f"alpha must be positive, got {self.alpha}")
        _check_float("min_alpha", self.min_alpha, minimum=0.0)
        if self.min_alpha > self.alpha:
            raise ValueError(
                f"min_alpha must not exceed alpha ({self.alpha}), got {self.min_alpha}"
            )

    def to_dict(self) -> dict[str, Any]:
        """The options as a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Word2VecConfig:
        """Rebuild a config saved with `to_dict`; unknown keys raise ValueError."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown Word2VecConfig options: {', '.join(unknown)}")
        return cls(**data)


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _check_float(name: str, value: object, minimum: float | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
