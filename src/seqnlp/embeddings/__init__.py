"""Tools over any `KeyedVectors`: intrinsic evaluation (analogies, word-pair similarity),
2-D projections (PCA, t-SNE) and pictures. NumPy at import; scikit-learn and matplotlib
only when a function needs them.
"""

from seqnlp.embeddings.evaluate import (
    AnalogyResult,
    SectionScore,
    WordPairsResult,
    evaluate_analogies,
    evaluate_word_pairs,
)
from seqnlp.embeddings.plots import plot_heatmap, plot_projection, plot_vectors
from seqnlp.embeddings.projection import MissingDependencyError, pca_2d, select_words, tsne_2d

__all__ = [
    "AnalogyResult",
    "MissingDependencyError",
    "SectionScore",
    "WordPairsResult",
    "evaluate_analogies",
    "evaluate_word_pairs",
    "pca_2d",
    "plot_heatmap",
    "plot_projection",
    "plot_vectors",
    "select_words",
    "tsne_2d",
]
