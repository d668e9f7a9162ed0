"""Train the toy classifier in a fresh process (run by test_resume.py).

    python -m tests.training.run_toy --dir DIR [--resume] [--sleep SECONDS]

Writes DIR/log.jsonl, checkpoints under DIR/checkpoints and, when training ends,
DIR/final.pt holding the parameters.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from seqnlp.training import Trainer, TrainerConfig, seed_everything
from tests.training.toy import ToyClassifier, flat_parameters, shuffled_batches, toy_data

EPOCHS = 6
BATCH_SIZE = 8
EXAMPLES = 96  # 12 batches an epoch, 72 updates in all


def config_for(folder: Path) -> TrainerConfig:
    return TrainerConfig(
        optimizer="adam", lr=0.01, weight_decay=1e-4, clip_norm=1.0, epochs=EPOCHS,
        schedule="exponential", gamma=0.8, constant_epochs=2,
        checkpoint_dir=str(folder / "checkpoints"), checkpoint_every=5,
        log_path=str(folder / "log.jsonl"), log_every=1,
        seed=7, deterministic=True, device="cpu", progress=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--sleep", type=float, default=0.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    seed_everything(0)
    model = ToyClassifier(dropout=0.3)
    x, y = toy_data(n=EXAMPLES)
    dev_x, dev_y = toy_data(n=32, seed=1)
    dev = shuffled_batches(dev_x, dev_y, 16)(0)
    pause = (lambda trainer, record: time.sleep(args.sleep)) if args.sleep else None
    trainer = Trainer(model, config_for(args.dir))
    trainer.fit(shuffled_batches(x, y, BATCH_SIZE), dev, resume=args.resume, on_step=pause)
    torch.save(flat_parameters(model), args.dir / "final.pt")


if __name__ == "__main__":
    main()
