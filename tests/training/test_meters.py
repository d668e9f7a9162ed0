"""The JSONL metrics log and running averages."""

from __future__ import annotations

import math

import pytest
import torch

from seqnlp.errors import DataFormatError
from seqnlp.training import MetricsLogger, RunningMean, read_metrics
from seqnlp.training.meters import Throughput


def test_running_mean_weights_values_and_accepts_tensors() -> None:
    mean = RunningMean()
    assert math.isnan(mean.mean)
    mean.add(1.0, count=3)
    mean.add(torch.tensor(5.0, dtype=torch.float64))
    assert mean.mean == 2.0
    mean.reset()
    assert mean.count == 0


def test_a_truncated_last_line_is_skipped_then_removed_on_append(tmp_path) -> None:
    path = tmp_path / "log.jsonl"
    with MetricsLogger(path) as log:
        log.write({"event": "step", "step": 1, "loss": 0.5})
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"event": "step", "st')  # a process killed mid-line
    assert [r["step"] for r in read_metrics(path)] == [1]
    with MetricsLogger(path) as log:
        log.write({"event": "step", "step": 2, "loss": float("nan")})
    records = read_metrics(path, event="step")
    assert [r["step"] for r in records] == [1, 2] and math.isnan(records[1]["loss"])


def test_a_malformed_line_inside_the_log_names_its_line(tmp_path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"event": "start"}\nnot json\n{"event": "end"}\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match="line 2: not a JSON record"):
        read_metrics(path)


def test_a_logger_without_a_path_writes_nothing(tmp_path) -> None:
    log = MetricsLogger(None)
    log.write({"event": "start"})
    log.close()
    assert list(tmp_path.iterdir()) == []


def test_throughput_counts_per_second_over_the_interval() -> None:
    meter = Throughput(now=10.0)
    meter.add(batches=4, examples=128)
    assert meter.rates(now=12.0) == {"batches_per_s": 2.0, "examples_per_s": 64.0}
    meter.reset(now=12.0)
    assert meter.rates(now=13.0)["examples_per_s"] == 0.0


def test_the_old_metrics_module_still_exports_the_meters() -> None:
    from seqnlp.training import meters, metrics

    assert all(getattr(metrics, name) is getattr(meters, name) for name in
               ("MetricsLogger", "ProgressBar", "RunningMean", "Throughput", "read_metrics"))
