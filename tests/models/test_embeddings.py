"""pretrained_matrix: rows from the vectors, random rows on their scale, finite input only."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from seqnlp.models.embeddings import pretrained_matrix


def vectors(table: list[list[float]], words: list[str]) -> SimpleNamespace:
    return SimpleNamespace(vectors=np.array(table, dtype=np.float32), index_to_key=words)


def test_rows_come_from_the_vectors_and_padding_is_zero() -> None:
    kv = vectors([[1.0, 2.0], [3.0, 4.0]], ["the", "cat"])
    matrix, _ = pretrained_matrix(["<pad>", "<unk>", "the", "Cat", "dog"], kv,
                                  ("<pad>", "<unk>"), pad_index=0, seed=0)
    assert np.array_equal(matrix[0], [0, 0])
    assert np.array_equal(matrix[2], [1, 2])
    assert np.array_equal(matrix[3], [3, 4])  # "Cat" falls back to "cat"
    assert np.isfinite(matrix).all() and not np.array_equal(matrix[4], [0, 0])


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_vectors_are_refused_naming_the_word(bad: float) -> None:
    kv = vectors([[1.0, 2.0], [bad, 4.0]], ["the", "cat"])
    with pytest.raises(ValueError, match="'cat' \\(row 2\\) holds NaN or infinity"):
        pretrained_matrix(["<pad>", "the"], kv, ("<pad>",))
