"""Exact resume: a run killed with SIGKILL at a random point and resumed in a new process
logs the same losses, bit for bit, as a run never interrupted."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from seqnlp.training import read_metrics
from tests.conftest import REPO

TOTAL_STEPS = 72  # run_toy: 6 epochs of 12 batches
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def run_toy(folder: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "tests.training.run_toy", "--dir", str(folder), *extra]
    return subprocess.run(command, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=120)


def last_logged_step(log: Path) -> int:
    if not log.exists():
        return 0
    steps = [r["step"] for r in read_metrics(log, event="step")]
    return max(steps, default=0)


def kill_after(folder: Path, target: int) -> int:
    """Start a slowed-down run, SIGKILL it once it has logged `target` steps; return
    the last step it logged."""
    command = [sys.executable, "-m", "tests.training.run_toy", "--dir", str(folder),
               "--sleep", "0.03"]
    process = subprocess.Popen(command, cwd=REPO, env=ENV, stderr=subprocess.PIPE)
    log, deadline = folder / "log.jsonl", time.monotonic() + 90
    while last_logged_step(log) < target:
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "the run never reached the kill point"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    return last_logged_step(log)


def test_resume_after_sigkill_reproduces_an_uninterrupted_run_bit_for_bit(tmp_path) -> None:
    seed = random.SystemRandom().randrange(10**6)
    target = random.Random(seed).randint(6, TOTAL_STEPS - 6)  # after the first checkpoint
    where = f"(kill target step {target}, seed {seed})"

    reference = tmp_path / "reference"
    uninterrupted = subprocess.Popen(  # runs beside the killed one, to save time
        [sys.executable, "-m", "tests.training.run_toy", "--dir", str(reference)],
        cwd=REPO, env=ENV, stderr=subprocess.PIPE,
    )
    resumed = tmp_path / "resumed"
    killed_at = kill_after(resumed, target)
    assert not (resumed / "final.pt").exists() and killed_at < TOTAL_STEPS, where
    assert uninterrupted.wait(timeout=120) == 0, uninterrupted.stderr.read().decode()
    expected = {r["step"]: r["loss"] for r in read_metrics(reference / "log.jsonl", "step")}
    assert sorted(expected) == list(range(1, TOTAL_STEPS + 1))
    result = run_toy(resumed, "--resume")
    assert result.returncode == 0, result.stderr

    records = read_metrics(resumed / "log.jsonl")
    start = max(i for i, r in enumerate(records) if r["event"] == "resume")
    resumed_from = records[start]["step"]
    assert 5 <= resumed_from <= killed_at, where
    after = [r for r in records[start:] if r["event"] == "step"]
    assert [r["step"] for r in after] == list(range(resumed_from + 1, TOTAL_STEPS + 1)), where
    assert [r["loss"] for r in after] == [expected[r["step"]] for r in after], where
    assert torch.equal(torch.load(resumed / "final.pt"), torch.load(reference / "final.pt")), where
    reference_evals = [r["metrics"] for r in read_metrics(reference / "log.jsonl", "eval")]
    resumed_evals = [r["metrics"] for r in records[start:] if r["event"] == "eval"]
    assert resumed_evals == reference_evals[len(reference_evals) - len(resumed_evals):], where
