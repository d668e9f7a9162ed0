"""Word vectors with gensim's query API: cosine neighbours, 3CosAdd analogies (Mikolov et
al., 2013), 3CosMul (Levy & Goldberg, 2014), odd-one-out, and loading/saving in the word2vec
C formats or the native format. NumPy only.

Cosine similarity is computed on unit vectors, `get_normed_vectors()`, a (V, E) matrix cached
until `vectors` is assigned (after editing `vectors` in place, call `fill_norms(force=True)`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from typing import Union

import numpy as np

from seqnlp.errors import SeqnlpError
from seqnlp.fileio import PathLike
from seqnlp.word2vec import formats, native

logger = logging.getLogger(__name__)

# A query term: a word, a vector (E,), or either with an explicit weight.
Term = Union[str, np.ndarray, tuple[Union[str, np.ndarray], float]]


class OutOfVocabularyError(SeqnlpError, KeyError):
    """A word is not in the vocabulary. The message names the word."""

    def __init__(self, key: object, vocab_size: int) -> None:
        self.key = key
        super().__init__(f"word {key!r} is not in the vocabulary ({vocab_size} words)")

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0])


class KeyedVectors:
    """A (V, E) float32 matrix of word vectors with its words, queried by word.

    Args:
        vectors: (V, E) array; stored as float32 (no copy when it already is).
        index_to_key: the V words, row order; must be unique.
        counts: optional (V,) corpus frequencies, kept by the native format.

    Attributes:
        index_to_key: list of words; `key_to_index` its inverse.
        counts: (V,) int64 array or None.
    """

    def __init__(
        self,
        vectors: np.ndarray,
        index_to_key: Sequence[str],
        counts: Sequence[int] | np.ndarray | None = None,
    ) -> None:
        self.index_to_key = list(index_to_key)
        self.key_to_index = {key: i for i, key in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            raise ValueError("index_to_key has repeated words")
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        if self.counts is not None and self.counts.shape != (len(self.index_to_key),):
            raise ValueError(
                f"counts has shape {self.counts.shape}, expected ({len(self.index_to_key)},)"
            )
        self._normed: np.ndarray | None = None
        self.vectors = vectors

    # ------------------------------------------------------------------ storage

    @property
    def vectors(self) -> np.ndarray:
        """The (V, E) float32 matrix; assigning a new one clears the unit-norm cache."""
        return self._vectors

    @vectors.setter
    def vectors(self, value: np.ndarray) -> None:
        array = value if isinstance(value, np.memmap) else np.asarray(value)
        if array.dtype != np.float32:
            array = array.astype(np.float32)
        if array.ndim != 2 or array.shape[0] != len(self.index_to_key):
            raise ValueError(
                f"vectors must have shape ({len(self.index_to_key)}, E), got {array.shape}"
            )
        self._vectors = array
        self._normed = None

    @property
    def vector_size(self) -> int:
        """E, the number of dimensions."""
        return int(self._vectors.shape[1])

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key: object) -> bool:
        return key in self.key_to_index

    def __getitem__(self, key_or_keys: str | Iterable[str]) -> np.ndarray:
        """The vector of a word (E,), or a (N, E) stack for a list of words."""
        if isinstance(key_or_keys, str):
            return self.get_vector(key_or_keys)
        return np.vstack([self.get_vector(key) for key in key_or_keys])

    def __repr__(self) -> str:
        return f"KeyedVectors(words={len(self)}, vector_size={self.vector_size})"

    def get_index(self, key: str) -> int:
        """The row of `key`. Raises OutOfVocabularyError naming the word."""
        try:
            return self.key_to_index[key]
        except KeyError:
            raise OutOfVocabularyError(key, len(self)) from None

    def get_vector(self, key: str, norm: bool = False) -> np.ndarray:
        """The (E,) vector of `key` (unit length if `norm`), as a read-only view."""
        index = self.get_index(key)
        source = self.get_normed_vectors() if norm else self._vectors
        row = source[index].view()
        row.flags.writeable = False
        return row

    def fill_norms(self, force: bool = False) -> None:
        """Compute the unit-norm cache now (again if `force`, after in-place edits)."""
        if self._normed is None or force:
            norms = np.linalg.norm(self._vectors, axis=1, keepdims=True)  # (V, 1)
            normed = np.divide(
                self._vectors, norms, out=np.zeros(self._vectors.shape, np.float32),
                where=norms > 0,
            )  # a zero vector stays zero: similarity 0 to everything
            normed.flags.writeable = False
            self._normed = normed

    def get_normed_vectors(self) -> np.ndarray:
        """(V, E) rows scaled to unit L2 length (zero rows stay zero); cached, read-only."""
        self.fill_norms()
        assert self._normed is not None
        return self._normed

    # ------------------------------------------------------------------ queries

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words."""
        return float(np.dot(self.get_vector(w1, norm=True), self.get_vector(w2, norm=True)))

    def most_similar(
        self,
        positive: Term | Sequence[Term] | None = None,
        negative: Term | Sequence[Term] | None = None,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]] | np.ndarray:
        """The words closest in cosine to the weighted mean of the query terms (3CosAdd).

        Each word term contributes its unit vector with weight +1 (positive) or -1
        (negative), a vector term contributes itself unnormalised, and a `(term, weight)`
        pair sets the weight. The mean is normalised and compared with every unit vector;
        the query words are left out of the answer. `most_similar(positive=[b, c],
        negative=[a])` answers "a is to b as c is to ?".

        Args:
            positive: a word, a vector, or a list of either (or of `(term, weight)`).
            negative: likewise, subtracted.
            topn: how many neighbours; None returns the (V',) cosine of every word.
            restrict_vocab: only search the first N words (the most frequent ones when
                the vocabulary is sorted by frequency).

        Returns:
            `[(word, cosine), ...]`, best first; or the scores when `topn` is None.

        Raises:
            OutOfVocabularyError: a query word is unknown.
            ValueError: no query terms.
        """
        if topn is not None and topn < 1:
            return []
        terms = _weighted_terms(positive, 1.0) + _weighted_terms(negative, -1.0)
        mean = self._weighted_mean(terms)
        normed = self.get_normed_vectors()[:restrict_vocab]
        scores = normed @ mean  # (V',)
        if topn is None:
            return scores
        exclude = {self.key_to_index[t] for t, _ in terms if isinstance(t, str)}
        return self._ranked(scores, topn, exclude)

    def most_similar_cosmul(
        self,
        positive: Term | Sequence[Term] | None = None,
        negative: Term | Sequence[Term] | None = None,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]] | np.ndarray:
        """Words ranked by 3CosMul (Levy & Goldberg, 2014, eq. 4) over shifted cosines.

            score(x) = prod_p s(x, p) / (prod_n s(x, n) + 1e-6),  s = (1 + cos) / 2 in [0, 1]

        Words use unit vectors, vectors are used as given (as gensim does). With one
        positive word the ranking equals `most_similar`'s.

        Args:
            positive: words or vectors in the numerator (a single one is accepted).
            negative: words or vectors in the denominator.
            topn: how many; None returns every word's score.
            restrict_vocab: only rank the first N words.

        Returns:
            `[(word, score), ...]`, best first; or the scores when `topn` is None.
        """
        if topn is not None and topn < 1:
            return []
        pos = _weighted_terms(positive, 1.0)
        neg = _weighted_terms(negative, -1.0)
        if not pos:
            raise ValueError("cannot compute similarity with no positive input")
        normed = self.get_normed_vectors()[:restrict_vocab]

        def shifted(term: str | np.ndarray) -> np.ndarray:
            target = self.get_vector(term, norm=True) if isinstance(term, str) else term
            return (1.0 + normed @ np.asarray(target, dtype=np.float32)) / 2.0  # (V',)

        numerator = np.prod([shifted(t) for t, _ in pos], axis=0)
        denominator = np.prod([shifted(t) for t, _ in neg], axis=0) if neg else 1.0
        scores = numerator / (denominator + 1e-6)
        if topn is None:
            return scores
        exclude = {self.key_to_index[t] for t, _ in pos + neg if isinstance(t, str)}
        return self._ranked(scores, topn, exclude)

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word farthest (in cosine) from the normalised mean of the words' unit vectors."""
        if not words:
            raise ValueError("cannot select a word from an empty list")
        rows = np.vstack([self.get_vector(word, norm=True) for word in words])  # (N, E)
        mean = _unit(rows.mean(axis=0))
        return words[int(np.argmin(rows @ mean))]

    def _weighted_mean(self, terms: list[tuple[str | np.ndarray, float]]) -> np.ndarray:
        if not terms:
            raise ValueError("cannot compute similarity with no input")
        mean = np.zeros(self.vector_size, np.float32)
        for term, weight in terms:
            vector = self.get_vector(term, norm=True) if isinstance(term, str) else term
            mean += weight * np.asarray(vector, dtype=np.float32)
        mean /= sum(abs(weight) for _, weight in terms)
        return _unit(mean)

    def _ranked(self, scores: np.ndarray, topn: int, exclude: set[int]) -> list[tuple[str, float]]:
        best = top_indices(scores, topn + len(exclude))
        ranked = [(self.index_to_key[i], float(scores[i])) for i in best if i not in exclude]
        return ranked[:topn]

    # ------------------------------------------------------------------ files

    def save_word2vec_format(self, path: PathLike, binary: bool = False) -> None:
        """Write the word2vec C text (or binary) format, atomically; readable by gensim."""
        formats.write_word2vec(path, self._vectors, self.index_to_key, binary=binary)

    @classmethod
    def load_word2vec_format(
        cls,
        path: PathLike,
        binary: bool | None = None,
        limit: int | None = None,
        unicode_errors: str = "strict",
    ) -> KeyedVectors:
        """Read a word2vec C text or binary file (format detected when `binary` is None).

        See `seqnlp.word2vec.formats.read_word2vec` for the arguments and errors.
        """
        vectors, keys = formats.read_word2vec(path, binary, limit, unicode_errors)
        return cls(vectors, keys)

    def save(self, path: PathLike) -> None:
        """Save in the native format: a directory with `vectors.npy` and `vocab.json`."""
        native.save_native(path, self._vectors, self.index_to_key, self.counts)

    @classmethod
    def load(cls, path: PathLike, mmap: bool = False) -> KeyedVectors:
        """Load a native-format directory; `mmap` maps the matrix read-only, reading nothing."""
        vectors, keys, counts = native.load_native(path, mmap=mmap)
        return cls(vectors, keys, counts)


def load_vectors(
    path: PathLike, limit: int | None = None, unicode_errors: str = "strict"
) -> KeyedVectors:
    """Load word vectors from any supported file: a native directory or a word2vec file.

    Args:
        path: a directory saved by `KeyedVectors.save`, or a word2vec text or binary file
            (detected), optionally `.gz`/`.xz`.
        limit: for word2vec files, read only the first `limit` words; for native
            directories, keep only the first `limit` rows.
        unicode_errors: as in `KeyedVectors.load_word2vec_format`.
    """
    if os.path.isdir(path):  # native, or refused with the reason (no vocab.json, unreadable)
        kv = KeyedVectors.load(path)
        if limit is not None and limit < len(kv):
            counts = None if kv.counts is None else kv.counts[:limit]
            kv = KeyedVectors(kv.vectors[:limit], kv.index_to_key[:limit], counts)
        return kv
    return KeyedVectors.load_word2vec_format(path, limit=limit, unicode_errors=unicode_errors)


def top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` largest scores, largest first (ties: lower index first)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k < len(scores):
        candidates = np.sort(np.argpartition(-scores, k - 1)[:k])
    else:
        candidates = np.arange(len(scores))
    return candidates[np.argsort(-scores[candidates], kind="stable")]


def _weighted_terms(
    terms: Term | Sequence[Term] | None, default_weight: float
) -> list[tuple[str | np.ndarray, float]]:
    """Normalise a query argument to `[(word_or_vector, weight), ...]` (as gensim accepts it)."""
    if terms is None:
        return []
    if isinstance(terms, str) or (isinstance(terms, np.ndarray) and terms.ndim == 1):
        terms = [terms]
    elif isinstance(terms, np.ndarray):
        terms = list(terms)
    result: list[tuple[str | np.ndarray, float]] = []
    for term in terms:
        if isinstance(term, tuple):
            result.append((term[0], float(term[1])))
        else:
            result.append((term, default_weight))
    return result


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vector)
    return (vector / norm).astype(np.float32) if norm > 0 else vector.astype(np.float32)
