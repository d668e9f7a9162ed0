"""Intrinsic evaluation of word vectors: analogy accuracy on the Google questions-words set
(Mikolov et al., 2013) by 3CosAdd or 3CosMul (Levy & Goldberg, 2014), and Spearman/Pearson
correlation with human similarity scores (WordSim-353, SimLex-999), computed in NumPy.

The rules follow gensim's `evaluate_word_analogies` / `evaluate_word_pairs` so that the
numbers are comparable: only the first `restrict_vocab` words are known; a question or
pair with any other word is skipped and counted as OOV; with `case_insensitive` both the
vocabulary and the questions are upper-cased, and a folded word takes the vector of its
first (most frequent) spelling. Questions are answered in batches, one matrix product each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from seqnlp.errors import SeqnlpError, one_of
from seqnlp.fileio import PathLike
from seqnlp.text.evalsets import AnalogyQuestion, WordPair, read_analogies, read_word_pairs
from seqnlp.word2vec.keyedvectors import KeyedVectors

METHODS = ("3cosadd", "3cosmul")
_GENSIM_TOPN = 5  # gensim looks for an answer among the 5 best non-input words only
_BATCH_CELLS = 1 << 23  # questions x candidates scored per matrix product (32 MiB float32)


@dataclass(frozen=True)
class SectionScore:
    """Analogy results of one section (or an aggregate).

    Attributes:
        section: the section name (e.g. "capital-world", "semantic", "total").
        correct: questions answered correctly.
        answered: questions with every word in the vocabulary (the accuracy's denominator).
        oov: questions skipped because a word was out of the vocabulary.
    """

    section: str
    correct: int
    answered: int
    oov: int

    @property
    def accuracy(self) -> float:
        """correct / answered, or 0.0 when nothing was answered (as gensim reports)."""
        return self.correct / self.answered if self.answered else 0.0


@dataclass(frozen=True)
class AnalogyResult:
    """Per-section scores plus semantic (non-`gram*`), syntactic (`gram*`) and total."""

    sections: list[SectionScore]
    semantic: SectionScore
    syntactic: SectionScore
    total: SectionScore
    method: str
    restrict_vocab: int


@dataclass(frozen=True)
class WordPairsResult:
    """Correlation of model cosines with human scores over the in-vocabulary pairs."""

    spearman: float
    pearson: float
    pairs: int
    oov: int

    @property
    def oov_ratio(self) -> float:
        """Share of pairs skipped, in [0, 1]."""
        total = self.pairs + self.oov
        return self.oov / total if total else 0.0


def evaluate_analogies(
    kv: KeyedVectors,
    path: PathLike,
    restrict_vocab: int = 30_000,
    method: str = "3cosadd",
    case_insensitive: bool = True,
) -> AnalogyResult:
    """Analogy accuracy ("a is to b as c is to ?", answer d) per section and in aggregate.

    The answer is the best of the first `restrict_vocab` words, the three question words
    (and, with `case_insensitive`, their other spellings) excluded:
    3CosAdd maximises cos(x, b - a + c); 3CosMul maximises
    s(x, b) s(x, c) / (s(x, a) + 1e-6) with s = (1 + cos) / 2.

    Args:
        kv: the word vectors, most frequent first.
        path: an analogy file (`: section` headers, then `a b c d` lines).
        restrict_vocab: vocabulary size for questions and candidate answers.
        method: "3cosadd" or "3cosmul".
        case_insensitive: compare words upper-cased, as gensim does by default.

    Returns:
        An `AnalogyResult`.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {one_of(METHODS)}, got {method!r}")
    if restrict_vocab < 1:
        raise ValueError(f"restrict_vocab must be >= 1, got {restrict_vocab}")
    ok_vocab, canonical = _restricted_vocab(kv, restrict_vocab, case_insensitive)
    fold = str.upper if case_insensitive else _identity
    questions = list(read_analogies(path))
    ids = np.array(
        [[ok_vocab.get(fold(w), -1) for w in (q.a, q.b, q.c, q.d)] for q in questions],
        dtype=np.int64,
    ).reshape(-1, 4)  # (N, 4): a, b, c, d rows, -1 where out of vocabulary
    known = (ids >= 0).all(axis=1)
    correct = np.zeros(len(questions), dtype=bool)
    normed = kv.get_normed_vectors()[: len(canonical)]
    correct[known] = _solve(normed, canonical, ids[known], method)
    return _tally(questions, known, correct, method, restrict_vocab)


def _identity(word: str) -> str:
    return word


def _restricted_vocab(
    kv: KeyedVectors, restrict_vocab: int, case_insensitive: bool
) -> tuple[dict[str, int], np.ndarray]:
    """The known words and, per row, the row of its first spelling (its canonical id)."""
    keys = kv.index_to_key[:restrict_vocab]
    fold = str.upper if case_insensitive else _identity
    ok_vocab: dict[str, int] = {}
    for index, key in enumerate(keys):
        ok_vocab.setdefault(fold(key), index)  # the first (most frequent) spelling wins
    canonical = np.array([ok_vocab[fold(key)] for key in keys], dtype=np.int64)  # (R,)
    return ok_vocab, canonical


def _solve(normed: np.ndarray, canonical: np.ndarray, ids: np.ndarray, method: str) -> np.ndarray:
    """Whether each question (N, 4) is answered correctly, in batches of one matmul each."""
    spellings = _other_spellings(canonical)
    batch = max(1, _BATCH_CELLS // max(1, len(normed)))
    results = [
        _solve_batch(normed, canonical, spellings, ids[start : start + batch], method)
        for start in range(0, len(ids), batch)
    ]
    return np.concatenate(results) if results else np.zeros(0, dtype=bool)


def _other_spellings(canonical: np.ndarray) -> np.ndarray:
    """(R, M) table: row i lists the other spellings of canonical word i, padded with -1.

    With case folding, "Paris" and "paris" share the canonical id of the first one; the
    other spellings of a question word are never accepted as its answer.
    """
    size = len(canonical)
    extra = np.flatnonzero(canonical != np.arange(size))  # rows that are not canonical
    owners = canonical[extra]
    order = np.argsort(owners, kind="stable")
    extra, owners = extra[order], owners[order]
    counts = np.bincount(owners, minlength=size)
    table = np.full((size, int(counts.max(initial=0))), -1, dtype=np.int64)
    table[owners, np.arange(len(extra)) - (np.cumsum(counts) - counts)[owners]] = extra
    return table


def _analogy_scores(normed: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray,
                    method: str) -> np.ndarray:
    """(B, R) score of every candidate for each question (a, b, c), by 3CosAdd or 3CosMul."""
    if method == "3cosadd":
        query = normed[b] + normed[c] - normed[a]  # (B, E); gensim's mean, up to scale
        norms = np.linalg.norm(query, axis=1, keepdims=True)
        query = np.divide(query, norms, out=np.zeros_like(query), where=norms > 0)
        return query @ normed.T
    scores = _shifted_cosine(normed, b)  # s(x, b) s(x, c) / (s(x, a) + 1e-6), in place
    scores *= _shifted_cosine(normed, c)
    denominator = _shifted_cosine(normed, a)
    denominator += 1e-6
    scores /= denominator
    return scores


def _shifted_cosine(normed: np.ndarray, rows: np.ndarray) -> np.ndarray:
    shifted = normed[rows] @ normed.T  # (B, R)
    shifted += 1.0
    shifted *= 0.5
    return shifted


def _solve_batch(
    normed: np.ndarray, canonical: np.ndarray, spellings: np.ndarray, ids: np.ndarray,
    method: str,
) -> np.ndarray:
    """Answer a batch: the best candidate that is no spelling of a question word.

    That is gensim's answer unless 5 or more other spellings of the question words rank
    above it (gensim only looks at its 5 best non-input words), or two question words
    coincide; those rare questions take the slow, exact path.
    """
    a, b, c, d = (ids[:, i] for i in range(4))
    scores = _analogy_scores(normed, a, b, c, method)  # (B, R)
    rows = np.arange(len(ids))[:, None]
    inputs = np.stack([a, b, c], axis=1)  # (B, 3)
    scores[rows, inputs] = -np.inf  # the query words are never answers
    variants = spellings[inputs].reshape(len(ids), -1)  # (B, 3M), -1 padded
    variants = np.where(variants >= 0, variants, a[:, None])  # padding -> an input (-inf)
    variant_scores = scores[rows, variants]  # (B, 3M)
    scores[rows, variants] = -np.inf
    best = scores.argmax(axis=1)
    best_score = scores[rows[:, 0], best]
    beaten = (variant_scores > best_score[:, None]).sum(axis=1)
    distinct = (a != b) & (b != c) & (a != c)
    answer = canonical[best]
    slow = ~((beaten < _GENSIM_TOPN) & np.isfinite(best_score) & distinct)
    if slow.any():
        scores[rows, variants] = variant_scores  # back to scores with spellings
        answer[slow] = _first_allowed_answer(scores[slow], canonical, inputs[slow])
    return answer == d


def _first_allowed_answer(
    scores: np.ndarray, canonical: np.ndarray, inputs: np.ndarray
) -> np.ndarray:
    """The canonical id of each question's answer, following gensim's selection.

    Among the 5 best candidates (question words removed), the answer is the first whose
    folded spelling is not a question word; if all 5 are, gensim keeps the last one.
    """
    k = min(_GENSIM_TOPN, scores.shape[1])
    top = np.argpartition(scores, -k, axis=1)[:, -k:]  # (B, k), unordered
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)  # (B, k), best first
    present = np.isfinite(np.take_along_axis(scores, top, axis=1))  # (B, k)
    spelling = canonical[top]  # (B, k)
    allowed = present & (spelling[:, :, None] != inputs[:, None, :]).all(axis=2)
    last_present = np.maximum(present.sum(axis=1) - 1, 0)
    position = np.where(allowed.any(axis=1), allowed.argmax(axis=1), last_present)
    answer = spelling[np.arange(len(top)), position]
    return np.where(present.any(axis=1), answer, -1)


def _tally(
    questions: list[AnalogyQuestion],
    known: np.ndarray,
    correct: np.ndarray,
    method: str,
    restrict_vocab: int,
) -> AnalogyResult:
    names = list(dict.fromkeys(q.section for q in questions))  # file order
    section_of = np.array([names.index(q.section) for q in questions], dtype=np.int64)
    sections = [_score(name, section_of == i, known, correct) for i, name in enumerate(names)]
    is_syntactic = np.array([names[s].startswith("gram") for s in section_of], dtype=bool)
    everything = np.ones(len(questions), dtype=bool)
    return AnalogyResult(
        sections=sections,
        semantic=_score("semantic", ~is_syntactic, known, correct),
        syntactic=_score("syntactic", is_syntactic, known, correct),
        total=_score("total", everything, known, correct),
        method=method,
        restrict_vocab=restrict_vocab,
    )


def _score(name: str, member: np.ndarray, known: np.ndarray, correct: np.ndarray) -> SectionScore:
    return SectionScore(
        section=name,
        correct=int((member & known & correct).sum()),
        answered=int((member & known).sum()),
        oov=int((member & ~known).sum()),
    )


def evaluate_word_pairs(
    kv: KeyedVectors,
    path: PathLike,
    restrict_vocab: int = 300_000,
    case_insensitive: bool = True,
) -> WordPairsResult:
    """Spearman and Pearson correlation between cosine similarity and human scores.

    Args:
        kv: the word vectors, most frequent first.
        path: `word1<TAB>word2<TAB>score` lines, `#` comments allowed.
        restrict_vocab: only the first N words are known (gensim's default, 300,000).
        case_insensitive: compare words upper-cased, as gensim does by default.

    Returns:
        A `WordPairsResult`; pairs with an unknown word are skipped and counted in `oov`.

    Raises:
        SeqnlpError: fewer than 2 pairs are in the vocabulary, or a correlation that is
            undefined because every known pair has the same human score (or the same
            cosine): a NaN would be printed as if it were a result.
    """
    ok_vocab, _ = _restricted_vocab(kv, restrict_vocab, case_insensitive)
    fold = str.upper if case_insensitive else _identity
    gold, left, right, oov = _known_pairs(read_word_pairs(path), ok_vocab, fold)
    if len(gold) < 2:
        raise SeqnlpError(
            f"{path}: only {len(gold)} of {len(gold) + oov} pairs are in the vocabulary; "
            "a correlation needs at least 2"
        )
    normed = kv.get_normed_vectors()
    model = np.einsum("ij,ij->i", normed[left], normed[right])  # (P,) cosines
    for values, what in ((gold, "human score"), (model, "cosine similarity")):
        if np.all(values == values[0]):
            raise SeqnlpError(
                f"{path}: all {len(gold)} pairs in the vocabulary have the same {what} "
                f"({values[0]:g}), so no correlation can be computed"
            )
    return WordPairsResult(
        spearman=spearman(gold, model),
        pearson=pearson(gold, model),
        pairs=len(gold),
        oov=oov,
    )


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's r of two equal-length samples (NaN when either is constant).

    Computed as scipy.stats.pearsonr does: centre, scale each to unit norm, take the dot
    product, clip to [-1, 1].
    """
    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    y = np.asarray(y, dtype=np.float64) - np.mean(y)
    norm_x, norm_y = np.linalg.norm(x), np.linalg.norm(y)
    if norm_x == 0 or norm_y == 0:
        return float("nan")
    return float(np.clip(np.dot(x / norm_x, y / norm_y), -1.0, 1.0))


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho: Pearson's r of the ranks, tied values sharing their mean rank."""
    return pearson(average_ranks(x), average_ranks(y))


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of `values`, each run of equal values given the mean of its ranks."""
    values = np.asarray(values)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])  # first of each run
    ends = np.r_[starts[1:], len(values)]
    run_of = np.repeat(np.arange(len(starts)), ends - starts)  # run index of sorted position
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = ((starts + ends + 1) / 2)[run_of]
    return ranks


def _known_pairs(
    pairs: Iterable[WordPair], ok_vocab: dict[str, int], fold: Callable[[str], str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    gold, left, right, oov = [], [], [], 0
    for pair in pairs:
        i, j = ok_vocab.get(fold(pair.word1), -1), ok_vocab.get(fold(pair.word2), -1)
        if i < 0 or j < 0:
            oov += 1
            continue
        gold.append(pair.score)
        left.append(i)
        right.append(j)
    return np.array(gold), np.array(left, np.int64), np.array(right, np.int64), oov
