"""Training meters: running averages, throughput, the progress bar and the JSONL metrics log.

The log has one JSON object per line, each with an `event`:

- "start" / "resume": `{event, epoch, step, time}` when `fit` begins or resumes.
- "step": `{event, epoch, step, loss, lr, grad_norm, time, batches_per_s,
  examples_per_s}`, every `log_every` updates; `loss` is the mean training loss over the
  updates since the previous record, `step` the number of updates done so far.
- "eval": `{event, epoch, step, time, metrics: {...}, best: bool}` after each evaluation.
- "epoch": `{event, epoch, step, time, train_loss, lr}` at the end of each epoch.
- "end": `{event, epoch, step, time, best_score, stopped_early}`.

Each line is flushed as written; a process killed mid-line leaves at most one truncated
last line, which `read_metrics` skips and a new `MetricsLogger` on the file removes.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import IO, Any

from seqnlp.errors import DataFormatError
from seqnlp.fileio import iter_lines


class RunningMean:
    """The mean of the values added since the last `reset` (NaN when empty)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.count = 0

    def add(self, value: float | Any, count: int = 1) -> None:
        """Add `value` with weight `count` (e.g. a batch mean with its batch size).

        `value` may be a 0-dim tensor: it is then summed on its device, and read back
        (a GPU synchronisation) only when `mean` is asked for.
        """
        self.total += value * count
        self.count += count

    @property
    def mean(self) -> float:
        """The weighted mean, NaN when nothing was added."""
        return float(self.total) / self.count if self.count else math.nan

    def reset(self) -> None:
        """Forget every value."""
        self.total = 0.0
        self.count = 0


class Throughput:
    """Batches and examples per second since the last `reset` (times from the caller's
    clock, in seconds)."""

    def __init__(self, now: float = 0.0) -> None:
        self.reset(now)

    def reset(self, now: float) -> None:
        """Start a new interval at time `now`."""
        self.start = now
        self.batches = 0
        self.examples = 0

    def add(self, batches: int, examples: int) -> None:
        """Count work done in the interval."""
        self.batches += batches
        self.examples += examples

    def rates(self, now: float) -> dict[str, float]:
        """`{"batches_per_s", "examples_per_s"}` over the interval ending at `now`."""
        seconds = max(now - self.start, 1e-9)
        return {"batches_per_s": self.batches / seconds,
                "examples_per_s": self.examples / seconds}


class MetricsLogger:
    """Appends JSON records to `path` (or drops them when `path` is None).

    Args:
        path: the JSONL file; its folder is created. Records are appended, so that a
            resumed run continues the log of the interrupted one (whose truncated last
            line, if it was killed mid-write, is removed first).
    """

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = None if path is None else Path(path)
        self._handle: IO[str] | None = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _drop_partial_last_line(self.path)
            self._handle = open(self.path, "a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        """Write one record as a line and flush it."""
        if self._handle is None:
            return
        self._handle.write(json.dumps(record, allow_nan=True) + "\n")
        self._handle.flush()

    def close(self) -> None:
        """Close the file (further writes are dropped)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> MetricsLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ProgressBar:
    """A tqdm bar on stderr when `enabled` and stderr is a terminal; otherwise nothing.

    Args:
        enabled: whether a bar is wanted at all (the Trainer passes `config.progress`
            and whether this is rank 0).
        total: the number of updates expected, or None when unknown.
        desc: the label on the left of the bar.
    """

    def __init__(self, enabled: bool, total: int | None, desc: str) -> None:
        self._bar = None
        if enabled and sys.stderr.isatty():
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True)

    def update(self, count: int = 1) -> None:
        """Advance by `count` updates."""
        if self._bar is not None:
            self._bar.update(count)

    def set_postfix(self, **values: float) -> None:
        """Show `name=value` pairs after the bar (e.g. loss and lr)."""
        if self._bar is not None:
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in values.items()}, refresh=False)

    def close(self) -> None:
        """Remove the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _drop_partial_last_line(path: Path) -> None:
    """Cut a file back to its last newline, removing a line left half-written."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as handle:
        data = handle.read()
        if data.endswith(b"\n"):
            return
        handle.truncate(data.rfind(b"\n") + 1)


def read_metrics(path: str | os.PathLike[str], event: str | None = None) -> list[dict[str, Any]]:
    """The records of a JSONL log, optionally only those of one `event`.

    A truncated last line (a process killed mid-write) is skipped; a malformed line
    elsewhere raises `seqnlp.errors.DataFormatError`.
    """
    lines = list(iter_lines(path, allow_empty=True))
    records = []
    for index, (lineno, text) in enumerate(lines):
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            if index == len(lines) - 1:
                break
            raise DataFormatError(path, lineno, f"not a JSON record ({exc.msg})") from None
        if event is None or record.get("event") == event:
            records.append(record)
    return records
