"""Word2vec (Mikolov et al., 2013) in NumPy and Numba, and word vectors with gensim's query API.

`KeyedVectors` and the file formats need NumPy only; `Word2Vec` (the trainer, Numba
kernels) is imported on first use, so `import seqnlp.word2vec` loads neither Numba nor torch.
"""

from __future__ import annotations

from typing import Any

from seqnlp.word2vec.keyedvectors import KeyedVectors, OutOfVocabularyError, load_vectors

__all__ = ["KeyedVectors", "OutOfVocabularyError", "Word2Vec", "load_vectors"]


def __getattr__(name: str) -> Any:
    if name == "Word2Vec":
        from seqnlp.word2vec.model import Word2Vec

        return Word2Vec
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
