"""Scores of sequence labelling: entity spans as conlleval counts them, and word
segmentation as the SIGHAN bakeoff's scorer counts it.

Both compare sets of spans per sentence: a predicted span counts only when its start, end
(and, for entities, type) equal a gold span's. Inputs are plain Python spans, so these work
for any tagger, any tag scheme (decode tags first with `seqnlp.text.tagging.spans_from_tags`)
and any segmenter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

SpanKey = tuple[int, int, str]  # start, end (exclusive), type ("" for words)


@dataclass(frozen=True)
class PRF:
    """Precision, recall and F1 from counts (0 where undefined, as conlleval prints)."""

    correct: int
    predicted: int
    gold: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class SpanScores:
    """Overall and per-type scores of predicted spans."""

    overall: PRF
    by_type: dict[str, PRF] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        """Flat numbers for logs: precision, recall, f1, and f1_TYPE per type."""
        numbers = {"precision": self.overall.precision, "recall": self.overall.recall,
                   "f1": self.overall.f1}
        numbers.update({f"f1_{name}": prf.f1 for name, prf in sorted(self.by_type.items())})
        return numbers


def span_scores(gold: Iterable[Collection[SpanKey]], predicted: Iterable[Collection[SpanKey]]
                ) -> SpanScores:
    """Exact-match span precision, recall and F1, overall and per type (conlleval).

    Args:
        gold, predicted: per sentence, its spans as `(start, end, type)`; the two must have
            the same number of sentences.

    Raises:
        ValueError: the two differ in their number of sentences.
    """
    counts: dict[str, Counter[str]] = {}
    for gold_spans, predicted_spans in _pairs(gold, predicted):
        gold_set, predicted_set = set(gold_spans), set(predicted_spans)
        for kind, spans in (("gold", gold_set), ("predicted", predicted_set),
                            ("correct", gold_set & predicted_set)):
            for span in spans:
                counts.setdefault(span[2], Counter())[kind] += 1
    by_type = {name: PRF(c["correct"], c["predicted"], c["gold"]) for name, c in counts.items()}
    overall = PRF(*(sum(getattr(prf, k) for prf in by_type.values())
                    for k in ("correct", "predicted", "gold")))
    return SpanScores(overall, by_type)


def _pairs(gold: Iterable[Collection[SpanKey]], predicted: Iterable[Collection[SpanKey]]
           ) -> Iterable[tuple[Collection[SpanKey], Collection[SpanKey]]]:
    gold, predicted = list(gold), list(predicted)
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted")
    return zip(gold, predicted)


def word_spans(words: Sequence[str]) -> list[SpanKey]:
    """The character spans of a segmented sentence: ["ab", "c"] -> [(0, 2, ""), (2, 3, "")]."""
    spans, start = [], 0
    for word in words:
        spans.append((start, start + len(word), ""))
        start += len(word)
    return spans


@dataclass(frozen=True)
class SegmentationScores:
    """The bakeoff's measures: word P/R/F1, OOV rate and the recall of OOV and IV words."""

    words: PRF
    oov_rate: float
    oov_recall: float
    iv_recall: float

    def as_dict(self) -> dict[str, float]:
        return {"precision": self.words.precision, "recall": self.words.recall,
                "f1": self.words.f1, "oov_rate": self.oov_rate, "oov_recall": self.oov_recall,
                "iv_recall": self.iv_recall}


def segmentation_scores(gold: Iterable[Sequence[str]], predicted: Iterable[Sequence[str]],
                        train_words: Collection[str] = frozenset()) -> SegmentationScores:
    """Score a segmentation against the gold one, as the SIGHAN 2005 scorer does.

    A predicted word is correct when the same character span is a gold word. Gold words not
    in `train_words` are out-of-vocabulary (OOV); the OOV rate is their share of gold words,
    and the OOV (IV) recall is the share of OOV (IV) gold words found.

    Raises:
        ValueError: different sentence counts, or a sentence whose characters differ.
    """
    correct = predicted_total = gold_total = 0
    oov = oov_found = iv = iv_found = 0
    for index, (gold_words, predicted_words) in enumerate(_pairs(gold, predicted)):
        if "".join(gold_words) != "".join(predicted_words):
            raise ValueError(f"sentence {index + 1}: the predicted words do not spell the gold "
                             "sentence")
        found = set(word_spans(predicted_words))
        predicted_total += len(predicted_words)
        gold_total += len(gold_words)
        for word, span in zip(gold_words, word_spans(gold_words)):
            hit = span in found
            correct += hit
            if word in train_words:
                iv, iv_found = iv + 1, iv_found + hit
            else:
                oov, oov_found = oov + 1, oov_found + hit
    return SegmentationScores(
        PRF(correct, predicted_total, gold_total),
        oov_rate=oov / gold_total if gold_total else 0.0,
        oov_recall=oov_found / oov if oov else 0.0,
        iv_recall=iv_found / iv if iv else 0.0,
    )
