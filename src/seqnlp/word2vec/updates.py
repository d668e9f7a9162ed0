"""One update of word2vec (Mikolov et al., 2013): the logistic table of the C tool, and the
skip-gram negative-sampling, negative-sampling, hierarchical-softmax and CBOW context steps.

Tiny `@njit` helpers inlined into the kernels of `seqnlp.word2vec.kernels`; each takes
arrays first, then scalars, and updates its matrices in place.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from seqnlp.word2vec.jit import HELPER_OPTIONS as _HELPER

MAX_EXP = 6.0
EXP_TABLE_SIZE = 1000
_TABLE_SCALE = EXP_TABLE_SIZE / MAX_EXP / 2.0


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
