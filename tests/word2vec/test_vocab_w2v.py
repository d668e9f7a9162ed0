"""Word2vec vocabulary: counting with pruning, ordering, subsampling, alias table, Huffman tree."""

from __future__ import annotations

import heapq
import lzma

import numpy as np
import pytest

from seqnlp.word2vec.vocab import (
    Word2VecVocab,
    alias_probabilities,
    alias_table,
    count_words,
    huffman_tree,
    keep_probabilities,
    noise_distribution,
    subsample_thresholds,
)
from tests.conftest import shared_file


def test_count_words_counts_tokens_and_sentences():
    found = count_words([["a", "b", "a"], [], ["c", "a"]])
    assert found.counts == {"a": 3, "b": 1, "c": 1}
    assert (found.total_words, found.num_sentences, found.min_reduce) == (5, 3, 1)


def test_max_vocab_size_prunes_like_reduce_vocab():
    # After sentence 2 four words are held (> 3): the words seen once (b, c, d) go and
    # min_reduce becomes 2. After sentence 4, {a: 4, b: 1, e: 1, f: 1} is too big again:
    # words seen at most twice go (b, e, f). Sentence 5 brings b back, counted from zero.
    sentences = [["a", "a", "b"], ["c", "d"], ["a", "b"], ["a", "e", "f"], ["b", "g"]]
    found = count_words(sentences, max_vocab_size=3)
    assert found.counts == {"a": 4, "b": 1, "g": 1}
    assert found.min_reduce == 3
    assert found.total_words == 12


def test_no_pruning_below_the_limit():
    sentences = [["a", "b"], ["c"]]
    assert count_words(sentences, max_vocab_size=3).counts == count_words(sentences).counts


def test_vocab_is_most_frequent_first_and_min_count_applies():
    found = count_words([["b", "rare", "a", "z", "z"], ["z", "a", "b", "z", "z", "c"]])
    vocab = Word2VecVocab.from_counts(found, min_count=2)
    assert vocab.index_to_key[0] == "z" and set(vocab.index_to_key) == {"z", "a", "b"}
    assert vocab.counts.tolist() == [5, 2, 2]
    assert vocab.key_to_index == {w: i for i, w in enumerate(vocab.index_to_key)}
    assert (vocab.total_words, vocab.retained_words) == (11, 9)
    assert Word2VecVocab.from_dict(vocab.to_dict()).index_to_key == vocab.index_to_key


def test_vocab_order_is_gensims_ties_included():
    gensim = pytest.importorskip("gensim.models")
    rng = np.random.default_rng(0)
    sentences = [[f"w{i}" for i in rng.zipf(1.3, size=30) if i < 300] for _ in range(300)]
    ours = Word2VecVocab.from_counts(count_words(sentences), min_count=2)
    theirs = gensim.Word2Vec(min_count=2, sorted_vocab=1)
    theirs.build_vocab(sentences)
    assert ours.index_to_key == list(theirs.wv.index_to_key)


def test_ptb_vocabulary_has_the_published_size():
    path = shared_file("ptb", "ptb.train.txt.xz")
    with lzma.open(path, "rt", encoding="utf-8") as f:
        found = count_words(line.split() for line in f)
    # 10,000 words in the published vocabulary, <eos> excluded here (not in the text).
    assert len(found.counts) == 9_999
    assert found.total_words == 929_589 - 42_068
    assert found.num_sentences == 42_068


def test_keep_probability_is_the_c_tool_formula():
    counts = np.array([1000, 100, 10, 1])
    t = 1e-2
    total = counts.sum()
    expected = (np.sqrt(counts / (t * total)) + 1) * (t * total) / counts
    np.testing.assert_allclose(keep_probabilities(counts, t), np.minimum(expected, 1.0))
    assert keep_probabilities(counts, t)[0] == pytest.approx(0.1165, abs=1e-4)  # (sqrt(1000/11.11)+1)*11.11/1000
    assert keep_probabilities(counts, t)[-1] == 1.0
    assert keep_probabilities(counts, 0.0).tolist() == [1.0] * 4


def test_subsample_thresholds_scale_to_32_bits():
    counts = np.array([1000, 100, 10, 1])
    thresholds = subsample_thresholds(counts, 1e-2)
    assert thresholds.dtype == np.uint64
    assert thresholds[-1] == 2**32  # always kept
    assert thresholds[0] == np.floor(keep_probabilities(counts, 1e-2)[0] * 2**32)


def test_noise_distribution_is_unigram_to_the_power():
    prob = noise_distribution(np.array([16, 1]), exponent=0.75)
    np.testing.assert_allclose(prob, np.array([8, 1]) / 9)


@pytest.mark.parametrize("seed", range(4))
def test_alias_table_reproduces_the_distribution(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 300))
    prob = rng.random(size) ** 3
    prob /= prob.sum()
    accept, alias = alias_table(prob)
    assert accept.dtype == np.uint64 and alias.dtype == np.int32
    assert (accept <= 2**32).all() and ((alias >= 0) & (alias < size)).all()
    np.testing.assert_allclose(alias_probabilities(accept, alias), prob, atol=1e-8)


def test_alias_table_of_a_uniform_distribution_never_aliases():
    accept, _ = alias_table(np.full(5, 0.2))
    assert (accept == 2**32).all()


def _huffman_cost(counts):
    """Total weighted code length of an optimal prefix code (heap-based Huffman)."""
    heap = [int(c) for c in counts]
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        cost += merged
        heapq.heappush(heap, merged)
    return cost


@pytest.mark.parametrize("seed", range(5))
def test_huffman_codes_are_prefix_free_optimal_and_shorter_for_frequent_words(seed):
    rng = np.random.default_rng(seed)
    counts = rng.zipf(1.5, size=int(rng.integers(2, 400))).astype(np.int64)
    rng.shuffle(counts)  # the tree must not rely on the caller's order
    tree = huffman_tree(counts)
    size = len(counts)
    codes = ["".join(map(str, tree.code(i))) for i in range(size)]
    lengths = np.array([len(c) for c in codes])
    ordered = sorted(codes)
    assert all(not b.startswith(a) for a, b in zip(ordered, ordered[1:]))  # prefix-free
    assert sum(2.0 ** -lengths) == pytest.approx(1.0)  # a full binary tree
    assert int((lengths * counts).sum()) == _huffman_cost(counts)  # optimal
    by_count = np.argsort(-counts, kind="stable")
    assert (np.diff(lengths[by_count]) >= 0).all()  # more frequent: never longer


def test_huffman_points_index_inner_nodes_root_first():
    counts = np.array([50, 20, 20, 5, 3, 1, 1])
    tree = huffman_tree(counts)
    size = len(counts)
    for i in range(size):
        path = tree.path(i)
        assert path[0] == size - 2  # the root is the last inner node created
        assert all(0 <= p <= size - 2 for p in path)
        assert len(path) == len(tree.code(i))
    # Two words that share a code prefix share the inner nodes along it.
    for i in range(size):
        for j in range(size):
            ci, cj = tree.code(i), tree.code(j)
            common = next((k for k in range(min(len(ci), len(cj))) if ci[k] != cj[k]), None)
            if common is not None:
                assert tree.path(i)[: common + 1] == tree.path(j)[: common + 1]


def test_huffman_matches_the_c_tool_on_a_small_vocabulary():
    # Worked by hand with CreateBinaryTree: counts 5,4,3,2,1 (sorted, words 0..4).
    # a=0: min 1 (w4) + 2 (w3) -> node 5 (3);  a=1: w2 (3) vs node 5 (3): not less, so
    # node 5 first, then w2 -> node 6 (6); a=2: w1 (4) + w0 (5) -> node 7 (9);
    # a=3: node 6 + node 7 -> node 8 (root, 15).
    tree = huffman_tree(np.array([5, 4, 3, 2, 1]))
    assert [tree.code(i) for i in range(5)] == [[1, 1], [1, 0], [0, 1], [0, 0, 1], [0, 0, 0]]
    assert [tree.path(i) for i in range(5)] == [[3, 2], [3, 2], [3, 1], [3, 1, 0], [3, 1, 0]]


def test_huffman_of_one_word_has_empty_paths():
    tree = huffman_tree(np.array([7]))
    assert tree.code(0) == [] and tree.offsets.tolist() == [0, 0]
