"""A tiny classifier and its data, shared by the training tests and their subprocesses."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class ToyClassifier(nn.Module):
    """Linear -> tanh -> dropout -> linear; forward(x, y) -> (logits, cross-entropy)."""

    def __init__(self, n_in: int = 6, hidden: int = 16, n_out: int = 3, dropout: float = 0.3):
        super().__init__()
        self.hidden = nn.Linear(n_in, hidden)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, n_out)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.out(self.dropout(torch.tanh(self.hidden(x))))
        return logits, F.cross_entropy(logits, y)


def toy_data(n: int = 96, n_in: int = 6, n_out: int = 3, seed: int = 0
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian inputs labelled by the argmax of a fixed random projection (learnable)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, n_in)).astype(np.float32)
    labels = (x @ rng.standard_normal((n_in, n_out))).argmax(axis=1)
    return torch.from_numpy(x), torch.from_numpy(labels)


def shuffled_batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int = 0
                     ) -> Callable[[int], list[dict[str, torch.Tensor]]]:
    """`epoch -> list of {"x", "y"} batches`, shuffled by a generator seeded by the epoch."""

    def batches(epoch: int) -> list[dict[str, torch.Tensor]]:
        order = np.random.default_rng(seed + epoch).permutation(len(x))
        return [
            {"x": x[order[i:i + batch_size]], "y": y[order[i:i + batch_size]]}
            for i in range(0, len(x), batch_size)
        ]

    return batches


def flat_parameters(model: nn.Module) -> torch.Tensor:
    """Every parameter, flattened and concatenated (a copy)."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).clone()
