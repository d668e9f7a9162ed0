"""Span and segmentation scores on hand-counted examples."""

from __future__ import annotations

import pytest

from seqnlp.text.tagging import spans_from_tags
from seqnlp.training.chunk_metrics import (
    PRF,
    segmentation_scores,
    span_scores,
    word_spans,
)


def spans(tags: list[str], scheme: str = "bio") -> list[tuple[int, int, str]]:
    return [tuple(s) for s in spans_from_tags(tags, scheme)]


def test_span_scores_count_exact_span_and_type() -> None:
    gold = [spans(["B-PER", "I-PER", "O", "B-LOC"]), spans(["B-ORG", "O"])]
    predicted = [spans(["B-PER", "I-PER", "O", "B-ORG"]),  # PER right, LOC typed as ORG
                 spans(["B-ORG", "B-ORG"])]  # ORG right, one spurious ORG
    scores = span_scores(gold, predicted)
    assert scores.overall == PRF(correct=2, predicted=4, gold=3)
    assert scores.overall.precision == 0.5 and scores.overall.recall == pytest.approx(2 / 3)
    assert scores.overall.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert scores.by_type["PER"] == PRF(1, 1, 1)
    assert scores.by_type["LOC"] == PRF(0, 0, 1)
    assert scores.by_type["ORG"] == PRF(1, 3, 1)
    assert scores.as_dict()["f1_LOC"] == 0.0


def test_a_boundary_error_is_wrong_twice() -> None:
    scores = span_scores([[(0, 2, "PER")]], [[(0, 1, "PER")]])
    assert scores.overall == PRF(0, 1, 1) and scores.overall.f1 == 0.0


def test_sentence_counts_must_agree() -> None:
    with pytest.raises(ValueError, match="2 gold sentences but 1"):
        span_scores([[], []], [[]])


def test_word_spans() -> None:
    assert word_spans(["ab", "c", "def"]) == [(0, 2, ""), (2, 3, ""), (3, 6, "")]


def test_segmentation_scores_as_the_bakeoff_counts() -> None:
    gold = [["我们", "在", "北京"], ["天安门", "广场"]]
    predicted = [["我们", "在北", "京"], ["天安门", "广", "场"]]
    scores = segmentation_scores(gold, predicted, train_words={"我们", "在", "广场"})
    # correct: 我们, 天安门 = 2 of 6 predicted, 5 gold
    assert scores.words == PRF(2, 6, 5)
    # OOV gold words: 北京, 天安门 (2 of 5); found: 天安门
    assert scores.oov_rate == pytest.approx(2 / 5)
    assert scores.oov_recall == pytest.approx(1 / 2)
    assert scores.iv_recall == pytest.approx(1 / 3)  # 我们 found; 在, 广场 missed


def test_a_perfect_segmentation_scores_one() -> None:
    gold = [["一", "二三"], ["四五六"]]
    scores = segmentation_scores(gold, gold)
    assert scores.words.f1 == 1.0 and scores.oov_recall == 1.0 and scores.oov_rate == 1.0


def test_segmentation_refuses_different_characters() -> None:
    with pytest.raises(ValueError, match="sentence 1"):
        segmentation_scores([["ab"]], [["ac"]])
