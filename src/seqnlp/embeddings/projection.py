"""2-D projections of word vectors for pictures: PCA (by SVD, NumPy only) and t-SNE
(van der Maaten & Hinton, 2008, via scikit-learn), plus the choice of which words to show.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType

import numpy as np

from seqnlp.errors import SeqnlpError
from seqnlp.word2vec.keyedvectors import KeyedVectors


class MissingDependencyError(SeqnlpError, ImportError):
    """An optional package is not installed; the message names the command that installs it."""


def require(module: str, extra: str = "plots") -> ModuleType:
    """Import an optional package, or raise MissingDependencyError naming the pip command."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(
            f"this needs the optional package {module.split('.')[0]!r}: "
            f"pip install seqnlp[{extra}]"
        ) from None


def select_words(
    kv: KeyedVectors, words: Sequence[str] | None = None, top: int | None = None
) -> tuple[list[str], np.ndarray]:
    """The words to draw and their raw vectors: the given `words`, or the first `top` words.

    Args:
        kv: the word vectors.
        words: words to show, in order (an unknown word raises OutOfVocabularyError).
        top: otherwise, the first `top` words of the vocabulary (the most frequent).

    Returns:
        `(words, vectors (N, E))`.
    """
    if (words is None) == (top is None):
        raise ValueError("give either words or top, not both or neither")
    if words is not None:
        chosen = list(dict.fromkeys(words))
    else:
        assert top is not None
        if top < 1:
            raise ValueError(f"top must be >= 1, got {top}")
        chosen = kv.index_to_key[:top]
    if not chosen:
        raise ValueError("no words to show")
    return chosen, np.vstack([kv.get_vector(word) for word in chosen])


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """Project rows onto their first two principal components.

    Shape:
        vectors (N, E) -> (N, 2). With fewer than 2 informative directions the missing
        coordinate is 0. The sign of each component is fixed so that its largest-magnitude
        loading is positive (a deterministic picture).
    """
    centred = np.asarray(vectors, dtype=np.float64)
    centred = centred - centred.mean(axis=0)  # (N, E)
    _, _, components = np.linalg.svd(centred, full_matrices=False)  # (min(N, E), E)
    components = components[:2]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    projected = centred @ (components * signs[:, None]).T  # (N, <=2)
    if projected.shape[1] < 2:
        projected = np.hstack([projected, np.zeros((len(projected), 2 - projected.shape[1]))])
    return projected


def tsne_perplexity(num_points: int, wanted: float = 30.0) -> float:
    """A t-SNE perplexity usable for `num_points` points: `wanted`, capped at (N - 1) / 3.

    scikit-learn needs perplexity < N; about a third of N keeps small sets from collapsing.
    """
    return float(max(1.0, min(wanted, (num_points - 1) / 3.0)))


def tsne_2d(vectors: np.ndarray, perplexity: float | None = None, seed: int = 0) -> np.ndarray:
    """Embed rows in 2-D with t-SNE on cosine distances (scikit-learn), seeded.

    Shape:
        vectors (N, E) -> (N, 2), N >= 3.

    Raises:
        MissingDependencyError: scikit-learn is not installed.
        ValueError: fewer than 3 points.
    """
    if len(vectors) < 3:
        raise ValueError(f"t-SNE needs at least 3 words, got {len(vectors)}")
    manifold = require("sklearn.manifold")
    model = manifold.TSNE(
        n_components=2,
        perplexity=perplexity or tsne_perplexity(len(vectors)),
        metric="cosine",
        init="pca",
        random_state=seed,
    )
    return model.fit_transform(np.asarray(vectors, dtype=np.float64))
