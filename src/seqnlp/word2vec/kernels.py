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
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from seqnlp.word2vec.prefetch import prefetch_row

MAX_EXP = 6.0
EXP_TABLE_SIZE = 1000
_TABLE_SCALE = EXP_TABLE_SIZE / MAX_EXP / 2.0

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO32 = np.uint64(1 << 32)
_S27, _S30, _S31, _S32 = np.uint64(27), np.uint64(30), np.uint64(31), np.uint64(32)

PREFETCH_AHEAD = 2  # centre words between a row's prefetch and the step that needs it

_JIT = {"cache": True, "nogil": True, "fastmath": True}
_HELPER = {"cache": True, "nogil": True, "fastmath": True, "inline": "always"}


# ---- randomness ---------------------------------------------------------------------------

@njit(**_HELPER)
def next_random(state: np.ndarray) -> np.uint64:
    """Advance a splitmix64 generator held in `state[0]` (uint64) and return 64 random bits."""
    s = state[0] + _GOLDEN
    state[0] = s
    z = (s ^ (s >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(**_HELPER)
def _below(bits: np.uint64, n: np.uint64) -> np.uint64:
    """Map the high 32 random bits to 0..n-1 (multiply-shift, no modulo bias beyond 2**-32)."""
    return ((bits >> _S32) * n) >> _S32


@njit(**_HELPER)
def subsample(ids: np.ndarray, start: int, end: int, keep: np.ndarray,
              kept: np.ndarray, state: np.ndarray) -> int:
    """Copy into `kept` the words of `ids[start:end]` that survive subsampling; return how many.

    A word w survives when a 32-bit draw is below `keep[w]` (no draw when keep[w] >= 2**32).
    """
    m = 0
    for p in range(start, end):
        w = ids[p]
        if keep[w] >= _TWO32 or (next_random(state) >> _S32) < keep[w]:
            kept[m] = w
            m += 1
    return m


@njit(**_HELPER)
def draw_reach(window: int, state: np.ndarray) -> int:
    """How far one centre word's window reaches: uniform in 1..window (the C tool's shrink)."""
    return window - np.int64(_below(next_random(state), np.uint64(window)))


@njit(**_HELPER)
def window_words(kept: np.ndarray, m: int, i: int, reach: int, ctx: np.ndarray) -> int:
    """Fill `ctx` with `kept[i - reach : i + reach + 1]` but position i, cut at the sentence
    edges (`m` words); return how many."""
    n = 0
    for j in range(max(0, i - reach), min(m, i + reach + 1)):
        if j != i:
            ctx[n] = kept[j]
            n += 1
    return n


@njit(**_HELPER)
def gather_context(kept: np.ndarray, m: int, i: int, window: int,
                   ctx: np.ndarray, state: np.ndarray) -> int:
    """Fill `ctx` with the words around position i within a window drawn from 1..window."""
    return window_words(kept, m, i, draw_reach(window, state), ctx)


@njit(**_HELPER)
def draw_outputs(centre: int, outs: np.ndarray, accept: np.ndarray, alias: np.ndarray,
                 negative: int, state: np.ndarray) -> int:
    """Put `centre` then `negative` noise words (alias draws) in `outs`; return the count.

    A noise word equal to the centre word is left out, as in the C tool.
    """
    outs[0] = centre
    n = 1
    size = np.uint64(accept.shape[0])
    for _ in range(negative):
        bits = next_random(state)
        bucket = _below(bits, size)
        word = bucket if (bits & _LOW32) < accept[bucket] else alias[bucket]
        if word != centre:
            outs[n] = word
            n += 1
    return n


@njit(**_HELPER)
def draw_sentence(kept: np.ndarray, m: int, window: int, accept: np.ndarray,
                  alias: np.ndarray, negative: int, reach: np.ndarray, outs: np.ndarray,
                  n_outs: np.ndarray, state: np.ndarray) -> None:
    """Draw every centre word's window reach and outputs for a sentence of `m` kept words.

    Centre by centre, `reach[i]` (as `draw_reach`), then, when the window holds a word
    (m > 1), the centre and its noise words in `outs[i, :n_outs[i]]` (as `draw_outputs`;
    otherwise n_outs[i] = 0): the draws of `gather_context` + `draw_outputs` in the same
    order, made before the updates so that a kernel can prefetch the rows ahead.
    Shape: reach, n_outs (>= m,); outs (>= m, negative + 1).
    """
    for i in range(m):
        reach[i] = draw_reach(window, state)
        n_outs[i] = draw_outputs(kept[i], outs[i], accept, alias, negative, state) if m > 1 else 0


# ---- the logistic function ----------------------------------------------------------------

@njit(cache=True, nogil=True)
def sigmoid_tables() -> tuple[np.ndarray, np.ndarray]:
    """The C tool's table of sigma(x) over [-6, 6), and -log sigma(x) at the same points."""
    sig = np.empty(EXP_TABLE_SIZE, dtype=np.float32)
    nls = np.empty(EXP_TABLE_SIZE, dtype=np.float32)
    for i in range(EXP_TABLE_SIZE):
        x = (i / EXP_TABLE_SIZE * 2.0 - 1.0) * MAX_EXP
        sig[i] = 1.0 / (1.0 + math.exp(-x))
        nls[i] = math.log1p(math.exp(-x))
    return sig, nls


@njit(**_HELPER)
def score(f: float, label: float, alpha: float, sig: np.ndarray,
          nls: np.ndarray) -> tuple[float, float]:
    """Gradient scale g = (label - sigma(f)) * alpha and loss -log P(label | f).

    Outside [-6, 6] sigma is taken as 0 or 1 (the C tool's clamp) and the loss as linear.
    """
    if f >= MAX_EXP:
        return (label - 1.0) * alpha, (1.0 - label) * f
    if f <= -MAX_EXP:
        return label * alpha, -label * f
    k = int((f + MAX_EXP) * _TABLE_SCALE)
    return (label - sig[k]) * alpha, nls[k] + (1.0 - label) * f


# ---- one update -----------------------------------------------------------------------------

@njit(**_HELPER)
def sgns_update(w_in: np.ndarray, w_out: np.ndarray, ctx: np.ndarray, n_ctx: int,
                outs: np.ndarray, n_out: int, alpha: float, sig: np.ndarray, nls: np.ndarray,
                g: np.ndarray, grad: np.ndarray) -> float:
    """Skip-gram negative-sampling step for one centre word, negatives shared by its window.

    With X = w_in[ctx] (C, E) and Y = w_out[outs] (O, E), outs[0] the centre word (label 1)
    and the rest noise words (label 0): G = (labels - sigma(X Y^T)) * alpha  # (C, O)
    then w_out[outs] += G^T X and w_in[ctx] += G Y, both from the values before the step
    (repeated rows add up). `g` (>= C, >= O) and `grad` (>= C, E) are scratch.
    Returns the loss, sum of -log P(label).
    """
    dim = w_in.shape[1]
    loss = 0.0
    for a in range(n_ctx):
        r = ctx[a]
        for k in range(n_out):
            o = outs[k]
            f = np.float32(0.0)
            for e in range(dim):
                f += w_in[r, e] * w_out[o, e]
            ga, la = score(f, 1.0 if k == 0 else 0.0, alpha, sig, nls)
            g[a, k] = ga
            loss += la
    for a in range(n_ctx):  # grad = G Y, before Y changes
        for e in range(dim):
            grad[a, e] = 0.0
        for k in range(n_out):
            o, ga = outs[k], g[a, k]
            for e in range(dim):
                grad[a, e] += ga * w_out[o, e]
    for k in range(n_out):  # Y += G^T X, before X changes
        o = outs[k]
        for a in range(n_ctx):
            r, ga = ctx[a], g[a, k]
            for e in range(dim):
                w_out[o, e] += ga * w_in[r, e]
    for a in range(n_ctx):
        r = ctx[a]
        for e in range(dim):
            w_in[r, e] += grad[a, e]
    return loss


@njit(**_HELPER)
def negative_update(vec: np.ndarray, w_out: np.ndarray, outs: np.ndarray, n_out: int,
                    alpha: float, sig: np.ndarray, nls: np.ndarray, neu1e: np.ndarray) -> float:
    """Negative sampling for one input vector, output by output as in the C tool.

    For each output o (outs[0] label 1, the rest label 0): g = (label - sigma(vec . w_out[o]))
    * alpha; neu1e += g * w_out[o]; w_out[o] += g * vec. `neu1e` (E,) is overwritten with the
    gradient for the input side. Returns the loss.
    """
    dim = vec.shape[0]
    loss = 0.0
    for e in range(dim):
        neu1e[e] = 0.0
    for k in range(n_out):
        o = outs[k]
        f = np.float32(0.0)
        for e in range(dim):
            f += vec[e] * w_out[o, e]
        gk, lk = score(f, 1.0 if k == 0 else 0.0, alpha, sig, nls)
        loss += lk
        gk = np.float32(gk)
        for e in range(dim):
            neu1e[e] += gk * w_out[o, e]
            w_out[o, e] += gk * vec[e]
    return loss


@njit(**_HELPER)
def hierarchical_update(vec: np.ndarray, w_out: np.ndarray, points: np.ndarray,
                        codes: np.ndarray, lo: int, hi: int, alpha: float, sig: np.ndarray,
                        nls: np.ndarray, neu1e: np.ndarray) -> float:
    """Hierarchical softmax for one input vector along the path `points[lo:hi]`.

    At inner node p with branch bit c: g = (1 - c - sigma(vec . w_out[p])) * alpha;
    neu1e += g * w_out[p]; w_out[p] += g * vec. Nodes with |vec . w_out[p]| >= 6 are scored
    but not updated (the C tool skips them). `neu1e` (E,) is overwritten. Returns the loss.
    """
    dim = vec.shape[0]
    loss = 0.0
    for e in range(dim):
        neu1e[e] = 0.0
    for d in range(lo, hi):
        p = points[d]
        f = np.float32(0.0)
        for e in range(dim):
            f += vec[e] * w_out[p, e]
        gd, ld = score(f, 1.0 - codes[d], alpha, sig, nls)
        loss += ld
        if f <= -MAX_EXP or f >= MAX_EXP:
            continue
        gd = np.float32(gd)
        for e in range(dim):
            neu1e[e] += gd * w_out[p, e]
            w_out[p, e] += gd * vec[e]
    return loss


@njit(**_HELPER)
def context_mean(w_in: np.ndarray, ctx: np.ndarray, n_ctx: int, mean: bool,
                 neu1: np.ndarray) -> None:
    """neu1 = sum (or mean) of the context rows w_in[ctx[:n_ctx]]."""
    dim = w_in.shape[1]
    for e in range(dim):
        neu1[e] = 0.0
    for a in range(n_ctx):
        r = ctx[a]
        for e in range(dim):
            neu1[e] += w_in[r, e]
    if mean:
        inv = np.float32(1.0 / n_ctx)
        for e in range(dim):
            neu1[e] *= inv


@njit(**_HELPER)
def add_to_rows(w_in: np.ndarray, ctx: np.ndarray, n_ctx: int, neu1e: np.ndarray) -> None:
    """w_in[ctx[a]] += neu1e for every context word (CBOW, mean or sum, as the C tool)."""
    dim = w_in.shape[1]
    for a in range(n_ctx):
        r = ctx[a]
        for e in range(dim):
            w_in[r, e] += neu1e[e]


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
