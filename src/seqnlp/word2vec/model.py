"""Word2Vec: the training driver around the Numba kernels (Mikolov et al., 2013).

The driver owns what the kernels do not: the vocabulary pass, the initial vectors, saving
and loading; a `train` call hands the epochs (threads, learning-rate decay, progress, epoch
reports) to `epochs.TrainingRun`. Sentences are streamed in chunks of int32 indices
(`corpus.encode_chunks`); the first epoch spills them to a temporary file so that later
epochs skip the text.
"""

from __future__ import annotations

import ctypes
import gc
import json
import logging
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from seqnlp.errors import SeqnlpError
from seqnlp.fileio import PathLike, atomic_write
from seqnlp.word2vec.config import Word2VecConfig
from seqnlp.word2vec.corpus import ChunkCache, as_sentences
from seqnlp.word2vec.epochs import EpochReport, TrainingRun
from seqnlp.word2vec.vocab import Word2VecVocab, count_words

if TYPE_CHECKING:
    from seqnlp.word2vec.keyedvectors import KeyedVectors

__all__ = ["FORMAT_VERSION", "EpochReport", "Word2Vec"]

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1


class Word2Vec:
    """Skip-gram or CBOW word vectors, with negative sampling or hierarchical softmax.

    Example:
        >>> model = Word2Vec(architecture="cbow", vector_size=100, workers=2)
        >>> model.train("corpus.txt")           # or a list of token lists
        >>> model.wv.most_similar("king")

    Args:
        config: the options; or pass them as keywords (`Word2VecConfig` fields).

    Attributes:
        config: the `Word2VecConfig`.
        vocab: the `Word2VecVocab`, set by `build_vocab` (or the first `train`).
        w_in: (V, E) float32 word vectors, the ones `wv` serves.
        w_out: (V, E) float32 output vectors (negative sampling: one per word;
            hierarchical softmax: row p is inner node p of the Huffman tree, the last row
            unused).
        history: an `EpochReport` per epoch trained so far.
    """

    def __init__(self, config: Word2VecConfig | None = None, **options: Any) -> None:
        if config is not None and options:
            raise ValueError("pass either a Word2VecConfig or keyword options, not both")
        self.config = config if config is not None else Word2VecConfig(**options)
        self.vocab: Word2VecVocab | None = None
        self.w_in: np.ndarray | None = None
        self.w_out: np.ndarray | None = None
        self.history: list[EpochReport] = []

    def build_vocab(self, corpus: PathLike | Iterable[list[str]]) -> Word2VecVocab:
        """Count the corpus, keep the words seen `min_count` times, initialise the vectors.

        `w_in` is drawn uniformly from [-0.5/E, 0.5/E) (seeded) and `w_out` starts at zero,
        as in the C tool.

        Raises:
            SeqnlpError: when no word reaches `min_count`, or for a one-shot iterator.
        """
        cfg = self.config
        source = as_sentences(corpus, cfg.max_sentence_length)
        _prepare_kernel(cfg)
        _pin_mmap_threshold()
        found = count_words(source, cfg.max_vocab_size)
        vocab = Word2VecVocab.from_counts(found, cfg.min_count)
        if len(vocab) == 0:
            raise SeqnlpError(
                f"no word occurs min_count={cfg.min_count} times in the corpus "
                f"({found.total_words} tokens); lower min_count"
            )
        logger.info("vocabulary: %d words of %d distinct, %d tokens, %d sentences",
                    len(vocab), len(found.counts), found.total_words, found.num_sentences)
        del found
        _return_free_memory()  # the raw counts go before the matrices come
        rng = np.random.default_rng(cfg.seed)
        self.w_in = rng.random((len(vocab), cfg.vector_size), dtype=np.float32)
        self.w_in -= 0.5
        self.w_in /= cfg.vector_size
        self.w_out = np.zeros((len(vocab), cfg.vector_size), dtype=np.float32)
        self.vocab = vocab
        return vocab

    def train(
        self,
        corpus: PathLike | Iterable[list[str]],
        *,
        progress: bool | None = None,
        cache: bool = True,
        cache_dir: PathLike | None = None,
        on_epoch: Callable[[EpochReport], None] | None = None,
    ) -> list[EpochReport]:
        """Train for `config.epochs` epochs, building the vocabulary first if needed.

        The learning rate falls linearly from `alpha` to `min_alpha` over all epochs of
        this call. A second call trains further with the same schedule.

        Args:
            corpus: a path to a one-sentence-per-line file, or a restartable iterable of
                token lists (a generator is refused: it cannot be read twice).
            progress: show a tqdm bar; None shows it only when stderr is a terminal.
            cache: spill the first epoch's encoded chunks (int32, about 4 bytes per word)
                to a temporary file that the next epochs read instead of the text; False
                reads and encodes the corpus again in every epoch.
            cache_dir: where the spill file goes; None uses the system temporary folder.
            on_epoch: called with each epoch's report as soon as the epoch ends.

        Returns:
            The reports of the epochs of this call (also appended to `history`).
        """
        source = as_sentences(corpus, self.config.max_sentence_length)
        if self.vocab is None:
            self.build_vocab(source)
        if progress is None:
            progress = sys.stderr.isatty()
        spill = ChunkCache(cache_dir) if cache and self.config.epochs > 1 else None
        try:
            reports = TrainingRun(self, source, spill, progress, on_epoch).run()
        finally:
            if spill is not None:
                spill.close()
        self.history.extend(reports)
        return reports

    @property
    def wv(self) -> KeyedVectors:
        """The trained word vectors (`w_in`, shared, not copied) as `KeyedVectors`."""
        from seqnlp.word2vec.keyedvectors import KeyedVectors

        self._require_vocab()
        return KeyedVectors(self.w_in, self.vocab.index_to_key, counts=self.vocab.counts)

    def save(self, path: PathLike) -> None:
        """Save config, vocabulary and both matrices to one `.npz` file (no pickle)."""
        self._require_vocab()
        meta = {"format_version": FORMAT_VERSION, "config": self.config.to_dict(),
                "vocab": self.vocab.to_dict()}
        with atomic_write(path) as handle:
            np.savez(handle, meta=np.array(json.dumps(meta)), w_in=self.w_in, w_out=self.w_out)

    @classmethod
    def load(cls, path: PathLike) -> Word2Vec:
        """Load a model written by `save`; the config comes from the file.

        Raises:
            DataFormatError: the file is damaged or not a model (see
                `seqnlp.word2vec.modelfile.read_model_file`).
        """
        from seqnlp.word2vec.modelfile import read_model_file

        config, vocab, w_in, w_out = read_model_file(path, FORMAT_VERSION)
        model = cls(config)
        model.vocab, model.w_in, model.w_out = vocab, w_in, w_out
        return model

    def _require_vocab(self) -> None:
        if self.vocab is None or self.w_in is None:
            raise SeqnlpError("the model has no vocabulary yet; call build_vocab or train")

    def __repr__(self) -> str:
        size = "untrained" if self.vocab is None else f"vocab={len(self.vocab)}"
        cfg = self.config
        return (f"Word2Vec({cfg.architecture}, {cfg.loss}, vector_size={cfg.vector_size}, "
                f"window={cfg.window}, {size})")



def _prepare_kernel(cfg: Word2VecConfig) -> None:
    """Load the run's kernel before the corpus is read: see `jit.load_kernel`."""
    from seqnlp.word2vec.jit import load_kernel

    load_kernel(cfg.architecture, cfg.loss)


def _return_free_memory() -> None:
    """Collect garbage and let glibc hand freed heap pages back to the OS (best effort)."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


_M_MMAP_THRESHOLD = -3  # glibc mallopt parameter


def _pin_mmap_threshold() -> None:
    """Keep glibc from raising its mmap threshold while the corpus streams (best effort).

    glibc raises the threshold above which `malloc` uses a fresh mapping each time such a
    block is freed, so after the first 1 MiB read block or chunk array every later one is
    carved from the heap, whose fragments are never returned: about 13 MB of resident
    memory on IMDB. Pinning the threshold at its default (128 KiB) keeps big buffers in
    their own mappings, returned to the OS on free. This is process-wide, like setting
    MALLOC_MMAP_THRESHOLD_=131072, and only costs a map/unmap per large buffer.
    """
    try:
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):  # not glibc
        pass

