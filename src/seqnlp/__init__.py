"""seqnlp: word vectors and the networks that read text as a sequence or a tree.

Importing the package is cheap: torch, numba and matplotlib are imported only by the
subpackages that need them (``seqnlp.nn``, ``seqnlp.word2vec``, ``seqnlp.embeddings``...).
"""

from seqnlp.errors import DataFormatError, DatasetError, SeqnlpError

__version__ = "0.1.0"

__all__ = ["DataFormatError", "DatasetError", "SeqnlpError", "__version__"]
