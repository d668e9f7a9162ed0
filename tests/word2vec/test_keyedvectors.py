"""KeyedVectors queries against gensim's on the same vectors, and the cache and error rules."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from seqnlp.errors import SeqnlpError
from seqnlp.word2vec import KeyedVectors, OutOfVocabularyError
from seqnlp.word2vec.keyedvectors import top_indices


def random_kv(num_words: int = 300, size: int = 16, seed: int = 0) -> KeyedVectors:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((num_words, size)).astype(np.float32)
    return KeyedVectors(vectors, [f"w{i}" for i in range(num_words)])


@pytest.fixture(scope="module")
def pair() -> tuple[KeyedVectors, object]:
    """Our vectors and gensim's KeyedVectors holding the very same matrix."""
    gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
    kv = random_kv()
    reference = gensim_kv.KeyedVectors(kv.vector_size)
    reference.add_vectors(kv.index_to_key, kv.vectors.copy())
    return kv, reference


def assert_same_ranking(ours: list, theirs: list) -> None:
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)


QUERIES = [
    dict(positive=["w1"]),
    dict(positive=["w1", "w2"], negative=["w3"]),
    dict(positive=["w4", "w5", "w6"], negative=["w7", "w8"]),
    dict(positive=[("w1", 0.5), "w9"], negative=[("w3", -2.0)]),
    dict(positive="w10", negative="w11"),
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("restrict_vocab", [None, 100])
def test_most_similar_equals_gensim(pair, query, restrict_vocab) -> None:
    kv, reference = pair
    ours = kv.most_similar(**query, topn=15, restrict_vocab=restrict_vocab)
    theirs = reference.most_similar(**query, topn=15, restrict_vocab=restrict_vocab)
    assert_same_ranking(ours, theirs)


def test_most_similar_accepts_a_vector_as_positive(pair) -> None:
    kv, reference = pair
    vector = kv["w12"] * 3.0 + kv["w13"]
    assert_same_ranking(
        kv.most_similar(positive=[vector, "w14"], topn=10),
        reference.most_similar(positive=[vector, "w14"], topn=10),
    )
    # a vector query excludes nothing, so the nearest word to w12's own vector is w12
    assert kv.most_similar(kv["w12"], topn=1)[0][0] == "w12"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # gensim calls its own init_sims
@pytest.mark.parametrize("query", QUERIES[:3] + [dict(positive=["w1"], negative=[])])
def test_most_similar_cosmul_equals_gensim(pair, query) -> None:
    kv, reference = pair
    assert_same_ranking(
        kv.most_similar_cosmul(**query, topn=15), reference.most_similar_cosmul(**query, topn=15)
    )


def test_cosmul_with_one_word_ranks_as_most_similar(pair) -> None:
    kv, _ = pair
    cosine = [w for w, _ in kv.most_similar("w20", topn=20)]
    cosmul = [w for w, _ in kv.most_similar_cosmul("w20", topn=20)]
    assert cosine == cosmul


@pytest.mark.parametrize("words", [["w1", "w2", "w3", "w4"], ["w30", "w7", "w99", "w5", "w250"]])
def test_doesnt_match_equals_gensim(pair, words) -> None:
    kv, reference = pair
    assert kv.doesnt_match(words) == reference.doesnt_match(words)


def test_doesnt_match_finds_the_planted_outlier() -> None:
    vectors = np.array([[1, 0.1], [1, -0.1], [0.9, 0], [-1, 0.2]], dtype=np.float32)
    kv = KeyedVectors(vectors, ["cat", "dog", "cow", "car"])
    assert kv.doesnt_match(["cat", "dog", "cow", "car"]) == "car"


def test_similarity_and_unit_vectors_equal_gensim(pair) -> None:
    kv, reference = pair
    assert kv.similarity("w1", "w2") == pytest.approx(reference.similarity("w1", "w2"), abs=1e-6)
    np.testing.assert_allclose(kv.get_normed_vectors(), reference.get_normed_vectors(), atol=1e-6)
    np.testing.assert_allclose(kv.get_vector("w3", norm=True), reference.get_vector("w3", norm=True),
                               atol=1e-6)


def test_topn_none_returns_every_score_and_topn_zero_nothing(pair) -> None:
    kv, _ = pair
    scores = kv.most_similar("w1", topn=None)
    assert scores.shape == (len(kv),)
    assert scores[1] == pytest.approx(1.0, abs=1e-6)  # the query word itself, not excluded
    assert kv.most_similar("w1", topn=0) == []
    assert kv.most_similar("w1", topn=None, restrict_vocab=50).shape == (50,)


def test_query_words_are_left_out_of_the_answer(pair) -> None:
    kv, _ = pair
    answer = [w for w, _ in kv.most_similar(positive=["w1", "w2"], negative=["w3"], topn=len(kv))]
    assert len(answer) == len(kv) - 3
    assert not {"w1", "w2", "w3"} & set(answer)


def test_unknown_word_raises_an_error_naming_it() -> None:
    kv = random_kv(10)
    with pytest.raises(OutOfVocabularyError, match="'nope' is not in the vocabulary"):
        kv.most_similar("nope")
    with pytest.raises(KeyError):  # still a KeyError for code that expects one
        kv["nope"]
    with pytest.raises(SeqnlpError):
        kv.similarity("w1", "nope")
    assert str(OutOfVocabularyError("x", 3)) == "word 'x' is not in the vocabulary (3 words)"


def test_container_protocol() -> None:
    kv = random_kv(5, 4)
    assert len(kv) == 5 and kv.vector_size == 4
    assert "w2" in kv and "w9" not in kv
    assert kv[["w1", "w2"]].shape == (2, 4)
    assert kv.key_to_index["w3"] == 3
    assert repr(kv) == "KeyedVectors(words=5, vector_size=4)"


def test_normed_cache_is_reused_and_cleared_when_vectors_change() -> None:
    kv = random_kv(20, 4)
    first = kv.get_normed_vectors()
    assert kv.get_normed_vectors() is first
    kv.vectors = kv.vectors[::-1].copy()  # w0 now holds w19's old vector
    np.testing.assert_allclose(kv.get_normed_vectors(), first[::-1])
    np.testing.assert_allclose(kv.get_vector("w0", norm=True), first[19])


def test_in_place_edits_are_seen_after_fill_norms_force() -> None:
    kv = random_kv(20, 4)
    kv.get_normed_vectors()
    kv.vectors[0] = kv.vectors[1] * 5.0
    kv.fill_norms(force=True)
    assert kv.similarity("w0", "w1") == pytest.approx(1.0, abs=1e-6)


def test_returned_vectors_cannot_corrupt_the_cache() -> None:
    kv = random_kv(5, 4)
    with pytest.raises(ValueError):
        kv.get_vector("w1")[0] = 1.0
    with pytest.raises(ValueError):
        kv.get_normed_vectors()[0, 0] = 1.0


def test_zero_vector_has_similarity_zero_not_nan() -> None:
    kv = KeyedVectors(np.array([[0, 0], [1, 0], [0, 1]], np.float32), ["z", "x", "y"])
    assert kv.similarity("z", "x") == 0.0
    assert kv.most_similar("x", topn=2) == [("z", 0.0), ("y", 0.0)]  # tie: lower index first


@pytest.mark.parametrize(
    "args, message",
    [
        ((np.zeros((3, 2)), ["a", "b"]), "shape"),
        ((np.zeros((2, 2)), ["a", "a"]), "repeated"),
        ((np.zeros((2, 2)), ["a", "b"], [1]), "counts"),
    ],
)
def test_inconsistent_construction_is_refused(args, message) -> None:
    with pytest.raises(ValueError, match=message):
        KeyedVectors(*args)


def test_vectors_are_stored_as_float32_without_copy_when_already() -> None:
    matrix = np.ones((2, 3), np.float32)
    assert KeyedVectors(matrix, ["a", "b"]).vectors is matrix
    assert KeyedVectors(np.ones((2, 3)), ["a", "b"]).vectors.dtype == np.float32


def test_top_indices_orders_by_score_then_index() -> None:
    scores = np.array([0.1, 0.9, 0.5, 0.9, -1.0])
    assert top_indices(scores, 3).tolist() == [1, 3, 2]
    assert top_indices(scores, 10).tolist() == [1, 3, 2, 0, 4]
    assert top_indices(scores, 0).tolist() == []


def test_importing_word2vec_leaves_torch_and_numba_out() -> None:
    code = "import seqnlp.word2vec, sys; print('torch' in sys.modules, 'numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
