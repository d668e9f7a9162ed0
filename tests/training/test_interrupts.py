"""Ctrl-C or SIGTERM during training: the Trainer stops after the update in progress,
writes its last checkpoint and says how to resume; resuming continues from there."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import torch
from torch import nn

from seqnlp.training import Trainer, TrainerConfig
from seqnlp.training.interrupts import TrainingInterrupted


class Regression(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.linear(x).squeeze(1)
        return out, ((out - y) ** 2).mean()


def batches() -> list[dict[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(40, 3, generator=generator)
    y = x @ torch.tensor([1.0, -2.0, 0.5])
    return [{"x": x[i:i + 4], "y": y[i:i + 4]} for i in range(0, 40, 4)]


def signal_at(step: int, signum: int):
    def on_step(trainer: Trainer, record: dict) -> None:
        if record["step"] == step:
            os.kill(os.getpid(), signum)
    return on_step


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_saves_the_last_state_and_resume_continues(tmp_path: Path, signum: int) -> None:
    config = TrainerConfig(optimizer="sgd", lr=0.05, epochs=3, seed=0,
                           checkpoint_dir=str(tmp_path))
    torch.manual_seed(0)
    reference = Trainer(Regression(), config).fit(batches())
    torch.manual_seed(0)
    trainer = Trainer(Regression(), config)
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN under nohup, else Python's default
    with pytest.raises(TrainingInterrupted, match=r"epoch 2 after 13 updates.*--resume") as info:
        trainer.fit(batches(), on_step=signal_at(13, signum))
    assert info.value.exit_code == 130
    assert (tmp_path / "last.pt").is_file()
    assert signal.getsignal(signal.SIGINT) is before  # handlers restored
    torch.manual_seed(0)
    resumed = Trainer(Regression(), config).fit(batches(), resume=True)
    assert resumed.steps == reference.steps == 30
    assert [r["train_loss"] for r in resumed.history][-1] == pytest.approx(
        [r["train_loss"] for r in reference.history][-1], rel=1e-6)


def test_without_a_checkpoint_dir_it_says_nothing_was_saved() -> None:
    trainer = Trainer(Regression(), TrainerConfig(optimizer="sgd", lr=0.05, epochs=2))
    with pytest.raises(TrainingInterrupted, match="nothing was saved.*--checkpoint-dir"):
        trainer.fit(batches(), on_step=signal_at(3, signal.SIGTERM))
