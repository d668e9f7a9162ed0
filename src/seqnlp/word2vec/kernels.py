"""Skip-gram and CBOW with negative sampling or hierarchical softmax (Mikolov et al., 2013):
Numba kernels that train on one chunk of encoded sentences.

One kernel per architecture x objective; each takes arrays first, then scalars, updates
`w_in` and `w_out` in place without locks (Hogwild, as the C tool does), releases the GIL
so that several Python threads can train at once, and returns `(loss, predictions, words)`.
Skip-gram with negative sampling shares one draw of negatives across the context window of
a centre word and updates with small matrix-matrix products (Ji et al., 2016, pWord2Vec).
CBOW with negative sampling keeps the C tool's word-by-word rule, but draws a sentence's
windows and noise words before its updates so that it can prefetch the rows the next centre
words need (`prefetch.py`): the same numbers, with less time spent waiting on memory.

Randomness (subsampling, window shrink, negatives) comes from a splitmix64 generator seeded
by the caller, so one call is bit-reproducible given its seed and the matrices it starts
from. The logistic function is read from a 1,000-entry table over [-6, 6] as in the C tool.
`fastmath=True` lets LLVM reorder the float32 dot products into SIMD lanes; the result is
still deterministic for a given machine and build.

The shared steps live beside this module: the random draws in `draws.py`, the updates in
`updates.py` (both re-exported here). Numba's on-disk cache checks only the timestamp of the
file that defines a kernel (numba/numba#1833): after editing `draws.py` or `updates.py`,
touch this file (or delete its `__pycache__/*.nbi`) so that the kernels are recompiled.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from seqnlp.word2vec.draws import (
    draw_outputs,
    draw_reach,
    draw_sentence,
    gather_context,
    next_random,
    subsample,
    window_words,
)
from seqnlp.word2vec.jit import HELPER_OPTIONS as _HELPER
from seqnlp.word2vec.jit import KERNEL_OPTIONS as _JIT
from seqnlp.word2vec.prefetch import prefetch_row
from seqnlp.word2vec.updates import (
    EXP_TABLE_SIZE,
    MAX_EXP,
    add_to_rows,
    context_mean,
    hierarchical_update,
    negative_update,
    score,
    sgns_update,
    sigmoid_tables,
)

__all__ = [
    "PREFETCH_AHEAD", "prefetch_ahead", "train_cbow_hierarchical", "train_cbow_negative",
    "train_skipgram_hierarchical", "train_skipgram_negative",
    # the shared steps, re-exported from draws.py and updates.py
    "EXP_TABLE_SIZE", "MAX_EXP", "add_to_rows", "context_mean", "draw_outputs", "draw_reach",
    "draw_sentence", "gather_context", "hierarchical_update", "negative_update", "next_random",
    "score", "sgns_update", "sigmoid_tables", "subsample", "window_words",
]

PREFETCH_AHEAD = 2  # centre words between a row's prefetch and the step that needs it


# ---- one chunk ------------------------------------------------------------------------------

@njit(**_HELPER)
def _start(ends: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The generator state for `seed` and a buffer for the longest sentence."""
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed)
    longest, prev = 0, 0
    for s in range(ends.shape[0]):
        longest = max(longest, ends[s] - prev)
        prev = ends[s]
    return state, np.empty(longest, dtype=np.int32)


@njit(**_HELPER)
def _alpha_at(alpha_start: float, alpha_end: float, pos: int, n: int) -> float:
    """The learning rate at word `pos` of `n`, linear from alpha_start to alpha_end."""
    return alpha_start + (alpha_end - alpha_start) * (pos / max(n, 1))


@njit(**_JIT)
def train_skipgram_negative(
    w_in: np.ndarray, w_out: np.ndarray, ids: np.ndarray, ends: np.ndarray, keep: np.ndarray,
    accept: np.ndarray, alias: np.ndarray, window: int, negative: int, alpha_start: float,
    alpha_end: float, seed: int,
) -> tuple[float, int, int]:
    """Train skip-gram with negative sampling on one chunk; update `w_in`, `w_out` in place.

    Each centre word draws its window (1..window) and `negative` noise words, shared by all
    of its context words (`sgns_update`).

    Args:
        w_in: (V, E) float32 word vectors. w_out: (V, E) float32 output vectors.
        ids: (N,) int32 word indices. ends: (S,) int64 sentence end offsets in `ids`.
        keep: (V,) uint64 subsampling thresholds. accept, alias: (V,) noise alias table.
        window, negative: int. alpha_start, alpha_end: learning rate at the chunk's first
            and last word. seed: int, the generator seed of this chunk.

    Returns:
        (loss, predictions, words): float64 sum of -log P over the scored pairs, the
        number of (input, output) pairs scored, and the words kept by subsampling.
        Bit-reproducible for a given seed when no other thread writes the matrices.
    """
    sig, nls = sigmoid_tables()
    state, kept = _start(ends, seed)
    ctx = np.empty(2 * window, dtype=np.int32)
    outs = np.empty(negative + 1, dtype=np.int32)
    g = np.empty((2 * window, negative + 1), dtype=np.float32)
    grad = np.empty((2 * window, w_in.shape[1]), dtype=np.float32)
    loss, predictions, words, start = 0.0, 0, 0, 0
    for s in range(ends.shape[0]):
        alpha = _alpha_at(alpha_start, alpha_end, start, ids.shape[0])
        m = subsample(ids, start, ends[s], keep, kept, state)
        start = ends[s]
        words += m
        for i in range(m):
            n_ctx = gather_context(kept, m, i, window, ctx, state)
            if n_ctx == 0:
                continue
            n_out = draw_outputs(kept[i], outs, accept, alias, negative, state)
            loss += sgns_update(w_in, w_out, ctx, n_ctx, outs, n_out, alpha, sig, nls, g, grad)
            predictions += n_ctx * n_out
    return loss, predictions, words


@njit(**_HELPER)
def prefetch_ahead(w_in: np.ndarray, w_out: np.ndarray, kept: np.ndarray, m: int, j: int,
                   window: int, outs: np.ndarray, n_outs: np.ndarray) -> None:
    """Prefetch the rows that centre word j is the first to need: its outputs' rows of
    `w_out`, and the `w_in` row of the word entering the window, kept[j + window]
    (positions outside 0..m-1 are skipped)."""
    if 0 <= j < m:
        for k in range(n_outs[j]):
            prefetch_row(w_out, outs[j, k])
    if 0 <= j + window < m:
        prefetch_row(w_in, kept[j + window])


@njit(**_JIT)
def train_cbow_negative(
    w_in: np.ndarray, w_out: np.ndarray, ids: np.ndarray, ends: np.ndarray, keep: np.ndarray,
    accept: np.ndarray, alias: np.ndarray, window: int, negative: int, cbow_mean: bool,
    alpha_start: float, alpha_end: float, seed: int,
) -> tuple[float, int, int]:
    """Train CBOW with negative sampling on one chunk; update `w_in`, `w_out` in place.

    The mean (`cbow_mean`) or sum of the context vectors predicts the centre word against
    `negative` noise words, output by output (`negative_update`); every context word then
    receives the whole input gradient, as in the C tool. A sentence's windows and noise
    words are drawn first (`draw_sentence`, the same draws in the same order as a
    word-by-word loop), so that while centre word i is updated the rows of centre word
    i + PREFETCH_AHEAD are already being fetched (`prefetch_ahead`). Each centre word keeps
    its own noise words: sharing one draw among 8 consecutive centre words (as skip-gram
    shares it across a window) was faster still, but cost about 3.5 points of analogy
    accuracy on the IMDB benchmark. Arguments and return value as `train_skipgram_negative`.
    """
    sig, nls = sigmoid_tables()
    state, kept = _start(ends, seed)
    longest = kept.shape[0]
    reach = np.empty(longest, dtype=np.int64)
    outs = np.empty((longest, negative + 1), dtype=np.int32)
    n_outs = np.empty(longest, dtype=np.int64)
    ctx = np.empty(2 * window, dtype=np.int32)
    neu1 = np.empty(w_in.shape[1], dtype=np.float32)
    neu1e = np.empty(w_in.shape[1], dtype=np.float32)
    loss, predictions, words, start = 0.0, 0, 0, 0
    for s in range(ends.shape[0]):
        alpha = _alpha_at(alpha_start, alpha_end, start, ids.shape[0])
        m = subsample(ids, start, ends[s], keep, kept, state)
        start = ends[s]
        words += m
        draw_sentence(kept, m, window, accept, alias, negative, reach, outs, n_outs, state)
        for j in range(-window, PREFETCH_AHEAD):
            prefetch_ahead(w_in, w_out, kept, m, j, window, outs, n_outs)
        for i in range(m):
            prefetch_ahead(w_in, w_out, kept, m, i + PREFETCH_AHEAD, window, outs, n_outs)
            n_ctx = window_words(kept, m, i, reach[i], ctx)
            if n_ctx == 0:
                continue
            context_mean(w_in, ctx, n_ctx, cbow_mean, neu1)
            loss += negative_update(neu1, w_out, outs[i], n_outs[i], alpha, sig, nls, neu1e)
            add_to_rows(w_in, ctx, n_ctx, neu1e)
            predictions += n_outs[i]
    return loss, predictions, words


@njit(**_JIT)
def train_skipgram_hierarchical(
    w_in: np.ndarray, w_out: np.ndarray, ids: np.ndarray, ends: np.ndarray, keep: np.ndarray,
    codes: np.ndarray, points: np.ndarray, offsets: np.ndarray, window: int,
    alpha_start: float, alpha_end: float, seed: int,
) -> tuple[float, int, int]:
    """Train skip-gram with hierarchical softmax on one chunk; update the matrices in place.

    Each context word's vector walks the Huffman path of the centre word
    (`hierarchical_update`); row p of `w_out` is inner node p.

    Args:
        codes, points, offsets: the `HuffmanTree` arrays. Others as
            `train_skipgram_negative`.

    Returns:
        (loss, predictions, words) as `train_skipgram_negative`; a prediction is one
        inner node scored.
    """
    sig, nls = sigmoid_tables()
    state, kept = _start(ends, seed)
    ctx = np.empty(2 * window, dtype=np.int32)
    neu1e = np.empty(w_in.shape[1], dtype=np.float32)
    loss, predictions, words, start = 0.0, 0, 0, 0
    for s in range(ends.shape[0]):
        alpha = _alpha_at(alpha_start, alpha_end, start, ids.shape[0])
        m = subsample(ids, start, ends[s], keep, kept, state)
        start = ends[s]
        words += m
        for i in range(m):
            n_ctx = gather_context(kept, m, i, window, ctx, state)
            lo, hi = offsets[kept[i]], offsets[kept[i] + 1]
            for a in range(n_ctx):
                row = w_in[ctx[a]]
                loss += hierarchical_update(row, w_out, points, codes, lo, hi, alpha,
                                            sig, nls, neu1e)
                for e in range(row.shape[0]):
                    row[e] += neu1e[e]
            predictions += n_ctx * (hi - lo)
    return loss, predictions, words


@njit(**_JIT)
def train_cbow_hierarchical(
    w_in: np.ndarray, w_out: np.ndarray, ids: np.ndarray, ends: np.ndarray, keep: np.ndarray,
    codes: np.ndarray, points: np.ndarray, offsets: np.ndarray, window: int, cbow_mean: bool,
    alpha_start: float, alpha_end: float, seed: int,
) -> tuple[float, int, int]:
    """Train CBOW with hierarchical softmax on one chunk; update the matrices in place.

    Arguments and return value as `train_skipgram_hierarchical`, plus `cbow_mean`.
    """
    sig, nls = sigmoid_tables()
    state, kept = _start(ends, seed)
    ctx = np.empty(2 * window, dtype=np.int32)
    neu1 = np.empty(w_in.shape[1], dtype=np.float32)
    neu1e = np.empty(w_in.shape[1], dtype=np.float32)
    loss, predictions, words, start = 0.0, 0, 0, 0
    for s in range(ends.shape[0]):
        alpha = _alpha_at(alpha_start, alpha_end, start, ids.shape[0])
        m = subsample(ids, start, ends[s], keep, kept, state)
        start = ends[s]
        words += m
        for i in range(m):
            n_ctx = gather_context(kept, m, i, window, ctx, state)
            if n_ctx == 0:
                continue
            lo, hi = offsets[kept[i]], offsets[kept[i] + 1]
            context_mean(w_in, ctx, n_ctx, cbow_mean, neu1)
            loss += hierarchical_update(neu1, w_out, points, codes, lo, hi, alpha,
                                        sig, nls, neu1e)
            add_to_rows(w_in, ctx, n_ctx, neu1e)
            predictions += hi - lo
    return loss, predictions, words
