"""Word2vec kernels against plain NumPy/Python references.

Two tiers: each one-step helper (`sgns_update`, `negative_update`, `hierarchical_update`)
against the NumPy formula of one update; and each whole-chunk kernel against a slow Python
re-implementation that mirrors its random generator draw for draw, so that subsampling,
window shrinking, negative draws, learning-rate interpolation and the updates are all
checked together.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from seqnlp.word2vec import kernels as K
from seqnlp.word2vec.vocab import (
    alias_table,
    huffman_tree,
    keep_probabilities,
    noise_distribution,
    subsample_thresholds,
)

MASK64 = (1 << 64) - 1
SIG, NLS = K.sigmoid_tables()


# ---- references ---------------------------------------------------------------------------

class SplitMix64:
    """Python splitmix64 (Steele, Lea and Flood 2014), the kernels' generator."""

    def __init__(self, seed: int) -> None:
        self.state = seed & MASK64

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)


def below(bits: int, n: int) -> int:
    return ((bits >> 32) * n) >> 32


def ref_score(f: float, label: float, alpha: float) -> tuple[float, float]:
    """(label - sigma(f)) * alpha and -log P(label), with the C tool's table and clamp."""
    if f >= K.MAX_EXP:
        return (label - 1.0) * alpha, (1.0 - label) * f
    if f <= -K.MAX_EXP:
        return label * alpha, -label * f
    k = int((f + K.MAX_EXP) * (K.EXP_TABLE_SIZE / K.MAX_EXP / 2))
    return (label - float(SIG[k])) * alpha, float(NLS[k]) + (1.0 - label) * f


def f32dot(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.dot(x.astype(np.float64), y.astype(np.float64)))


class Reference:
    """Slow mirror of one kernel call: the same draws, in the same order."""

    def __init__(self, w_in, w_out, ids, ends, keep, window, seed):
        self.w_in, self.w_out = w_in.copy(), w_out.copy()
        self.ids, self.ends, self.keep, self.window = ids, ends, keep, window
        self.rng = SplitMix64(seed)
        self.loss = self.predictions = self.words = 0

    def sentences(self, alpha_start, alpha_end):
        start = 0
        for end in self.ends:
            alpha = alpha_start + (alpha_end - alpha_start) * (start / max(len(self.ids), 1))
            kept = [int(w) for w in self.ids[start:end]
                    if self.keep[w] >= 2**32 or (self.rng.next() >> 32) < self.keep[w]]
            start = end
            self.words += len(kept)
            yield alpha, kept

    def context(self, kept, i):
        reach = self.window - below(self.rng.next(), self.window)
        return [kept[j] for j in range(max(0, i - reach), min(len(kept), i + reach + 1))
                if j != i]

    def outputs(self, centre, accept, alias, negative):
        outs = [centre]
        for _ in range(negative):
            bits = self.rng.next()
            bucket = below(bits, len(accept))
            word = bucket if (bits & 0xFFFFFFFF) < accept[bucket] else int(alias[bucket])
            if word != centre:
                outs.append(word)
        return outs

    def shared_negative_step(self, ctx, outs, alpha):
        x, y = self.w_in[ctx], self.w_out[outs]  # (C, E), (O, E)
        g = np.zeros((len(ctx), len(outs)))
        for a in range(len(ctx)):
            for k in range(len(outs)):
                g[a, k], loss = ref_score(f32dot(x[a], y[k]), float(k == 0), alpha)
                self.loss += loss
        np.add.at(self.w_out, outs, (g.T @ x).astype(np.float32))
        np.add.at(self.w_in, ctx, (g @ y).astype(np.float32))

    def sequential_step(self, vec, outs, labels, alpha, skip_clamped=False):
        """Outputs one after the other (C tool); returns the input-side gradient."""
        neu1e = np.zeros_like(vec)
        for o, label in zip(outs, labels):
            f = f32dot(vec, self.w_out[o])
            g, loss = ref_score(f, label, alpha)
            self.loss += loss
            if skip_clamped and abs(f) >= K.MAX_EXP:
                continue
            neu1e += np.float32(g) * self.w_out[o]
            self.w_out[o] += np.float32(g) * vec
        return neu1e


def ref_skipgram_negative(r, accept, alias, negative, a0, a1):
    for alpha, kept in r.sentences(a0, a1):
        for i in range(len(kept)):
            ctx = r.context(kept, i)
            if ctx:
                outs = r.outputs(kept[i], accept, alias, negative)
                r.shared_negative_step(ctx, outs, alpha)
                r.predictions += len(ctx) * len(outs)


def ref_cbow_negative(r, accept, alias, negative, mean, a0, a1):
    for alpha, kept in r.sentences(a0, a1):
        for i in range(len(kept)):
            ctx = r.context(kept, i)
            if ctx:
                outs = r.outputs(kept[i], accept, alias, negative)
                neu1 = r.w_in[ctx].sum(axis=0) / (len(ctx) if mean else 1)
                labels = [1.0] + [0.0] * (len(outs) - 1)
                np.add.at(r.w_in, ctx, r.sequential_step(neu1, outs, labels, alpha))
                r.predictions += len(outs)


def ref_skipgram_hierarchical(r, tree, a0, a1):
    for alpha, kept in r.sentences(a0, a1):
        for i in range(len(kept)):
            ctx = r.context(kept, i)
            path, code = tree.path(kept[i]), tree.code(kept[i])
            for c in ctx:
                labels = [1.0 - b for b in code]
                r.w_in[c] += r.sequential_step(r.w_in[c].copy(), path, labels, alpha, True)
            r.predictions += len(ctx) * len(path)


def ref_cbow_hierarchical(r, tree, mean, a0, a1):
    for alpha, kept in r.sentences(a0, a1):
        for i in range(len(kept)):
            ctx = r.context(kept, i)
            if ctx:
                path, code = tree.path(kept[i]), tree.code(kept[i])
                neu1 = r.w_in[ctx].sum(axis=0) / (len(ctx) if mean else 1)
                labels = [1.0 - b for b in code]
                np.add.at(r.w_in, ctx, r.sequential_step(neu1, path, labels, alpha, True))
                r.predictions += len(path)


# ---- fixtures -------------------------------------------------------------------------------

def problem(seed: int = 0, size: int = 30, dim: int = 16):
    """A small vocabulary with skewed counts, random sentences and random matrices."""
    rng = np.random.default_rng(seed)
    counts = np.sort(rng.zipf(1.6, size).astype(np.int64) * 20)[::-1]
    ids = rng.choice(size, size=400, p=counts / counts.sum()).astype(np.int32)
    ends = np.sort(rng.choice(np.arange(1, 400), size=25, replace=False))
    ends = np.append(ends, [400]).astype(np.int64)
    w_in = ((rng.random((size, dim)) - 0.5) / 2).astype(np.float32)
    w_out = ((rng.random((size, dim)) - 0.5) / 2).astype(np.float32)
    return counts, ids, ends, w_in, w_out


def assert_matches(result, reference):
    loss, predictions, words = result
    assert words == reference.words
    assert predictions == reference.predictions
    assert loss == pytest.approx(reference.loss, rel=1e-5)


# ---- randomness and sampling ------------------------------------------------------------------

def test_next_random_is_splitmix64():
    state = np.zeros(1, dtype=np.uint64)
    draws = [int(K.next_random(state)) for _ in range(3)]
    # Published first outputs of splitmix64 seeded with 0.
    assert draws == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]
    mirror = SplitMix64(12345)
    state[0] = 12345
    assert [int(K.next_random(state)) for _ in range(5)] == [mirror.next() for _ in range(5)]


def test_subsampling_keeps_words_with_the_formula_probability():
    counts = np.array([5000, 300, 10])
    keep = subsample_thresholds(counts, 1e-3)
    prob = keep_probabilities(counts, 1e-3)
    n = 100_000
    for word in range(3):
        ids = np.full(n, word, dtype=np.int32)
        kept = np.empty(n, dtype=np.int32)
        state = np.array([word + 1], dtype=np.uint64)
        rate = K.subsample(ids, 0, n, keep, kept, state) / n
        sigma = np.sqrt(prob[word] * (1 - prob[word]) / n)
        assert abs(rate - prob[word]) <= 5 * sigma + 1e-12


def test_noise_words_follow_the_unigram_power_distribution():
    counts = np.array([1000, 400, 100, 50, 10, 1])
    prob = noise_distribution(counts, 0.75)
    accept, alias = alias_table(prob)
    n = 200_000
    outs = np.empty(n + 1, dtype=np.int32)
    state = np.array([7], dtype=np.uint64)
    got = K.draw_outputs(-1, outs, accept, alias, n, state)
    assert got == n + 1
    freq = np.bincount(outs[1:], minlength=len(counts)) / n
    assert np.abs(freq - prob).max() < 5 * np.sqrt(prob.max() / n)


def test_a_noise_word_equal_to_the_centre_is_left_out():
    accept, alias = alias_table(np.array([1.0, 0.0]))  # always draws word 0
    outs = np.empty(6, dtype=np.int32)
    n = K.draw_outputs(0, outs, accept, alias, 5, np.array([3], dtype=np.uint64))
    assert n == 1 and outs[0] == 0


def test_window_is_drawn_uniformly_from_one_to_window():
    kept = np.arange(40, dtype=np.int32)
    ctx = np.empty(10, dtype=np.int32)
    state = np.array([11], dtype=np.uint64)
    sizes = [K.gather_context(kept, 40, 20, 5, ctx, state) for _ in range(20_000)]
    assert sorted(set(sizes)) == [2, 4, 6, 8, 10]
    assert np.abs(np.bincount(sizes)[2::2] / 20_000 - 0.2).max() < 0.015
    n = K.gather_context(kept, 40, 0, 5, ctx, state)  # the sentence start truncates
    assert ctx[:n].tolist() == list(range(1, n + 1))


@pytest.mark.parametrize("m", [1, 2, 17])
def test_draw_sentence_makes_the_word_by_word_draws_in_the_same_order(m):
    counts = np.array([50, 30, 20, 10, 5, 1])
    accept, alias = alias_table(noise_distribution(counts))
    kept = np.random.default_rng(m).integers(0, 6, size=m).astype(np.int32)
    reach, n_outs = np.empty(m, np.int64), np.empty(m, np.int64)
    outs = np.empty((m, 4), np.int32)
    state, mirror = np.array([77], np.uint64), np.array([77], np.uint64)
    K.draw_sentence(kept, m, 3, accept, alias, 3, reach, outs, n_outs, state)
    ctx, want = np.empty(6, np.int32), np.empty(4, np.int32)
    for i in range(m):
        n_ctx = K.gather_context(kept, m, i, 3, ctx, mirror)
        assert n_ctx == K.window_words(kept, m, i, reach[i], ctx)
        n_want = K.draw_outputs(kept[i], want, accept, alias, 3, mirror) if n_ctx else 0
        assert outs[i, :n_outs[i]].tolist() == want[:n_want].tolist()
    assert state[0] == mirror[0]


@pytest.mark.parametrize("dim", [1, 16, 100])
def test_prefetching_a_row_changes_nothing(dim):
    from seqnlp.word2vec.prefetch import prefetch_row

    @njit
    def touch_rows(matrix):
        for row in range(matrix.shape[0]):
            prefetch_row(matrix, row)

    matrix = np.arange(3 * dim, dtype=np.float32).reshape(3, dim)
    touch_rows(matrix)
    assert np.array_equal(matrix, np.arange(3 * dim, dtype=np.float32).reshape(3, dim))


# ---- one update step ------------------------------------------------------------------------

def numpy_sigma_and_loss(f: np.ndarray, labels: np.ndarray, alpha: float):
    """Vectorised `ref_score`: the gradient scale and loss of every entry of f."""
    out = [ref_score(float(x), float(y), alpha) for x, y in zip(f.ravel(), labels.ravel())]
    g = np.array([o[0] for o in out]).reshape(f.shape)
    return g, sum(o[1] for o in out)


@pytest.mark.parametrize("scale", [0.5, 8.0])  # 8: many scores beyond +-6 (the clamp)
def test_sgns_update_is_one_step_of_the_matrix_formula(scale):
    rng = np.random.default_rng(1)
    w_in = ((rng.random((12, 8)) - 0.5) * scale / 4).astype(np.float32)
    w_out = ((rng.random((12, 8)) - 0.5) * scale / 4).astype(np.float32)
    ctx = np.array([3, 5, 3, 9], dtype=np.int32)  # a repeated context word adds twice
    outs = np.array([4, 7, 7, 1], dtype=np.int32)  # centre 4, then noise (7 drawn twice)
    alpha = 0.1
    x, y = w_in[ctx].astype(np.float64), w_out[outs].astype(np.float64)  # (C, E), (O, E)
    labels = np.zeros((4, 4))
    labels[:, 0] = 1.0
    g, loss = numpy_sigma_and_loss(x @ y.T, labels, alpha)  # (C, O)
    want_in, want_out = w_in.astype(np.float64), w_out.astype(np.float64)
    np.add.at(want_out, outs, g.T @ x)
    np.add.at(want_in, ctx, g @ y)
    scratch_g, scratch = np.empty((10, 6), np.float32), np.empty((10, 8), np.float32)
    got = K.sgns_update(w_in, w_out, ctx, 4, outs, 4, alpha, SIG, NLS, scratch_g, scratch)
    assert got == pytest.approx(loss, rel=1e-5)
    np.testing.assert_allclose(w_in, want_in, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w_out, want_out, rtol=1e-5, atol=1e-6)


def test_negative_update_runs_output_by_output():
    rng = np.random.default_rng(2)
    w_out = ((rng.random((10, 8)) - 0.5)).astype(np.float32)
    vec = ((rng.random(8) - 0.5)).astype(np.float32)
    outs = np.array([2, 6, 6, 0], dtype=np.int32)
    want_out, neu1e, loss = w_out.astype(np.float64), np.zeros(8), 0.0
    for k, o in enumerate(outs):  # the repeated output sees its first update
        g, l = ref_score(float(vec @ want_out[o]), float(k == 0), 0.05)
        loss += l
        neu1e += g * want_out[o]
        want_out[o] += g * vec
    got_neu1e = np.empty(8, np.float32)
    got = K.negative_update(vec, w_out, outs, 4, 0.05, SIG, NLS, got_neu1e)
    assert got == pytest.approx(loss, rel=1e-5)
    np.testing.assert_allclose(w_out, want_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_neu1e, neu1e, rtol=1e-5, atol=1e-6)


def test_hierarchical_update_follows_the_path_and_skips_saturated_nodes():
    rng = np.random.default_rng(3)
    w_out = ((rng.random((6, 8)) - 0.5)).astype(np.float32)
    w_out[4] = 4.0  # vec . w_out[4] is far beyond 6: scored, never updated
    vec = np.abs(rng.random(8)).astype(np.float32) + 0.5
    points = np.array([5, 4, 1, 0], dtype=np.int32)
    codes = np.array([0, 1, 1, 0], dtype=np.uint8)
    want_out, neu1e, loss = w_out.astype(np.float64), np.zeros(8), 0.0
    for p, c in zip(points[1:], codes[1:]):  # the path is points[1:4]
        f = float(vec @ want_out[p])
        g, l = ref_score(f, 1.0 - c, 0.05)
        loss += l
        if abs(f) < K.MAX_EXP:
            neu1e += g * want_out[p]
            want_out[p] += g * vec
    got_neu1e = np.empty(8, np.float32)
    got = K.hierarchical_update(vec, w_out, points, codes, 1, 4, 0.05, SIG, NLS, got_neu1e)
    assert got == pytest.approx(loss, rel=1e-5)
    assert (w_out[4] == 4.0).all()
    np.testing.assert_allclose(w_out, want_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_neu1e, neu1e, rtol=1e-5, atol=1e-6)


# ---- whole chunks ---------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1])
def test_skipgram_negative_kernel_matches_the_reference(seed):
    counts, ids, ends, w_in, w_out = problem(seed)
    keep = subsample_thresholds(counts, 1e-2)
    accept, alias = alias_table(noise_distribution(counts))
    ref = Reference(w_in, w_out, ids, ends, keep, 4, seed=99 + seed)
    ref_skipgram_negative(ref, accept, alias, 3, 0.1, 0.05)
    result = K.train_skipgram_negative(w_in, w_out, ids, ends, keep, accept, alias, 4, 3,
                                       0.1, 0.05, 99 + seed)
    assert_matches(result, ref)
    np.testing.assert_allclose(w_in, ref.w_in, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(w_out, ref.w_out, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mean", [True, False])
def test_cbow_negative_kernel_matches_the_reference(mean):
    counts, ids, ends, w_in, w_out = problem(2)
    keep = subsample_thresholds(counts, 1e-2)
    accept, alias = alias_table(noise_distribution(counts))
    ref = Reference(w_in, w_out, ids, ends, keep, 3, seed=5)
    ref_cbow_negative(ref, accept, alias, 4, mean, 0.1, 0.05)
    result = K.train_cbow_negative(w_in, w_out, ids, ends, keep, accept, alias, 3, 4, mean,
                                   0.1, 0.05, 5)
    assert_matches(result, ref)
    np.testing.assert_allclose(w_in, ref.w_in, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(w_out, ref.w_out, rtol=1e-4, atol=1e-5)


def test_skipgram_hierarchical_kernel_matches_the_reference():
    counts, ids, ends, w_in, w_out = problem(3)
    keep = subsample_thresholds(counts, 1e-2)
    tree = huffman_tree(counts)
    ref = Reference(w_in, w_out, ids, ends, keep, 4, seed=8)
    ref_skipgram_hierarchical(ref, tree, 0.1, 0.05)
    result = K.train_skipgram_hierarchical(w_in, w_out, ids, ends, keep, tree.codes,
                                           tree.points, tree.offsets, 4, 0.1, 0.05, 8)
    assert_matches(result, ref)
    np.testing.assert_allclose(w_in, ref.w_in, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(w_out, ref.w_out, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mean", [True, False])
def test_cbow_hierarchical_kernel_matches_the_reference(mean):
    counts, ids, ends, w_in, w_out = problem(4)
    keep = subsample_thresholds(counts, 1e-2)
    tree = huffman_tree(counts)
    ref = Reference(w_in, w_out, ids, ends, keep, 2, seed=13)
    ref_cbow_hierarchical(ref, tree, mean, 0.1, 0.05)
    result = K.train_cbow_hierarchical(w_in, w_out, ids, ends, keep, tree.codes, tree.points,
                                       tree.offsets, 2, mean, 0.1, 0.05, 13)
    assert_matches(result, ref)
    np.testing.assert_allclose(w_in, ref.w_in, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(w_out, ref.w_out, rtol=1e-4, atol=1e-5)


def test_a_kernel_is_bit_reproducible_for_a_seed_and_varies_with_it():
    counts, ids, ends, w_in, w_out = problem(5)
    keep = subsample_thresholds(counts, 1e-2)
    accept, alias = alias_table(noise_distribution(counts))
    runs = []
    for seed in (21, 21, 22):
        a, b = w_in.copy(), w_out.copy()
        K.train_skipgram_negative(a, b, ids, ends, keep, accept, alias, 5, 5, 0.05, 0.01, seed)
        runs.append(a)
    assert np.array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
