"""Optimizers and learning-rate schedules for the Trainer.

A schedule is a factor on each parameter group's base learning rate, computed from the
epoch and update counters (plus, for "plateau", a small state of floats), so that a
resumed run recomputes exactly the learning rates of an uninterrupted one. The Zaremba
et al. (2014) language-model schedule is "exponential" with `constant_epochs`: see
`ZAREMBA`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any

import torch

from seqnlp.training.config import TrainerConfig

# Zaremba, Sutskever and Vinyals (2014), "Recurrent neural network regularization", PTB:
# SGD, lr 1, gradient norm clipped at 5; after `constant_epochs` epochs the learning rate
# is multiplied by `gamma` at every epoch. Use as
# `TrainerConfig(optimizer="sgd", schedule="exponential", **ZAREMBA["medium"])`.
ZAREMBA: dict[str, dict[str, Any]] = {
    "small": {"lr": 1.0, "clip_norm": 5.0, "epochs": 13, "constant_epochs": 4, "gamma": 0.5},
    "medium": {"lr": 1.0, "clip_norm": 5.0, "epochs": 39, "constant_epochs": 6, "gamma": 1 / 1.2},
    "large": {"lr": 1.0, "clip_norm": 10.0, "epochs": 55, "constant_epochs": 14, "gamma": 1 / 1.15},
}


def build_optimizer(
    parameters: Iterable[torch.nn.Parameter] | Iterable[dict[str, Any]], config: TrainerConfig
) -> torch.optim.Optimizer:
    """The optimizer named by `config.optimizer`, over `parameters` (tensors or groups).

    Args:
        parameters: what `torch.optim` accepts: parameters or parameter-group dicts.
        config: supplies `optimizer`, `lr`, `weight_decay`, `momentum` (SGD and RMSprop),
            `alpha` (RMSprop) and `eps` (Adam, AdamW, RMSprop).

    Returns:
        A `torch.optim` optimizer. "adam", "sgd", "adagrad" and "rmsprop" add
        `weight_decay * p` to the gradient (L2); "adamw" decays the weights directly
        (Loshchilov and Hutter, 2019). "rmsprop" (Tieleman and Hinton, 2012) divides the
        gradient by `sqrt(v) + eps`, v the running mean of its squares with smoothing
        `alpha`, as Keras' RMSprop does with `rho`.

        "adam" and "adamw" run on torch's fused kernel when every parameter is a
        floating-point tensor on the CPU or a GPU: the same update as torch's default
        implementation (equal up to float rounding), in one pass over each parameter
        instead of several, without its temporaries (on a CPU, two (V, E) buffers per
        step for a V x E embedding table).
    """
    parameters = _listed(parameters)
    common = {"lr": config.lr, "weight_decay": config.weight_decay}
    if config.optimizer in ("adam", "adamw"):
        adam = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
        return adam(parameters, eps=config.eps, fused=_fusable(parameters), **common)
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(parameters, alpha=config.alpha, eps=config.eps,
                                   momentum=config.momentum, **common)
    if config.optimizer == "sgd":
        return torch.optim.SGD(parameters, momentum=config.momentum, **common)
    if config.optimizer == "adagrad":
        return torch.optim.Adagrad(parameters, **common)
    raise ValueError(f"unknown optimizer {config.optimizer!r}")


# Optimizers whose torch implementation takes sparse gradients (nn.Embedding(sparse=True)).
SPARSE_OPTIMIZERS = ("sgd", "adagrad")


def parameter_groups(model: torch.nn.Module, config: TrainerConfig) -> list[Any]:
    """The trainable parameters of `model` as `build_optimizer` takes them.

    A module with a true `sparse` attribute (an `nn.Embedding(sparse=True)`) gives its
    own parameters sparse gradients: an update then touches only the rows the batch
    used, and the cost of a step no longer grows with the vocabulary. Torch's optimizers
    refuse L2 on sparse gradients, so those parameters form a second group with
    `weight_decay` 0 (the other parameters keep `config.weight_decay`). Without sparse
    modules: the plain list of parameters (one group).

    Raises:
        ValueError: sparse gradients with an optimizer that cannot take them (adam,
            adamw, rmsprop), or with momentum.
    """
    sparse: dict[int, torch.nn.Parameter] = {}
    for module in model.modules():
        if getattr(module, "sparse", False) is True:
            for parameter in module.parameters(recurse=False):
                if parameter.requires_grad:
                    sparse[id(parameter)] = parameter
    dense = [p for p in model.parameters() if p.requires_grad and id(p) not in sparse]
    if not sparse:
        return dense
    if config.optimizer not in SPARSE_OPTIMIZERS or config.momentum:
        raise ValueError(
            f"the model's embeddings have sparse gradients, which {config.optimizer}"
            f"{' with momentum' if config.momentum else ''} cannot take: use adagrad or sgd "
            "without momentum, or dense embeddings")
    # torch's sparse AdaGrad builds its update with the invariant checks off and says so in a
    # UserWarning at the first step ("explicitly opt in or out"): its own tensors, valid.
    warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")
    return [{"params": dense}, {"params": list(sparse.values()), "weight_decay": 0.0}]


def _listed(parameters: Iterable[Any]) -> list[Any]:
    """Parameters, or groups with their "params" as lists: read once here, again by torch."""
    listed = []
    for item in parameters:
        if isinstance(item, dict) and not isinstance(item["params"], torch.Tensor):
            item = {**item, "params": list(item["params"])}
        listed.append(item)
    return listed


def _fusable(parameters: list[Any]) -> bool:
    """Whether torch's fused optimizer kernels take these parameters (or groups)."""
    tensors: list[torch.Tensor] = []
    for item in parameters:
        group = item["params"] if isinstance(item, dict) else item
        tensors += [group] if isinstance(group, torch.Tensor) else group
    return bool(tensors) and all(
        t.is_floating_point() and t.device.type in ("cpu", "cuda") for t in tensors
    )


class LRSchedule:
    """Sets each parameter group's lr to `max(min_lr, base_lr * factor)`.

    The factor, for epoch `e` and update `s` (both counted from 0):

    - "constant": 1.
    - "step": `gamma ** (e // step_size)`.
    - "exponential": `gamma ** max(0, e - constant_epochs + 1)`: the base lr for the
      first `constant_epochs` epochs, then one more factor of gamma each epoch.
      `constant_epochs=1` is torch's ExponentialLR.
    - "linear_warmup": `min(1, (s + 1) / warmup_steps)`: rises linearly, then holds.
    - "plateau": starts at 1; `observe(score)` multiplies it by gamma once `score` has not
      improved for more than `plateau_patience` evaluations (ReduceLROnPlateau).

    The base lr of a group is its lr when the schedule was built (stored as
    `group["initial_lr"]`, which the optimizer's state_dict keeps).
    """

    def __init__(self, optimizer: torch.optim.Optimizer, config: TrainerConfig) -> None:
        self.optimizer = optimizer
        self.config = config
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.plateau_scale = 1.0
        self.plateau_best: float | None = None
        self.plateau_bad = 0

    def factor(self, epoch: int, step: int) -> float:
        """The multiplier of the base lr at epoch `epoch` and update `step`."""
        c = self.config
        if c.schedule == "step":
            return c.gamma ** (epoch // c.step_size)
        if c.schedule == "exponential":
            return c.gamma ** max(0, epoch - c.constant_epochs + 1)
        if c.schedule == "linear_warmup":
            return min(1.0, (step + 1) / c.warmup_steps) if c.warmup_steps else 1.0
        if c.schedule == "plateau":
            return self.plateau_scale
        return 1.0

    def apply(self, epoch: int, step: int) -> float:
        """Set every group's lr for the update `step` of epoch `epoch`; return group 0's."""
        factor = self.factor(epoch, step)
        for group in self.optimizer.param_groups:
            group["lr"] = max(self.config.min_lr, group["initial_lr"] * factor)
        return float(self.optimizer.param_groups[0]["lr"])

    def observe(self, score: float) -> None:
        """Feed one evaluation score ("plateau" only; the others ignore it)."""
        if self.config.schedule != "plateau" or math.isnan(score):
            return
        if self.plateau_best is None or is_improvement(score, self.plateau_best, self.config.mode):
            self.plateau_best = score
            self.plateau_bad = 0
            return
        self.plateau_bad += 1
        if self.plateau_bad > self.config.plateau_patience:
            self.plateau_scale *= self.config.gamma
            self.plateau_bad = 0

    def state_dict(self) -> dict[str, Any]:
        """Plain numbers only (loadable with `torch.load(weights_only=True)`)."""
        return {
            "plateau_scale": self.plateau_scale,
            "plateau_best": self.plateau_best,
            "plateau_bad": self.plateau_bad,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""
        self.plateau_scale = float(state["plateau_scale"])
        best = state["plateau_best"]
        self.plateau_best = None if best is None else float(best)
        self.plateau_bad = int(state["plateau_bad"])


def is_improvement(score: float, best: float | None, mode: str) -> bool:
    """Whether `score` strictly beats `best` ("min": lower is better; "max": higher)."""
    if math.isnan(score):
        return False
    if best is None:
        return True
    return score < best if mode == "min" else score > best


def clip_gradients(
    parameters: list[torch.nn.Parameter], clip_norm: float | None, clip_value: float | None
) -> torch.Tensor | None:
    """Clip gradients in place (by value, then by global norm); return the norm before.

    Sparse gradients are coalesced first (their values then hold each row once), and count
    in the norm and the clipping like dense ones.

    Returns:
        The global L2 norm of the gradients as they came from backward, a 0-dim tensor
        (what the metrics log reports as `grad_norm`); None when no parameter has one.
    """
    with_grad = [p for p in parameters if p.grad is not None]
    if not with_grad:
        return None
    if any(p.grad.is_sparse for p in with_grad):
        return _clip_sparse(with_grad, clip_norm, clip_value)
    grads = [p.grad.detach() for p in with_grad]
    if clip_norm is not None and clip_value is None:
        return torch.nn.utils.clip_grad_norm_(parameters, clip_norm)  # the norm before
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    if clip_value is not None:
        torch.nn.utils.clip_grad_value_(parameters, clip_value)
    if clip_norm is not None:
        torch.nn.utils.clip_grad_norm_(parameters, clip_norm)
    return norm


def _clip_sparse(parameters: list[torch.nn.Parameter], clip_norm: float | None,
                 clip_value: float | None) -> torch.Tensor:
    """`clip_gradients` where some gradients are sparse (torch's clipping takes dense only)."""
    values = []
    for parameter in parameters:
        if parameter.grad.is_sparse:
            parameter.grad = parameter.grad.coalesce()
            values.append(parameter.grad._values())
        else:
            values.append(parameter.grad)
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(v.detach())
                                                 for v in values]))
    if clip_value is not None:
        for value in values:
            value.detach().clamp_(-clip_value, clip_value)
    if clip_norm is not None:
        clipped = norm if clip_value is None else torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(v.detach()) for v in values]))
        scale = torch.clamp(clip_norm / (clipped + 1e-6), max=1.0)
        for value in values:
            value.detach().mul_(scale)
    return norm
