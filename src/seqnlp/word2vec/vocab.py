"""The word2vec vocabulary and the tables built from its counts (Mikolov et al., 2013).

Word counting prunes rare words while it counts when the vocabulary grows past a limit
(the C tool's ReduceVocab). From the final counts come the subsampling thresholds, the
noise distribution of negative sampling (unigram^0.75, drawn in O(1) from an alias table,
Walker 1977 / Vose 1991) and the Huffman tree of hierarchical softmax (Morin and Bengio,
2005; built as in the C tool's CreateBinaryTree).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# Subsampling and noise draws compare a uniform 32-bit integer with these thresholds.
_TWO_32 = 2**32


@dataclass(frozen=True)
class WordCounts:
    """What one counting pass over a corpus found.

    Attributes:
        counts: word -> occurrences (after any pruning).
        total_words: every token seen, pruned and rare words included.
        num_sentences: sentences seen.
        min_reduce: counts below this were pruned at some point (1: nothing pruned).
    """

    counts: dict[str, int]
    total_words: int
    num_sentences: int
    min_reduce: int = 1


def count_words(
    sentences: Iterable[list[str]], max_vocab_size: int | None = None
) -> WordCounts:
    """Count the words of `sentences`, pruning the rarest when too many are held.

    Whenever more than `max_vocab_size` distinct words are held (checked after each
    sentence), every word counted fewer than `min_reduce` times is dropped and
    `min_reduce` grows by one, as the C tool's ReduceVocab does (`min_reduce` starts at 1,
    so the first pruning drops the words seen once). A pruned word that comes back
    starts counting again from zero, so pruned counts are lower bounds.

    Args:
        sentences: token lists.
        max_vocab_size: the most distinct words held while counting; None never prunes.

    Returns:
        The counts, the number of tokens and sentences, and the final pruning level.
    """
    counts: Counter[str] = Counter()
    total = 0
    num_sentences = 0
    min_reduce = 1
    for sentence in sentences:
        counts.update(sentence)
        total += len(sentence)
        num_sentences += 1
        if max_vocab_size is not None and len(counts) > max_vocab_size:
            counts = Counter({w: c for w, c in counts.items() if c > min_reduce})
            min_reduce += 1
    return WordCounts(dict(counts), total, num_sentences, min_reduce)


class Word2VecVocab:
    """The words kept for training, most frequent first (ties as gensim orders them).

    Attributes:
        index_to_key: the words; row i of the vectors belongs to `index_to_key[i]`.
        key_to_index: the inverse mapping.
        counts: (V,) int64 corpus counts of the kept words.
        total_words: every token of the corpus, dropped words included.
        num_sentences: sentences in the corpus.
    """

    def __init__(
        self, index_to_key: list[str], counts: np.ndarray, total_words: int, num_sentences: int
    ) -> None:
        if len(index_to_key) != len(counts):
            raise ValueError(f"{len(index_to_key)} words but {len(counts)} counts")
        self.index_to_key = list(index_to_key)
        self.key_to_index = {word: i for i, word in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            raise ValueError("index_to_key holds a word twice")
        self.counts = np.asarray(counts, dtype=np.int64)
        self.total_words = int(total_words)
        self.num_sentences = int(num_sentences)

    @classmethod
    def from_counts(cls, found: WordCounts, min_count: int) -> Word2VecVocab:
        """Keep the words counted at least `min_count` times, most frequent first.

        Ties are ordered as gensim 4 orders them: the word that appeared first comes last.
        Both tools then build the same vocabulary, and an evaluation restricted to the first
        N words asks both the same questions.
        """
        words = [w for w, c in found.counts.items() if c >= min_count]
        counts = np.array([found.counts[w] for w in words], dtype=np.int64)
        order = np.lexsort((-np.arange(len(words)), -counts))
        return cls([words[i] for i in order], counts[order], found.total_words,
                   found.num_sentences)

    def __len__(self) -> int:
        return len(self.index_to_key)

    @property
    def retained_words(self) -> int:
        """Tokens of the corpus that belong to the vocabulary (one epoch's training words)."""
        return int(self.counts.sum())

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict; `from_dict` rebuilds the vocabulary."""
        return {
            "index_to_key": self.index_to_key,
            "counts": self.counts.tolist(),
            "total_words": self.total_words,
            "num_sentences": self.num_sentences,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Word2VecVocab:
        """Rebuild a vocabulary saved with `to_dict`."""
        return cls(
            list(data["index_to_key"]),  # type: ignore[call-overload]
            np.asarray(data["counts"], dtype=np.int64),
            int(data["total_words"]),  # type: ignore[call-overload]
            int(data["num_sentences"]),  # type: ignore[call-overload]
        )


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """Probability of keeping each occurrence of a word under subsampling.

    With f a word's count, T the sum of all counts and t = sample, a word is kept with
    probability (sqrt(f / (t*T)) + 1) * (t*T) / f, capped at 1 (the formula of the C tool;
    Mikolov et al. write 1 - sqrt(t / freq)). `sample` 0 keeps everything.

    Args:
        counts: (V,) word counts.
        sample: the threshold t.

    Returns:
        (V,) float64 probabilities in (0, 1].
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones_like(counts)
    threshold = sample * counts.sum()
    prob = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
    return np.minimum(prob, 1.0)


def subsample_thresholds(counts: np.ndarray, sample: float) -> np.ndarray:
    """`keep_probabilities` as uint64 thresholds: keep when a uniform 32-bit draw is below.

    A probability of 1 becomes 2**32, above every 32-bit draw.
    """
    prob = keep_probabilities(counts, sample)
    return np.minimum(np.floor(prob * _TWO_32), _TWO_32).astype(np.uint64)


def noise_distribution(counts: np.ndarray, exponent: float = 0.75) -> np.ndarray:
    """The noise distribution of negative sampling: counts**exponent, normalised. (V,)"""
    weights = np.asarray(counts, dtype=np.float64) ** exponent
    return weights / weights.sum()


def alias_table(prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias table, to draw from a discrete distribution in O(1).

    A draw picks a bucket i uniformly, then returns i if a uniform 32-bit integer is
    below `accept[i]`, else `alias[i]`.

    Args:
        prob: (V,) probabilities summing to 1.

    Returns:
        accept: (V,) uint64 thresholds in [0, 2**32]; alias: (V,) int32 bucket partners.
    """
    size = len(prob)
    scaled = np.asarray(prob, dtype=np.float64) * size
    accept = np.ones(size, dtype=np.float64)
    alias = np.arange(size, dtype=np.int32)
    small = [i for i in range(size) if scaled[i] < 1.0]
    large = [i for i in range(size) if scaled[i] >= 1.0]
    while small and large:
        low, high = small.pop(), large[-1]
        accept[low] = scaled[low]
        alias[low] = high
        scaled[high] -= 1.0 - scaled[low]
        if scaled[high] < 1.0:
            small.append(large.pop())
    # Whatever is left holds probability 1 up to rounding; it keeps itself.
    thresholds = np.minimum(np.floor(accept * _TWO_32), _TWO_32).astype(np.uint64)
    return thresholds, alias


def alias_probabilities(accept: np.ndarray, alias: np.ndarray) -> np.ndarray:
    """The distribution an alias table draws from (for tests and checks). (V,)"""
    size = len(accept)
    keep = accept.astype(np.float64) / _TWO_32
    prob = keep.copy()
    np.add.at(prob, alias, 1.0 - keep)
    return prob / size


@dataclass(frozen=True)
class HuffmanTree:
    """Codes and paths of a Huffman tree over the vocabulary, in flat (CSR) arrays.

    Word i's path from the root runs over `offsets[i]:offsets[i+1]`: `points` there are
    the inner nodes visited (0..V-2, the root is V-2; row p of `w_out` belongs to inner
    node p) and `codes` the branch taken at each (0 or 1). Frequent words get short codes.

    Attributes:
        codes: (N,) uint8 branch bits, root first.
        points: (N,) int32 inner-node indices, root first.
        offsets: (V+1,) int64 start of each word's path.
    """

    codes: np.ndarray
    points: np.ndarray
    offsets: np.ndarray

    def code(self, index: int) -> list[int]:
        """The code of word `index`, root first."""
        lo, hi = self.offsets[index], self.offsets[index + 1]
        return self.codes[lo:hi].tolist()

    def path(self, index: int) -> list[int]:
        """The inner nodes from the root to word `index`."""
        lo, hi = self.offsets[index], self.offsets[index + 1]
        return self.points[lo:hi].tolist()


def huffman_tree(counts: np.ndarray) -> HuffmanTree:
    """Build the Huffman tree of `counts` as the C tool's CreateBinaryTree does.

    Nodes 0..V-1 are the words and V..2V-2 the inner nodes in order of creation; each
    step merges the two lightest nodes, the lighter taking code 0 and the other code 1.
    Inner node V+a is reported as point a, so the root is point V-2.

    Args:
        counts: (V,) word counts, in any order.

    Returns:
        The codes and paths of every word (a one-word vocabulary has empty paths).
    """
    counts = np.asarray(counts, dtype=np.int64)
    size = len(counts)
    if size == 0:
        raise ValueError("cannot build a Huffman tree over an empty vocabulary")
    parent, branch = _merge_lightest(counts)
    depth = np.zeros(2 * size - 1, dtype=np.int64)
    for node in range(2 * size - 3, -1, -1):  # parents are created after their children
        depth[node] = depth[parent[node]] + 1
    offsets = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(depth[:size], out=offsets[1:])
    codes = np.empty(offsets[-1], dtype=np.uint8)
    points = np.empty(offsets[-1], dtype=np.int32)
    # Walk all words up to the root together, filling each path from its end.
    node = np.arange(size)
    pos = offsets[1:] - 1
    active = depth[:size] > 0
    while active.any():
        node, pos = node[active], pos[active]
        codes[pos] = branch[node]
        points[pos] = parent[node] - size
        node, pos = parent[node], pos - 1
        active = node != 2 * size - 2
    return HuffmanTree(codes, points, offsets)


def _merge_lightest(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parent and branch bit of every node; words are taken lightest first."""
    size = len(counts)
    order = np.argsort(-counts, kind="stable")  # heaviest first, as the C tool's vocab
    weight = np.concatenate([counts[order], np.zeros(max(size - 1, 0), np.int64)]).tolist()
    parent = [0] * (2 * size - 1)
    branch = [0] * (2 * size - 1)
    leaf, inner = size - 1, size  # the lightest unused word; the lightest unused inner node
    for a in range(size - 1):
        picked = []
        for _ in range(2):
            if leaf >= 0 and (inner >= size + a or weight[leaf] < weight[inner]):
                picked.append(leaf)
                leaf -= 1
            else:
                picked.append(inner)
                inner += 1
        weight[size + a] = weight[picked[0]] + weight[picked[1]]
        parent[picked[0]] = parent[picked[1]] = size + a
        branch[picked[1]] = 1
    # Map sorted positions back to the caller's word order.
    node_of_word = np.empty(2 * size - 1, dtype=np.int64)
    node_of_word[:size] = order
    node_of_word[size:] = np.arange(size, 2 * size - 1)
    parent_arr, branch_arr = np.array(parent), np.array(branch, dtype=np.uint8)
    # Inner nodes keep their ids; word node order[k] sits at sorted position k.
    out_parent = np.empty(2 * size - 1, dtype=np.int64)
    out_branch = np.empty(2 * size - 1, dtype=np.uint8)
    out_parent[node_of_word] = parent_arr
    out_branch[node_of_word] = branch_arr
    return out_parent, out_branch
