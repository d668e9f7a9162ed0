"""Metric functions over predictions, shared by every task: accuracy, per-class precision,
recall and F1 (a classification report), perplexity. Span F1 (tagging) and BLEU
(translation) join them here. Plain NumPy: labels and predictions are integer arrays.

The running meters and the JSONL log live in `seqnlp.training.meters` (re-exported here so
that `from seqnlp.training.metrics import RunningMean` keeps working).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from seqnlp.training.meters import (
    MetricsLogger,
    ProgressBar,
    RunningMean,
    Throughput,
    read_metrics,
)

__all__ = [
    "ClassificationReport",
    "MetricsLogger",
    "ProgressBar",
    "RunningMean",
    "Throughput",
    "accuracy",
    "classification_report",
    "perplexity_of_loss",
    "read_metrics",
]


def accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    """The share of `predicted == labels`; NaN for no examples."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    if labels.shape != predicted.shape:
        raise ValueError(f"labels {labels.shape} and predictions {predicted.shape} differ")
    return float(np.mean(labels == predicted)) if len(labels) else float("nan")


def perplexity_of_loss(mean_loss: float) -> float:
    """exp(mean cross-entropy in nats); inf when it would overflow, NaN for NaN."""
    if math.isnan(mean_loss):
        return float("nan")
    return math.exp(mean_loss) if mean_loss < 700 else float("inf")


@dataclass(frozen=True)
class ClassificationReport:
    """Accuracy, mean loss and per-class precision, recall, F1 and support."""

    accuracy: float
    loss: float
    precision: tuple[float, ...]
    recall: tuple[float, ...]
    f1: tuple[float, ...]
    support: tuple[int, ...]

    @property
    def macro_f1(self) -> float:
        """The unweighted mean of the per-class F1."""
        return float(np.mean(self.f1))


def classification_report(labels: np.ndarray, predicted: np.ndarray, num_classes: int,
                          loss: float = float("nan")) -> ClassificationReport:
    """Per-class scores from true and predicted labels (0 where a ratio is 0/0).

    Args:
        labels, predicted: (N,) integer class ids in [0, num_classes).
        num_classes: C.
        loss: the mean loss to carry in the report.
    """
    labels, predicted = np.asarray(labels, np.int64), np.asarray(predicted, np.int64)
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)  # (true, predicted)
    np.add.at(confusion, (labels, predicted), 1)
    hits = np.diag(confusion).astype(np.float64)
    precision = hits / np.maximum(confusion.sum(0), 1)
    recall = hits / np.maximum(confusion.sum(1), 1)
    total = precision + recall
    f1 = np.where(total > 0, 2 * precision * recall / np.maximum(total, 1e-12), 0.0)
    score = float(hits.sum() / max(len(labels), 1))
    return ClassificationReport(score, loss, tuple(precision.tolist()), tuple(recall.tolist()),
                                tuple(f1.tolist()), tuple(int(n) for n in confusion.sum(1)))
