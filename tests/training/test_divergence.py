"""A loss, gradient or weight that turns NaN or infinite stops the Trainer with the step and
what to try, and leaves the checkpoints of the last good state; options that are not finite
numbers are refused."""

from __future__ import annotations

import math

import pytest
import torch

from seqnlp.errors import SeqnlpError
from seqnlp.training import Trainer, TrainerConfig, TrainingDiverged, load_checkpoint
from seqnlp.training.divergence import first_bad_step, mark_non_finite
from tests.training.toy import ToyClassifier, toy_data

pytestmark = pytest.mark.usefixtures("one_thread")


def batches_with_nan_at(epoch_bad: int, batch_bad: int, n_batches: int = 4):
    """`epoch -> 4 batches of 8`; batch `batch_bad` of epoch `epoch_bad` holds a NaN input."""
    x, y = toy_data(n=8 * n_batches)

    def batches(epoch: int) -> list[dict[str, torch.Tensor]]:
        out = [{"x": x[i:i + 8].clone(), "y": y[i:i + 8]} for i in range(0, len(x), 8)]
        if epoch == epoch_bad:
            out[batch_bad]["x"][0, 0] = math.nan
        return out

    return batches


def config(tmp_path, **options) -> TrainerConfig:
    return TrainerConfig(**{"device": "cpu", "progress": False, "epochs": 3,
                            "checkpoint_dir": tmp_path, **options})


def file_state(path) -> tuple[int, int, bytes]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns, path.read_bytes()


@pytest.mark.parametrize("log_every", [1, 10])
def test_a_nan_loss_stops_training_naming_its_step_and_keeps_the_last_good_checkpoint(
    tmp_path, log_every: int
) -> None:
    x, y = toy_data(n=32)
    dev = [{"x": x, "y": y}]
    trainer = Trainer(ToyClassifier(), config(tmp_path, log_every=log_every))
    first_epoch_files = {}

    def remember(trainer, record) -> None:
        if record["step"] == 5:  # epoch 0 ended: its last.pt and best.pt are on disk
            first_epoch_files.update({n: file_state(tmp_path / n) for n in ("last.pt", "best.pt")})

    # epoch 1, batch 2 is update 4 + 2 + 1 = 7
    with pytest.raises(TrainingDiverged) as caught:
        trainer.fit(batches_with_nan_at(1, 2), dev, on_step=remember)
    message = str(caught.value)
    assert "at step 7" in message and "--lr below 0.001" in message and "--clip 1" in message
    assert f"{tmp_path / 'last.pt'}, is kept" in message and "\n" not in message
    assert isinstance(caught.value, SeqnlpError)
    for name, state in first_epoch_files.items():
        assert file_state(tmp_path / name) == state, f"{name} was overwritten"
    last = load_checkpoint(tmp_path / "last.pt")
    assert last["counters"]["step"] == 4
    assert all(torch.isfinite(t).all() for t in last["model"].values())


def test_weights_that_turn_infinite_with_a_finite_loss_are_caught_before_any_checkpoint(
    tmp_path,
) -> None:
    x, y = toy_data(n=32)
    batches = [{"x": x[i:i + 8], "y": y[i:i + 8]} for i in range(0, 32, 8)]

    def poison(trainer, record) -> None:
        if record["step"] == 2:
            with torch.no_grad():  # a weight no loss of this batch size turns into NaN
                trainer.model.hidden.weight[0, 0] = math.inf

    trainer = Trainer(ToyClassifier(), config(tmp_path, clip_norm=5.0))
    with pytest.raises(TrainingDiverged, match=r"NaN or infinite (at|by) step \d+; nothing "
                                               r"was saved;.*--clip below 5"):
        trainer.fit(batches, on_step=poison)
    assert not (tmp_path / "last.pt").exists()


def test_a_clean_run_is_not_flagged(tmp_path) -> None:
    x, y = toy_data(n=32)
    batches = [{"x": x[i:i + 8], "y": y[i:i + 8]} for i in range(0, 32, 8)]
    result = Trainer(ToyClassifier(), config(tmp_path, epochs=2)).fit(batches, batches[:1])
    assert result.steps == 8 and math.isfinite(result.history[-1]["train_loss"])


def test_the_first_non_finite_step_is_kept_on_the_device_record() -> None:
    first = torch.zeros((), dtype=torch.int64)
    mark_non_finite(first, 1, torch.tensor(0.5), torch.tensor(2.0))
    assert first_bad_step(first) == 0
    mark_non_finite(first, 2, torch.tensor(0.5), torch.tensor(math.inf))
    mark_non_finite(first, 3, torch.tensor(math.nan), None)
    assert first_bad_step(first) == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [({"lr": math.inf}, "lr must be a finite number, got inf"),
     ({"lr": math.nan}, "lr must be a finite number, got nan"),
     ({"lr": -1.0}, "lr must be > 0, got -1.0"),
     ({"momentum": math.nan}, "momentum must be a finite number"),
     ({"clip_norm": math.inf}, "clip_norm must be a finite number"),
     ({"weight_decay": -math.inf}, "weight_decay must be a finite number"),
     ({"gamma": math.nan}, "gamma must be a finite number")],
)
def test_config_refuses_options_that_are_not_finite_numbers(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainerConfig(**options)


def test_patience_without_dev_batches_is_refused() -> None:
    x, y = toy_data(n=8)
    trainer = Trainer(ToyClassifier(), TrainerConfig(device="cpu", progress=False, patience=2))
    with pytest.raises(ValueError, match="patience 2 .*needs dev_batches"):
        trainer.fit([{"x": x, "y": y}])


def test_two_ranks_stop_together_when_one_rank_sees_a_nan(tmp_path) -> None:
    """Rank 1 takes the odd batches: batch 3 of epoch 1 is its second update of the epoch,
    update 4 + 2 = 6; both ranks stop there, none hangs, no checkpoint is overwritten."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node=2", "-m", "tests.training.run_ddp", "--out", str(tmp_path),
               "--nan-at", "1", "3"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    messages = [(tmp_path / f"diverged-rank{rank}.txt").read_text() for rank in (0, 1)]
    assert messages[0] == messages[1] and "at step 6" in messages[0]
    last = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert last["counters"]["step"] == 4
