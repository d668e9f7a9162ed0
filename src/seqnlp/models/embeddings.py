"""Pretrained word vectors as an embedding table: a word2vec-format file's vectors laid out
in a model's vocabulary order, with a report of the words it does not cover.

Any model with an `nn.Embedding` takes the matrix; the vectors come in as any object with
`index_to_key` and `vectors` (a `seqnlp.word2vec.KeyedVectors`, or gensim's), so `models`
never imports `word2vec`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


class WordVectors(Protocol):
    """What `pretrained_matrix` reads: a `KeyedVectors` or anything shaped like it."""

    index_to_key: Sequence[str]
    vectors: np.ndarray


@dataclass(frozen=True)
class Coverage:
    """How much of a vocabulary pretrained vectors cover.

    Attributes:
        found: non-special words that took a pretrained vector.
        words: non-special words in the vocabulary.
        missing: up to 20 of the most frequent words without one (vocabulary order).
    """

    found: int
    words: int
    missing: tuple[str, ...]

    @property
    def rate(self) -> float:
        """found / words (0 for a vocabulary of specials only)."""
        return self.found / self.words if self.words else 0.0


def copy_into_embedding(embedding: Any, matrix: Any) -> None:
    """Copy pretrained vectors (V, E), rows aligned with the vocabulary, into an
    `nn.Embedding` (or any module with a `weight` of that shape), in place.

    Raises:
        ValueError: the matrix's shape is not the table's.
    """
    import torch

    weight = torch.as_tensor(np.asarray(matrix), dtype=embedding.weight.dtype)
    if weight.shape != embedding.weight.shape:
        raise ValueError(f"embedding matrix has shape {tuple(weight.shape)}, expected "
                         f"{tuple(embedding.weight.shape)}")
    with torch.no_grad():
        embedding.weight.copy_(weight)


def pretrained_matrix(
    itos: Sequence[str], vectors: WordVectors, specials: Sequence[str],
    pad_index: int | None = 0, seed: int = 0,
) -> tuple[np.ndarray, Coverage]:
    """An embedding table (V, E) for the words `itos` from pretrained vectors.

    A word takes its own vector, else that of its lower-cased form; a missing word (and a
    special token) gets a random vector drawn from N(0, s^2), s the standard deviation of
    the pretrained entries, so it is on the same scale; the padding row is zero.

    Args:
        itos: the vocabulary, index -> word.
        vectors: the pretrained vectors.
        specials: tokens that never take a pretrained vector (`<pad>`, `<unk>`, ...).
        pad_index: the row to zero (None: none).
        seed: the seed of the random rows.

    Returns:
        `(matrix float32 (V, E), coverage)`.

    Raises:
        ValueError: the vectors are not (N, E), or one holds NaN or infinity (it would
            make the random rows NaN too).
    """
    table = np.asarray(vectors.vectors, dtype=np.float32)
    if table.ndim != 2 or table.shape[0] != len(vectors.index_to_key):
        raise ValueError(f"vectors must be ({len(vectors.index_to_key)}, E), "
                         f"got {table.shape}")
    finite = np.isfinite(table).all(axis=1)
    if not finite.all():
        bad = int(np.argmin(finite))
        raise ValueError(f"the vector of {vectors.index_to_key[bad]!r} (row {bad + 1}) holds "
                         "NaN or infinity; pretrained vectors must be finite")
    index = {key: i for i, key in enumerate(vectors.index_to_key)}
    rng = np.random.default_rng(seed)
    scale = float(table.std()) or 1.0
    matrix = rng.normal(0.0, scale, (len(itos), table.shape[1])).astype(np.float32)
    special = set(specials)
    found, missing = 0, []
    for i, word in enumerate(itos):
        if word in special:
            continue
        row = index.get(word, index.get(word.lower()))
        if row is None:
            if len(missing) < 20:
                missing.append(word)
            continue
        matrix[i] = table[row]
        found += 1
    if pad_index is not None:
        matrix[pad_index] = 0.0
    words = sum(1 for word in itos if word not in special)
    return matrix, Coverage(found, words, tuple(missing))
