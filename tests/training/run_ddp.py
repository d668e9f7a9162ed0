"""Data-parallel toy training, launched by test_distributed.py under torchrun:

    python -m torch.distributed.run --standalone --nproc_per_node=2 \\
        -m tests.training.run_ddp --out DIR

Each rank saves DIR/params-rank{R}.pt: its flattened parameters after every update.
`train(..., combined=True)` is the single-process reference on the concatenated batches.
With `--nan-at EPOCH BATCH` that batch holds a NaN input (so one rank's loss turns NaN):
each rank then writes the message of the divergence it stopped with to
DIR/diverged-rank{R}.txt.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from seqnlp.training import Trainer, TrainerConfig, TrainingDiverged, seed_everything
from tests.training.toy import ToyClassifier, flat_parameters, shuffled_batches, toy_data

BATCH_SIZE = 4
EXAMPLES = 32  # 8 batches an epoch: 4 updates on 2 ranks


def combined(batches):
    """Batches 2i and 2i+1 concatenated: what two ranks see in one update together."""

    def pairs(epoch: int):
        items = batches(epoch)
        return [{key: torch.cat([a[key], b[key]]) for key in a}
                for a, b in zip(items[0::2], items[1::2])]

    return pairs


def with_nan(batches, epoch_bad: int, index_bad: int):
    """`batches` with a NaN in the first input of batch `index_bad` of epoch `epoch_bad`."""

    def poisoned(epoch: int):
        items = [dict(batch) for batch in batches(epoch)]
        if epoch == epoch_bad:
            items[index_bad]["x"] = items[index_bad]["x"].clone()
            items[index_bad]["x"][0, 0] = float("nan")
        return items

    return poisoned


def train(folder: Path | None, combine: bool = False, nan_at: tuple[int, int] | None = None
          ) -> tuple[torch.Tensor, list[float]]:
    """Train 3 epochs; return the parameters after each update and the update losses."""
    torch.set_num_threads(1)
    seed_everything(0)
    model = ToyClassifier(dropout=0.0)
    x, y = toy_data(n=EXAMPLES)
    batches = shuffled_batches(x, y, BATCH_SIZE)
    if nan_at is not None:
        batches = with_nan(batches, *nan_at)
    config = TrainerConfig(
        optimizer="sgd", lr=0.2, momentum=0.9, clip_norm=2.0, epochs=3, device="cpu",
        progress=False, log_every=1,
        log_path=None if folder is None else str(folder / "log.jsonl"),
        checkpoint_dir=None if folder is None else str(folder / "checkpoints"),
    )
    snapshots: list[torch.Tensor] = []
    losses: list[float] = []

    def record(trainer: Trainer, step: dict) -> None:
        snapshots.append(flat_parameters(trainer.model))
        losses.append(step["loss"])

    Trainer(model, config).fit(combined(batches) if combine else batches, on_step=record)
    return torch.stack(snapshots), losses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--nan-at", type=int, nargs=2, default=None)
    args = parser.parse_args()
    if args.nan_at is not None:
        try:
            train(args.out, nan_at=tuple(args.nan_at))
        except TrainingDiverged as exc:
            (args.out / f"diverged-rank{os.environ['RANK']}.txt").write_text(str(exc))
        return
    params, losses = train(args.out)
    torch.save({"params": params, "losses": losses},
               args.out / f"params-rank{os.environ['RANK']}.pt")


if __name__ == "__main__":
    main()
