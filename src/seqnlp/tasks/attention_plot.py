"""Pictures of attention (Bahdanau et al., 2015, figure 3; Xu et al., 2015 for images): a
labelled heatmap of a translation's attention matrix, and the show-attend-tell strip of an
image with the attention over its columns at each generated word.

matplotlib is optional (`pip install seqnlp[plots]`) and imported only when drawing; the
PNG is written atomically with the Agg backend (never a window).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seqnlp.errors import SeqnlpError
from seqnlp.fileio import PathLike, atomic_write

MAX_LABELS = 80  # tokens drawn per axis; longer sentences are cut


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise SeqnlpError("drawing needs matplotlib: pip install 'seqnlp[plots]' "
                          "(or pip install matplotlib)") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, path: PathLike) -> Path:
    plt = _pyplot()
    with atomic_write(path, "wb") as out:
        figure.savefig(out, format="png", dpi=120, bbox_inches="tight")
    plt.close(figure)
    return Path(path)


def plot_attention(weights: np.ndarray, source: Sequence[str], target: Sequence[str],
                   path: PathLike, title: str | None = None) -> Path:
    """Draw an attention matrix: generated tokens as rows, source tokens as columns.

    Args:
        weights: (T, S) attention weights, row t over the source at output step t.
        source: the S source tokens (column labels).
        target: the T output tokens (row labels; the last is usually `</s>`).
        path: the PNG to write.
        title: optional title.

    Returns:
        The path written.
    """
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (len(target), len(source)):
        raise ValueError(f"weights have shape {weights.shape}, expected "
                         f"({len(target)}, {len(source)}) for the labels")
    rows, cols = min(len(target), MAX_LABELS), min(len(source), MAX_LABELS)
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(min(20.0, 1.5 + 0.42 * cols),
                                         min(20.0, 1.2 + 0.36 * rows)))
    image = axes.imshow(weights[:rows, :cols], cmap="Greys", vmin=0.0, vmax=1.0,
                        aspect="auto", interpolation="nearest")
    axes.set_xticks(range(cols), labels=list(source[:cols]), rotation=60, ha="right")
    axes.set_yticks(range(rows), labels=list(target[:rows]))
    axes.set_xlabel("source")
    axes.set_ylabel("output")
    axes.set_title(title or "attention weights")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.02)
    return _save(figure, path)


def plot_image_attention(image: np.ndarray, weights: np.ndarray, words: Sequence[str],
                         path: PathLike, title: str | None = None) -> Path:
    """Show, attend and tell: the image, then one panel per generated word with the
    attention over the image's columns drawn as a shade over the image.

    Args:
        image: (H, W) grey image.
        weights: (T, C) attention over C feature columns, each covering W / C pixels.
        words: the T generated words (the last may be `</s>`).
        path: the PNG to write.
        title: optional title (default: the caption).

    Returns:
        The path written.
    """
    image = np.asarray(image, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if weights.shape[0] != len(words):
        raise ValueError(f"{weights.shape[0]} attention rows for {len(words)} words")
    plt = _pyplot()
    panels = len(words) + 1
    width = image.shape[1] / image.shape[0]
    figure, axes = plt.subplots(panels, 1, figsize=(1.2 + 1.1 * width, 1.1 * panels))
    axes = np.atleast_1d(axes)
    axes[0].imshow(image, cmap="gray_r", interpolation="nearest")
    axes[0].set_title(title or " ".join(w for w in words if w != "</s>"))
    for axis, word, row in zip(axes[1:], words, weights):
        shade = np.repeat(row, int(np.ceil(image.shape[1] / len(row))))[: image.shape[1]]
        axis.imshow(image, cmap="gray_r", interpolation="nearest")
        axis.imshow(np.broadcast_to(shade, image.shape), cmap="Reds", alpha=0.55,
                    vmin=0.0, vmax=max(float(row.max()), 1e-9), interpolation="nearest")
        axis.set_ylabel(word, rotation=0, ha="right", va="center")
    for axis in axes:
        axis.set_xticks([])
        axis.set_yticks([])
    return _save(figure, path)
