"""`torchrun --nproc-per-node 2 -m seqnlp classify|lm train ...`: two gloo processes train the
model that one process trains with the same effective batch, print once, save once, resume."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from seqnlp.models import load_model
from tests.conftest import REPO, shared_file

pytestmark = pytest.mark.usefixtures("one_thread")

CLASSIFY = ["classify", "train", "--encoder", "gru", "--hidden-size", "8", "--embedding-dim", "8",
            "--epochs", "2", "--device", "cpu", "--threads", "1", "--dev-fraction", "0.25",
            "--lr", "0.01", "--dropout", "0", "--embedding-dropout", "0"]  # masks differ by rank
LM = ["lm", "train", "--embedding-dim", "8", "--hidden-size", "8", "--num-layers", "1",
      "--bptt", "10", "--eval-batch-size", "2", "--epochs", "2", "--device", "cpu",
      "--threads", "1", "--optimizer", "adam", "--lr", "0.01"]


def seqnlp(args: list[str], cwd: Path, processes: int = 1) -> subprocess.CompletedProcess:
    """Run `seqnlp ARGS` as a user would: alone, or under torchrun with `processes` ranks."""
    launcher = [sys.executable, "-m", "seqnlp"]
    if processes > 1:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                    f"--nproc-per-node={processes}", "-m", "seqnlp"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO / "src")}
    result = subprocess.run(launcher + args, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def assert_same_weights(a: Path, b: Path, atol: float = 1e-6) -> None:
    first, second = load_model(a).model.state_dict(), load_model(b).model.state_dict()
    assert first.keys() == second.keys()
    for key in first:
        torch.testing.assert_close(first[key], second[key], rtol=1e-5, atol=atol, msg=key)


@pytest.fixture(scope="module")
def sst_tsv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """256 real SST dev sentences, polar ones only, in a seeded random order."""
    from seqnlp.text import read_trees

    trees = [t for t in read_trees(shared_file("sst", "dev.txt")) if t.label != 2]
    random.Random(0).shuffle(trees)
    path = tmp_path_factory.mktemp("torchrun") / "sst-dev.tsv"
    path.write_text("".join(f"{int(t.label > 2)}\t{' '.join(t.leaves())}\n" for t in trees[:256]),
                    encoding="utf-8")
    return path


def test_two_processes_train_the_classifier_one_process_trains(tmp_path, sst_tsv):
    data = ["--data", str(sst_tsv)]
    two = seqnlp([*CLASSIFY, *data, "--batch-size", "8", "-o", "two.pt"], tmp_path, processes=2)
    seqnlp([*CLASSIFY, *data, "--batch-size", "8", "--grad-accum", "2", "-o", "one.pt"], tmp_path)
    assert_same_weights(tmp_path / "two.pt", tmp_path / "one.pt")
    assert two.stdout.count("model saved to two.pt") == 1  # rank 0 alone prints and saves
    assert two.stdout.count("epoch 2: train loss") == 1


def test_resume_under_torchrun_equals_an_uninterrupted_run(tmp_path, sst_tsv):
    data = ["--data", str(sst_tsv), "--batch-size", "8"]
    seqnlp([*CLASSIFY, *data, "-o", "full.pt"], tmp_path, processes=2)
    first = [a if a != "2" or i == 0 or CLASSIFY[i - 1] != "--epochs" else "1"
             for i, a in enumerate(CLASSIFY)]
    seqnlp([*first, *data, "--checkpoint-dir", "ckpt", "-o", "half.pt"], tmp_path, processes=2)
    seqnlp([*CLASSIFY, *data, "--checkpoint-dir", "ckpt", "--resume", "-o", "resumed.pt"],
           tmp_path, processes=2)
    assert_same_weights(tmp_path / "resumed.pt", tmp_path / "full.pt")


def test_two_processes_train_the_language_model_one_process_trains(tmp_path):
    text = tmp_path / "ptb-valid.txt"
    from seqnlp.fileio import iter_lines

    lines = [line for _, line in iter_lines(shared_file("ptb", "ptb.valid.txt"))][:400]
    text.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = ["--data", str(text), "--max-vocab", "500"]
    # each rank reads its own 4 rows of every BPTT window (the carried state stays
    # continuous): together the 8 rows one process reads
    two = seqnlp([*LM, *data, "--batch-size", "4", "-o", "two.pt"], tmp_path, processes=2)
    seqnlp([*LM, *data, "--batch-size", "8", "-o", "one.pt"], tmp_path)
    # Adam divides by the root of tiny second moments on rarely seen embedding rows, which
    # magnifies the rounding of a two-rank gradient average: 6.4e-6 at most on an AMD EPYC
    # (weights up to 0.76; every other tensor within 6e-7); a sharding error moves them by
    # orders of magnitude more
    assert_same_weights(tmp_path / "two.pt", tmp_path / "one.pt", atol=2e-5)
    assert two.stdout.count("saved two.pt") == 1
