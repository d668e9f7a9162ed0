"""Analogy accuracy and word-pair correlations: equal to gensim's on the same vectors, on the
real questions-words / WordSim-353 / SimLex-999 files."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest

from seqnlp.embeddings import evaluate as evaluate_module
from seqnlp.embeddings import evaluate_analogies, evaluate_word_pairs
from seqnlp.errors import SeqnlpError
from seqnlp.text.evalsets import read_analogies, read_word_pairs
from seqnlp.word2vec import KeyedVectors
from tests.conftest import shared_file

SEMANTIC = ["capital-common-countries", "capital-world", "currency", "city-in-state", "family"]


@pytest.fixture(scope="module")
def questions_path():
    return shared_file("wordsim", "questions-words.txt")


@pytest.fixture(scope="module")
def gensim_kv():
    return pytest.importorskip("gensim.models.keyedvectors").KeyedVectors


def planted_vectors(path, seed: int = 0, size: int = 32, noise: float = 1.2) -> KeyedVectors:
    """Vectors where most analogies hold up to noise: y = x + offset(section) + noise.

    Lower-case words, shuffled; every 7th word also gets a capitalised spelling with a
    random vector (sometimes before it, sometimes after), and every 5th a filler word, so
    that case folding and restrict_vocab both matter.
    """
    rng = np.random.default_rng(seed)
    vectors: dict[str, np.ndarray] = {}
    offsets: dict[str, np.ndarray] = {}
    for q in read_analogies(path):
        offset = offsets.setdefault(q.section, rng.standard_normal(size))
        for x, y in ((q.a.lower(), q.b.lower()), (q.c.lower(), q.d.lower())):
            vectors.setdefault(x, rng.standard_normal(size))
            vectors.setdefault(y, vectors[x] + offset + noise * rng.standard_normal(size))
    words = sorted(vectors)
    rng.shuffle(words)
    keys: list[str] = []
    rows: list[np.ndarray] = []
    for i, word in enumerate(words):
        other = word.capitalize() if word.capitalize() != word else word.upper()
        entries = [(word, vectors[word])]
        if i % 7 == 0:
            entries.insert(0 if i % 14 == 0 else 1, (other, rng.standard_normal(size)))
        if i % 5 == 0:
            entries.append((f"filler{i}", rng.standard_normal(size)))
        for key, row in entries:
            keys.append(key)
            rows.append(row)
    return KeyedVectors(np.array(rows, np.float32), keys)


@pytest.fixture(scope="module")
def planted(questions_path) -> KeyedVectors:
    return planted_vectors(questions_path)


def to_gensim(gensim_kv, kv: KeyedVectors):
    reference = gensim_kv(kv.vector_size)
    reference.add_vectors(kv.index_to_key, kv.vectors.copy())
    return reference


def gensim_sections(sections: list[dict]) -> list[tuple[str, int, int]]:
    return [(s["section"], len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in sections]


def our_sections(result) -> list[tuple[str, int, int]]:
    rows = [(s.section, s.correct, s.answered) for s in result.sections]
    return rows + [("Total accuracy", result.total.correct, result.total.answered)]


@pytest.mark.parametrize("restrict_vocab", [300, 800, 100_000])
@pytest.mark.parametrize("case_insensitive", [True, False])
def test_3cosadd_accuracy_equals_gensim_section_by_section(
    planted, questions_path, gensim_kv, restrict_vocab, case_insensitive, caplog
) -> None:
    ours = evaluate_analogies(
        planted, questions_path, restrict_vocab=restrict_vocab, case_insensitive=case_insensitive
    )
    with caplog.at_level(logging.WARNING):
        score, sections = to_gensim(gensim_kv, planted).evaluate_word_analogies(
            str(questions_path), restrict_vocab=restrict_vocab, case_insensitive=case_insensitive
        )
    assert our_sections(ours) == gensim_sections(sections)
    assert ours.total.accuracy == score
    assert 0 < ours.total.correct < ours.total.answered  # a real mix of right and wrong


def test_planted_set_is_a_meaningful_reference(planted, questions_path) -> None:
    result = evaluate_analogies(planted, questions_path, restrict_vocab=100_000)
    assert result.total.oov == 0 and result.total.answered == 19_544
    assert 0.2 < result.total.accuracy < 0.9


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # gensim calls its own init_sims
def test_3cosmul_accuracy_equals_gensim_most_similar_cosmul(
    planted, questions_path, gensim_kv
) -> None:
    reference = to_gensim(gensim_kv, planted)
    expected_correct = expected_answered = 0
    for q in read_analogies(questions_path):
        if not all(w in planted for w in (q.a, q.b, q.c, q.d)):
            continue
        expected_answered += 1
        best = reference.most_similar_cosmul(positive=[q.b, q.c], negative=[q.a], topn=1)
        expected_correct += best[0][0] == q.d
    ours = evaluate_analogies(
        planted, questions_path, restrict_vocab=len(planted), method="3cosmul", case_insensitive=False
    )
    assert (ours.total.correct, ours.total.answered) == (expected_correct, expected_answered)
    assert expected_correct > 0


def test_batches_do_not_change_the_answers(planted, questions_path, monkeypatch) -> None:
    whole = evaluate_analogies(planted, questions_path, restrict_vocab=100_000, method="3cosmul")
    monkeypatch.setattr(evaluate_module, "_BATCH_CELLS", 7 * len(planted))  # 7 questions a batch
    small = evaluate_analogies(planted, questions_path, restrict_vocab=100_000, method="3cosmul")
    assert small == whole


def write_questions(tmp_path, lines: list[str]):
    path = tmp_path / "questions.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_many_spellings_of_a_question_word_follow_gensims_top5_rule(
    tmp_path, gensim_kv, monkeypatch
) -> None:
    """Six spellings of 'paris' crowd gensim's 5 candidates, so gensim misses 'rome'."""
    rng = np.random.default_rng(3)
    base = {w: rng.standard_normal(8) for w in ("france", "paris", "italy", "spain")}
    target = base["italy"] - base["france"] + base["paris"]
    base["rome"] = target + 0.3 * rng.standard_normal(8)
    keys = list(base) + ["Paris", "PARIS", "PAris", "PARis", "pARIS", "PaRiS"]
    rows = list(base.values()) + [target + 0.01 * rng.standard_normal(8) for _ in range(6)]
    kv = KeyedVectors(np.array(rows, np.float32), keys)
    path = write_questions(tmp_path, [": s", "france paris italy rome", "italy rome france paris"])
    slow_rows = []
    exact = evaluate_module._first_allowed_answer
    monkeypatch.setattr(
        evaluate_module, "_first_allowed_answer",
        lambda scores, *rest: slow_rows.append(len(scores)) or exact(scores, *rest),
    )
    ours = evaluate_analogies(kv, path)
    _, sections = to_gensim(gensim_kv, kv).evaluate_word_analogies(str(path))
    assert our_sections(ours) == gensim_sections(sections)
    assert (ours.total.correct, ours.total.answered) == (1, 2)  # the first one is missed
    assert slow_rows == [1]  # only the crowded question took the exact path


def test_real_file_sections_and_semantic_syntactic_split(questions_path) -> None:
    words = sorted({w.lower() for q in read_analogies(questions_path) for w in (q.a, q.b, q.c, q.d)})
    rng = np.random.default_rng(0)
    kv = KeyedVectors(rng.standard_normal((len(words), 8)).astype(np.float32), words)
    result = evaluate_analogies(kv, questions_path, restrict_vocab=len(words))
    assert len(result.sections) == 14
    assert [s.section for s in result.sections[:5]] == SEMANTIC
    assert all(s.section.startswith("gram") for s in result.sections[5:])
    assert (result.semantic.answered, result.syntactic.answered) == (8_869, 10_675)
    assert result.total.answered == 19_544 and result.total.oov == 0
    assert result.total.correct == result.semantic.correct + result.syntactic.correct


def test_unknown_words_are_counted_not_answered(questions_path) -> None:
    kv = KeyedVectors(np.eye(4, dtype=np.float32), ["athens", "greece", "baghdad", "iraq"])
    result = evaluate_analogies(kv, questions_path)
    # "Athens Greece Baghdad Iraq" and its mirror in the first section, once more in the second
    assert [s.answered for s in result.sections[:3]] == [2, 1, 0]
    assert (result.total.answered, result.total.oov) == (3, 19_541)


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_answer_excludes_the_question_words(tmp_path, method) -> None:
    # d == c would win, but c is a question word: the next best (e) is the answer
    vectors = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.1, 0.9, 0.9]], np.float32)
    kv = KeyedVectors(vectors, ["a", "b", "c", "e"])
    path = write_questions(tmp_path, [": s", "a b c e"])
    assert evaluate_analogies(kv, path, method=method).total.correct == 1


def test_bad_arguments_are_refused(planted, questions_path) -> None:
    with pytest.raises(ValueError, match="method"):
        evaluate_analogies(planted, questions_path, method="3cosmax")
    with pytest.raises(ValueError, match="restrict_vocab"):
        evaluate_analogies(planted, questions_path, restrict_vocab=0)


# ----------------------------------------------------------------------------- word pairs


def pair_vectors(path, seed: int = 1, keep: float = 0.8) -> KeyedVectors:
    words = sorted({w for p in read_word_pairs(path) for w in (p.word1, p.word2)})
    rng = np.random.default_rng(seed)
    kept = [w for w in words if rng.random() < keep]
    kept += [w.upper() for w in kept[::9]]  # other spellings, after the first
    return KeyedVectors(rng.standard_normal((len(kept), 16)).astype(np.float32), kept)


@pytest.mark.parametrize("name, total", [("wordsim353.tsv", 353), ("simlex999.txt", 999)])
@pytest.mark.parametrize("restrict_vocab", [150, 300_000])
@pytest.mark.parametrize("case_insensitive", [True, False])
def test_word_pair_correlations_equal_gensim(
    gensim_kv, name, total, restrict_vocab, case_insensitive, caplog
) -> None:
    path = shared_file("wordsim", name)
    kv = pair_vectors(path)
    ours = evaluate_word_pairs(kv, path, restrict_vocab=restrict_vocab, case_insensitive=case_insensitive)
    with caplog.at_level(logging.WARNING):
        pearson, spearman, oov_ratio = to_gensim(gensim_kv, kv).evaluate_word_pairs(
            str(path), restrict_vocab=restrict_vocab, case_insensitive=case_insensitive
        )
    assert ours.spearman == pytest.approx(spearman.statistic, abs=1e-6)
    assert ours.pearson == pytest.approx(pearson.statistic, abs=1e-6)
    assert 100 * ours.oov_ratio == pytest.approx(oov_ratio, abs=1e-9)
    assert ours.pairs + ours.oov == total and ours.oov > 0


def test_identical_vectors_correlate_perfectly_with_their_own_cosines(tmp_path) -> None:
    rng = np.random.default_rng(0)
    kv = KeyedVectors(rng.standard_normal((6, 4)).astype(np.float32), list("abcdef"))
    pairs = [("a", "b"), ("c", "d"), ("a", "e"), ("f", "b"), ("zz", "a")]
    lines = ["# comment"] + [f"{x}\t{y}\t{kv.similarity(x, y) if y in kv and x in kv else 0}" for x, y in pairs]
    path = tmp_path / "pairs.tsv"
    path.write_text("\n".join(lines) + "\n")
    result = evaluate_word_pairs(kv, path)
    assert result.spearman == pytest.approx(1.0) and result.pearson == pytest.approx(1.0)
    assert (result.pairs, result.oov) == (4, 1)


@pytest.mark.parametrize(("values", "ranks"), [
    ([3.0, 1.0, 2.0], [3, 1, 2]),
    ([5, 5, 1, 5], [3, 3, 1, 3]),
    ([2.0, 1.0, 2.0, 1.0, 0.5], [4.5, 2.5, 4.5, 2.5, 1]),
    ([7], [1]),
])
def test_tied_values_share_their_mean_rank(values, ranks) -> None:
    assert evaluate_module.average_ranks(np.array(values)).tolist() == ranks


def test_spearman_of_a_monotone_map_is_one_and_constant_input_is_nan() -> None:
    x = np.array([0.1, 0.5, 0.2, 0.9, 0.3])
    assert evaluate_module.spearman(x, np.exp(3 * x)) == pytest.approx(1.0)
    assert evaluate_module.spearman(x, -x) == pytest.approx(-1.0)
    assert np.isnan(evaluate_module.pearson(x, np.ones(5)))


@pytest.mark.parametrize("seed", range(5))
def test_correlations_equal_scipys_on_random_data_with_ties(seed: int) -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 300))
    gold = rng.integers(0, 10, n).astype(np.float64) / 2  # human scores: many ties
    model = np.round(gold + rng.standard_normal(n), 1)  # cosines, some ties
    assert evaluate_module.spearman(gold, model) == pytest.approx(
        stats.spearmanr(gold, model).statistic, abs=1e-12)
    assert evaluate_module.pearson(gold, model) == pytest.approx(
        stats.pearsonr(gold, model).statistic, abs=1e-12)


def test_too_few_known_pairs_is_an_error(tmp_path) -> None:
    kv = KeyedVectors(np.eye(2, dtype=np.float32), ["a", "b"])
    path = tmp_path / "pairs.tsv"
    path.write_text("a\tb\t1.0\nx\ty\t2.0\n")
    with pytest.raises(SeqnlpError, match="only 1 of 2 pairs"):
        evaluate_word_pairs(kv, path)


@pytest.mark.parametrize(("vectors", "scores", "what"), [
    (np.eye(3, dtype=np.float32), (2.0, 7.0), "cosine similarity (0)"),
    (np.array([[1, 0], [1, 1], [0, 1]], np.float32), (5.0, 5.0), "human score (5)"),
])
def test_an_undefined_correlation_is_an_error_not_nan(tmp_path, vectors, scores, what) -> None:
    kv = KeyedVectors(vectors, ["a", "b", "c"])
    path = tmp_path / "pairs.tsv"
    path.write_text(f"a\tb\t{scores[0]}\nb\tc\t{scores[1]}\n")
    with pytest.raises(SeqnlpError, match=rf"all 2 pairs .* same {re.escape(what)}, so no"):
        evaluate_word_pairs(kv, path)
