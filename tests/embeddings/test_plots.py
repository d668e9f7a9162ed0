"""Projections (PCA against scikit-learn, t-SNE perplexity) and PNG pictures of word vectors."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from seqnlp.embeddings import MissingDependencyError, pca_2d, plot_vectors, select_words
from seqnlp.embeddings.projection import tsne_2d, tsne_perplexity
from seqnlp.word2vec import KeyedVectors, OutOfVocabularyError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def kv() -> KeyedVectors:
    rng = np.random.default_rng(0)
    words = [f"word{i}" for i in range(40)]
    return KeyedVectors(rng.standard_normal((40, 12)).astype(np.float32), words)


def test_pca_equals_scikit_learn_up_to_sign() -> None:
    decomposition = pytest.importorskip("sklearn.decomposition")
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((30, 10)) @ np.diag(np.arange(10, 0, -1.0))
    ours = pca_2d(vectors)
    theirs = decomposition.PCA(n_components=2).fit_transform(vectors)
    for k in range(2):
        sign = np.sign(ours[:, k] @ theirs[:, k])
        np.testing.assert_allclose(ours[:, k], sign * theirs[:, k], atol=1e-8)


def test_pca_of_two_points_pads_the_second_axis() -> None:
    points = pca_2d(np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
    assert points.shape == (2, 2)
    np.testing.assert_allclose(points[:, 1], 0.0, atol=1e-12)
    assert points[0, 0] == pytest.approx(-points[1, 0])


@pytest.mark.parametrize("count, expected", [(3, 1.0), (10, 3.0), (61, 20.0), (1000, 30.0)])
def test_tsne_perplexity_adapts_to_few_words(count: int, expected: float) -> None:
    assert tsne_perplexity(count) == expected


def test_tsne_is_seeded_and_needs_three_words(kv) -> None:
    pytest.importorskip("sklearn")
    vectors = kv.vectors[:8]
    first, again = tsne_2d(vectors, seed=3), tsne_2d(vectors, seed=3)
    assert first.shape == (8, 2)
    np.testing.assert_array_equal(first, again)
    with pytest.raises(ValueError, match="at least 3 words"):
        tsne_2d(vectors[:2])


def test_select_words_by_list_or_top(kv) -> None:
    words, vectors = select_words(kv, words=["word3", "word1", "word3"])
    assert words == ["word3", "word1"]
    np.testing.assert_array_equal(vectors, kv[["word3", "word1"]])
    assert select_words(kv, top=5)[0] == [f"word{i}" for i in range(5)]
    with pytest.raises(OutOfVocabularyError, match="nope"):
        select_words(kv, words=["word1", "nope"])
    with pytest.raises(ValueError, match="either words or top"):
        select_words(kv, words=["word1"], top=3)


@pytest.mark.parametrize("kind", ["heatmap", "pca", "tsne"])
@pytest.mark.parametrize("choice", [dict(words=["word1", "word5", "word9", "word2"]), dict(top=25)])
def test_each_kind_of_picture_is_a_non_empty_png(tmp_path: Path, kv, kind: str, choice) -> None:
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    path = plot_vectors(kv, tmp_path / "figs" / f"{kind}.png", kind, **choice)
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5_000
    assert [p.name for p in path.parent.iterdir()] == [f"{kind}.png"]  # no temporary left


def test_unknown_kind_is_refused(tmp_path: Path, kv) -> None:
    with pytest.raises(ValueError, match="kind"):
        plot_vectors(kv, tmp_path / "x.png", "radar", top=3)


@pytest.mark.parametrize("module, kind", [("matplotlib", "pca"), ("sklearn.manifold", "tsne")])
def test_missing_optional_package_names_the_fix(tmp_path: Path, kv, monkeypatch, module, kind) -> None:
    pytest.importorskip("matplotlib")
    monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install seqnlp\[plots\]"):
        plot_vectors(kv, tmp_path / "x.png", kind, top=5)
