"""The random draws of the word2vec kernels (Mikolov et al., 2013): a splitmix64 generator
(Steele, Lea and Flood, 2014), subsampling of frequent words, the shrunk window of a centre
word, and noise words from an alias table, in the order the C tool makes them.

Tiny `@njit` helpers inlined into the kernels of `seqnlp.word2vec.kernels`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from seqnlp.word2vec.jit import HELPER_OPTIONS as _HELPER

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO32 = np.uint64(1 << 32)
_S27, _S30, _S31, _S32 = np.uint64(27), np.uint64(30), np.uint64(31), np.uint64(32)


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
