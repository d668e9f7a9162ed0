"""Training metrics.

The running meters and the JSONL log moved to `seqnlp.training.meters`; they are
re-exported here so that `from seqnlp.training.metrics import ...` keeps working.
"""

from __future__ import annotations

from seqnlp.training.meters import (
    MetricsLogger,
    ProgressBar,
    RunningMean,
    Throughput,
    read_metrics,
)

__all__ = ["MetricsLogger", "ProgressBar", "RunningMean", "Throughput", "read_metrics"]
