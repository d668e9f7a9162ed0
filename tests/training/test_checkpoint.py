"""Checkpoints: atomic under exceptions and SIGKILL, weights_only loads, RNG round trip."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from seqnlp.training import CheckpointError, load_checkpoint, save_checkpoint
from seqnlp.training import checkpoint as checkpoint_module
from seqnlp.training.checkpoint import rng_state, set_rng_state
from tests.conftest import REPO


def test_an_exception_mid_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch) -> None:
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"step": 1, "w": torch.ones(3)})

    def broken_save(obj, handle) -> None:
        handle.write(b"PK\x03\x04 half a zip archive")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_module.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"step": 2, "w": torch.zeros(3)})
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # the temporary is gone


def test_sigkill_mid_write_never_leaves_a_corrupt_file_under_the_final_name(tmp_path) -> None:
    path = tmp_path / "last.pt"
    script = textwrap.dedent(f"""
        import os, signal, torch
        from seqnlp.training import checkpoint
        checkpoint.save_checkpoint({str(path)!r}, {{"step": 1, "w": torch.ones(1000)}})
        def dying_save(obj, handle):
            handle.write(b"PK\\x03\\x04" + bytes(4096))
            handle.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        checkpoint.torch.save = dying_save
        checkpoint.save_checkpoint({str(path)!r}, {{"step": 2, "w": torch.zeros(1000)}})
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True)
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()
    state = load_checkpoint(path)
    assert state["step"] == 1 and torch.equal(state["w"], torch.ones(1000))
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "last.pt"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".last.pt.")  # killed mid-write


def test_a_truncated_checkpoint_is_a_checkpoint_error(tmp_path) -> None:
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"w": torch.ones(100)})
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="unreadable checkpoint"):
        load_checkpoint(path)


def test_a_file_of_another_kind_is_a_checkpoint_error(tmp_path) -> None:
    path = tmp_path / "other.pt"
    torch.save({"w": torch.ones(1)}, path)
    with pytest.raises(CheckpointError, match="not a seqnlp checkpoint"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "absent.pt")


def test_pickled_objects_are_refused_by_the_weights_only_load(tmp_path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"format_version": 1, "obj": pytest.approx(1.0)}, path)
    with pytest.raises(CheckpointError, match="unreadable"):
        load_checkpoint(path)


def test_rng_states_survive_a_checkpoint_round_trip(tmp_path) -> None:
    random.seed(3)
    np.random.seed(4)
    torch.manual_seed(5)
    np.random.standard_normal()  # leaves a cached gaussian in numpy's legacy state
    save_checkpoint(tmp_path / "rng.pt", {"rng": rng_state()})
    expected = (random.random(), np.random.standard_normal(2).tolist(), torch.rand(3).tolist())
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    set_rng_state(load_checkpoint(tmp_path / "rng.pt")["rng"])
    assert (random.random(), np.random.standard_normal(2).tolist(), torch.rand(3).tolist()) == expected
