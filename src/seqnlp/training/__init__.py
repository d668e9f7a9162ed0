"""Model-agnostic training: the Trainer, its config, optimizers and learning-rate
schedules, atomic resumable checkpoints, JSONL metrics, data parallelism under torchrun,
and gradient-flow diagnostics for recurrent networks.

Importing this package imports torch; matplotlib only when a plot is drawn.
"""

from seqnlp.training.batches import call_model, mean_loss, move_to_device
from seqnlp.training.checkpoint import (
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
    seed_everything,
    set_deterministic,
)
from seqnlp.training.config import TrainerConfig
from seqnlp.training.divergence import TrainingDiverged
from seqnlp.training.meters import MetricsLogger, RunningMean, read_metrics
from seqnlp.training.optim import ZAREMBA, LRSchedule, build_optimizer, parameter_groups
from seqnlp.training.stopping import EarlyStopping
from seqnlp.training.trainer import FitResult, Trainer

__all__ = [
    "ZAREMBA",
    "CheckpointError",
    "EarlyStopping",
    "FitResult",
    "LRSchedule",
    "MetricsLogger",
    "RunningMean",
    "Trainer",
    "TrainerConfig",
    "TrainingDiverged",
    "build_optimizer",
    "parameter_groups",
    "call_model",
    "load_checkpoint",
    "mean_loss",
    "move_to_device",
    "read_metrics",
    "save_checkpoint",
    "seed_everything",
    "set_deterministic",
]
