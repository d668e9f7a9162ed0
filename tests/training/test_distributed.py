"""Data parallelism: two torchrun processes (gloo) keep identical replicas, equal to one
process training on the two ranks' batches concatenated."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from seqnlp.training import load_checkpoint, read_metrics
from seqnlp.training.distributed import dist_info_from_env, shard_batches
from tests.conftest import REPO
from tests.training.run_ddp import train


def test_shard_batches_deals_groups_round_robin_and_drops_an_incomplete_tail() -> None:
    batches = list(range(7))
    assert list(shard_batches(batches, 0, 2)) == [0, 2, 4]
    assert list(shard_batches(batches, 1, 2)) == [1, 3, 5]
    assert list(shard_batches(batches, 2, 3)) == [2, 5]
    assert list(shard_batches(batches, 0, 1)) == batches


def test_dist_info_reads_torchrun_variables(monkeypatch) -> None:
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "1")
    info = dist_info_from_env()
    assert (info.rank, info.world_size, info.local_rank, info.is_main) == (3, 4, 1, False)
    monkeypatch.setenv("RANK", "4")
    with pytest.raises(ValueError, match="RANK must be in"):
        dist_info_from_env()


def test_two_ranks_keep_identical_replicas_equal_to_one_process(tmp_path) -> None:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node=2", "-m", "tests.training.run_ddp", "--out", str(tmp_path)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    rank0 = torch.load(tmp_path / "params-rank0.pt")
    rank1 = torch.load(tmp_path / "params-rank1.pt")
    assert rank0["params"].shape[0] == 12  # 3 epochs x 4 updates
    assert torch.equal(rank0["params"], rank1["params"])  # bit-identical after every update
    assert rank0["losses"] != rank1["losses"]  # the ranks did see different batches

    single_params, single_losses = train(None, combine=True)
    assert torch.allclose(rank0["params"], single_params, atol=1e-6)
    logged = [r["loss"] for r in read_metrics(tmp_path / "log.jsonl", event="step")]
    assert logged == pytest.approx(single_losses, abs=1e-6)  # mean over ranks, rank 0 only
    checkpoint = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert checkpoint["world_size"] == 2 and len(checkpoint["rng"]) == 2
    assert torch.allclose(torch.cat([t.reshape(-1) for t in checkpoint["model"].values()]),
                          single_params[-1], atol=1e-6)
