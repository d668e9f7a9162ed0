"""seqnlp: word vectors and the networks that read text as a sequence or a tree.

Importing the package is cheap: torch, numba and matplotlib are imported only by the
subpackages that need them (``seqnlp.nn``, ``seqnlp.word2vec``, ``seqnlp.embeddings``...).
"""

from seqnlp.errors import DataFormatError, DatasetError, SeqnlpError

__version__ = "0.1.0"

__all__ = ["DataFormatError", "DatasetError", "SeqnlpError", "__version__", "segment"]


def segment(text: str, model: str | None = None, user_words: tuple[str, ...] = ()) -> list[str]:
    """The words of a Chinese text, by the shipped segmenter (or the tagger file `model`).

    Every character of `text` is kept; whitespace separates words and is dropped; a line
    break is whitespace too (use `seqnlp.tasks.segment.segment_lines` to keep lines apart).

        >>> seqnlp.segment("我爱北京天安门")
        ['我', '爱', '北京', '天安门']
    """
    from seqnlp.pretrained import default_segmenter
    from seqnlp.tasks.segment import segment_lines

    if model is None:
        loaded = default_segmenter()
    else:
        from seqnlp.models import load_model

        loaded = load_model(model, expect="tagger")
    return segment_lines(loaded, [text], user_words=user_words)[0]
