"""Pictures of word vectors, written as PNG with matplotlib's Agg backend: a heatmap of raw
vectors (words x dimensions), and labelled 2-D scatters by PCA or t-SNE.

matplotlib and scikit-learn are optional (`pip install seqnlp[plots]`) and imported here
only when a picture is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seqnlp.embeddings.projection import pca_2d, require, select_words, tsne_2d
from seqnlp.fileio import PathLike, atomic_write
from seqnlp.word2vec.keyedvectors import KeyedVectors
from seqnlp.errors import one_of

KINDS = ("heatmap", "pca", "tsne")


def _pyplot() -> Any:
    matplotlib = require("matplotlib")
    matplotlib.use("Agg", force=True)  # files only: never open a window
    return require("matplotlib.pyplot")


def _save(figure: Any, path: PathLike) -> Path:
    with atomic_write(path, "wb") as out:
        figure.savefig(out, format="png", dpi=120, bbox_inches="tight")
    _pyplot().close(figure)
    return Path(path)


def plot_heatmap(
    kv: KeyedVectors,
    path: PathLike,
    words: Sequence[str] | None = None,
    top: int | None = None,
    title: str | None = None,
) -> Path:
    """Draw the raw vectors of some words as a heatmap: words as rows, dimensions as columns.

    The colormap is diverging and centred at 0 (blue negative, red positive), symmetric
    around the largest magnitude, with a colorbar.

    Args:
        kv: the word vectors.
        path: the PNG to write (atomically).
        words: the words (rows), in order; or
        top: the first `top` words of the vocabulary.
        title: optional title.

    Returns:
        The path written.
    """
    plt = _pyplot()
    chosen, vectors = select_words(kv, words, top)
    limit = float(np.abs(vectors).max()) or 1.0
    width = min(16.0, 2.5 + 0.12 * vectors.shape[1])
    height = min(24.0, 1.2 + 0.3 * len(chosen))
    figure, axes = plt.subplots(figsize=(width, height))
    image = axes.imshow(vectors, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto",
                        interpolation="nearest")
    axes.set_yticks(range(len(chosen)), labels=chosen)
    axes.set_xlabel(f"dimension (0-{vectors.shape[1] - 1})")
    axes.set_title(title or f"word vectors ({len(chosen)} words x {vectors.shape[1]} dims)")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.02)
    return _save(figure, path)


def plot_projection(
    kv: KeyedVectors,
    path: PathLike,
    kind: str = "pca",
    words: Sequence[str] | None = None,
    top: int | None = None,
    title: str | None = None,
    seed: int = 0,
) -> Path:
    """Draw chosen words as labelled points after a 2-D PCA or t-SNE projection.

    Args:
        kv: the word vectors.
        path: the PNG to write (atomically).
        kind: "pca" or "tsne" (t-SNE on cosine distance, perplexity adapted to the word
            count, seeded by `seed`).
        words: the words to show; or
        top: the first `top` words of the vocabulary.
        title: optional title.

    Returns:
        The path written.
    """
    if kind not in ("pca", "tsne"):
        raise ValueError(f"kind must be 'pca' or 'tsne', got {kind!r}")
    plt = _pyplot()
    chosen, vectors = select_words(kv, words, top)
    points = pca_2d(vectors) if kind == "pca" else tsne_2d(vectors, seed=seed)  # (N, 2)
    size = 6.0 if len(chosen) <= 60 else 10.0
    figure, axes = plt.subplots(figsize=(size, size))
    axes.scatter(points[:, 0], points[:, 1], s=12, color="tab:blue", alpha=0.7)
    for word, (x, y) in zip(chosen, points):
        axes.annotate(word, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=8)
    axes.set_title(title or f"{'PCA' if kind == 'pca' else 't-SNE'} of {len(chosen)} words")
    axes.set_xticks([])
    axes.set_yticks([])
    return _save(figure, path)


def plot_vectors(
    kv: KeyedVectors,
    path: PathLike,
    kind: str,
    words: Sequence[str] | None = None,
    top: int | None = None,
    seed: int = 0,
) -> Path:
    """Draw a picture of `kind` "heatmap", "pca" or "tsne" (see the functions above)."""
    if kind == "heatmap":
        return plot_heatmap(kv, path, words=words, top=top)
    if kind in ("pca", "tsne"):
        return plot_projection(kv, path, kind=kind, words=words, top=top, seed=seed)
    raise ValueError(f"kind must be one of {one_of(KINDS)}, got {kind!r}")
