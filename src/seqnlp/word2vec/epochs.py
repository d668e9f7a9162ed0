"""Word2Vec's epochs (Mikolov et al., 2013): one `train` call run by a producer thread and
worker threads, with the linear learning-rate decay, per-chunk seeds, the progress bar and
a report per epoch.

Threads: a producer thread encodes chunks into a bounded queue and `workers` threads each
run a kernel on one chunk at a time with the GIL released, writing the shared matrices
without locks (Hogwild, as the C tool and gensim do). Every chunk's learning rates and
random seed depend only on its position in the run, so `workers=1` is bit-for-bit
reproducible; with more threads the order in which updates interleave varies, and so do
the vectors (slightly) from run to run.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from seqnlp.word2vec.config import Word2VecConfig
from seqnlp.word2vec.corpus import Chunk, ChunkCache, encode_chunks
from seqnlp.word2vec.vocab import (
    Word2VecVocab,
    alias_table,
    huffman_tree,
    noise_distribution,
    subsample_thresholds,
)

if TYPE_CHECKING:
    from seqnlp.word2vec.model import Word2Vec

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EpochReport:
    """What one epoch did.

    Attributes:
        epoch: 1-based.
        loss: float64 sum of -log P over every scored (input, output) pair.
        predictions: scored pairs (negative sampling: one per output word; hierarchical
            softmax: one per inner node).
        words: corpus tokens covered, out-of-vocabulary ones included.
        trained_words: in-vocabulary tokens kept by subsampling.
        seconds: wall time of the epoch.
    """

    epoch: int
    loss: float
    predictions: int
    words: int
    trained_words: int
    seconds: float

    @property
    def mean_loss(self) -> float:
        """Loss per scored pair."""
        return self.loss / max(self.predictions, 1)

    @property
    def words_per_sec(self) -> float:
        """Corpus tokens (`words`) per second of wall time."""
        return self.words / max(self.seconds, 1e-9)


@dataclass(frozen=True)
class _Job:
    epoch: int
    chunk: Chunk
    alpha_start: float
    alpha_end: float
    seed: int



class TrainingRun:
    """One call of `Word2Vec.train`: a producer thread, worker threads, and the bookkeeping.

    `run()` trains `model.w_in` and `model.w_out` in place for `model.config.epochs` epochs
    and returns their `EpochReport`s (numbered after `model.history`).
    """

    def __init__(self, model: Word2Vec, source: Iterable[list[str]], cache: ChunkCache | None,
                 progress: bool, on_epoch: Callable[[EpochReport], None] | None = None) -> None:
        assert model.vocab is not None and model.w_in is not None and model.w_out is not None
        self.model, self.source, self.cache, self.progress = model, source, cache, progress
        self.on_epoch = on_epoch
        self.cfg = model.config
        self.vocab = model.vocab
        self.train_chunk = _chunk_trainer(self.cfg, self.vocab)
        self.jobs: queue.Queue[_Job | None] = queue.Queue(maxsize=2 * self.cfg.workers)
        self.results: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.stop = threading.Event()

    def run(self) -> list[EpochReport]:
        self.started = time.perf_counter()
        threads = [threading.Thread(target=self._produce, daemon=True)]
        threads += [threading.Thread(target=self._work, daemon=True)
                    for _ in range(self.cfg.workers)]
        for thread in threads:
            thread.start()
        try:
            return self._collect()
        finally:
            self.stop.set()
            for thread in threads:
                thread.join()

    # -- producer ------------------------------------------------------------------------

    def _jobs(self) -> Iterator[_Job]:
        """Every chunk of every epoch, with its learning rates and seed."""
        cfg = self.cfg
        total = cfg.epochs * max(self.vocab.retained_words, 1)
        done = 0  # in-vocabulary words handed out so far, for the learning-rate schedule
        for epoch in range(cfg.epochs):
            if epoch > 0 and self.cache is not None:
                chunks: Iterable[Chunk] = self.cache
            else:
                chunks = self._encoded(write=self.cache is not None and epoch == 0)
            index = -1
            for index, chunk in enumerate(chunks):
                start = _alpha(cfg, done / total)
                done += len(chunk.ids)
                seed = _chunk_seed(cfg.seed, epoch, index)
                yield _Job(epoch, chunk, start, _alpha(cfg, done / total), seed)
            self.results.put(("epoch_chunks", epoch, index + 1))

    def _encoded(self, write: bool) -> Iterator[Chunk]:
        for chunk in encode_chunks(self.source, self.vocab.key_to_index, self.cfg.chunk_words,
                                   self.cfg.max_sentence_length):
            if write and self.cache is not None:
                self.cache.append(chunk)
            yield chunk

    def _produce(self) -> None:
        try:
            for job in self._jobs():
                while not self.stop.is_set():
                    try:
                        self.jobs.put(job, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self.stop.is_set():
                    return
        except BaseException as exc:  # reported by the main thread
            self.results.put(("error", exc))
        finally:
            for _ in range(self.cfg.workers):  # workers keep draining, so this returns
                self.jobs.put(None)

    # -- workers ---------------------------------------------------------------------------

    def _work(self) -> None:
        while (job := self.jobs.get()) is not None:
            if self.stop.is_set():
                continue
            try:
                loss, predictions, words = self.train_chunk(self.model.w_in, self.model.w_out, job)
            except BaseException as exc:
                self.results.put(("error", exc))
                continue
            self.results.put(("chunk", job.epoch, job.chunk.raw_words, loss, predictions, words,
                              time.perf_counter()))
        self.results.put(("worker_done",))

    # -- main thread -------------------------------------------------------------------------

    def _collect(self) -> list[EpochReport]:
        """Sum chunk results per epoch, report each epoch once all its chunks are in.

        An epoch's time runs from the end of the previous one (or the start of training)
        to the moment its last chunk was finished, so the times add up to the wall time.
        With several workers the first chunks of an epoch overlap the last of the one
        before; on a corpus of only a few chunks the per-epoch times are therefore uneven.
        """
        cfg = self.cfg
        sums = np.zeros((cfg.epochs, 5), dtype=np.float64)  # chunks, words, loss, preds, kept
        finish = np.zeros(cfg.epochs, dtype=np.float64)  # when an epoch's last chunk ended
        expected: dict[int, int] = {}
        reports: list[EpochReport] = []
        errors: list[BaseException] = []
        finished = 0
        bar = _progress_bar(cfg.epochs * self.vocab.total_words, self.progress)
        clock = self.started
        with bar:
            while finished < cfg.workers:
                message = self.results.get()
                if message[0] == "chunk":
                    _, epoch, raw, loss, predictions, words, done_at = message
                    sums[epoch] += (1, raw, loss, predictions, words)
                    finish[epoch] = max(finish[epoch], done_at)
                    bar.update(raw)
                elif message[0] == "epoch_chunks":
                    expected[message[1]] = message[2]
                elif message[0] == "error":
                    errors.append(message[1])
                    self.stop.set()
                else:
                    finished += 1
                while (len(reports) in expected
                       and sums[len(reports), 0] == expected[len(reports)] and not errors):
                    end = max(float(finish[len(reports)]), clock)
                    reports.append(self._report(len(reports), sums[len(reports)], end - clock))
                    clock = end
                    if self.on_epoch is not None:
                        self.on_epoch(reports[-1])
        if errors:
            raise errors[0]
        return reports

    def _report(self, epoch: int, sums: np.ndarray, seconds: float) -> EpochReport:
        report = EpochReport(epoch=len(self.model.history) + epoch + 1, loss=float(sums[2]),
                             predictions=int(sums[3]), words=int(sums[1]),
                             trained_words=int(sums[4]), seconds=seconds)
        logger.info("epoch %d: loss %.4f per prediction, %d words in %.1f s (%.0f words/s)",
                    report.epoch, report.mean_loss, report.words, seconds, report.words_per_sec)
        return report


def _progress_bar(total: int, show: bool) -> Any:
    """A tqdm bar over corpus words, or a no-op stand-in (tqdm not even imported)."""
    if not show:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="word", unit_scale=True, desc="word2vec")


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _alpha(cfg: Word2VecConfig, fraction: float) -> float:
    """The learning rate after `fraction` of the run, linear from alpha to min_alpha."""
    return cfg.alpha - (cfg.alpha - cfg.min_alpha) * min(fraction, 1.0)


def _chunk_seed(seed: int, epoch: int, index: int) -> int:
    """A seed per (run seed, epoch, chunk), below 2**63 so Numba types it as int64."""
    state = np.random.SeedSequence([seed, epoch, index]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


def _chunk_trainer(cfg: Word2VecConfig, vocab: Word2VecVocab) -> Any:
    """The kernel for the config's architecture x loss, with its tables bound."""
    from seqnlp.word2vec.jit import load_kernel

    kernel = load_kernel(cfg.architecture, cfg.loss)
    keep = subsample_thresholds(vocab.counts, cfg.sample)
    window, mean = cfg.window, cfg.cbow_mean
    if cfg.loss == "negative":
        accept, alias = alias_table(noise_distribution(vocab.counts, cfg.ns_exponent))
        tables: tuple = (keep, accept, alias, window, cfg.negative)
    else:
        tree = huffman_tree(vocab.counts)
        tables = (keep, tree.codes, tree.points, tree.offsets, window)
    if cfg.architecture == "cbow":
        tables += (mean,)

    def train(w_in: np.ndarray, w_out: np.ndarray, job: _Job) -> tuple[float, int, int]:
        chunk = job.chunk
        return kernel(w_in, w_out, chunk.ids, chunk.ends, *tables,
                      job.alpha_start, job.alpha_end, job.seed)

    return train
