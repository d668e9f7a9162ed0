"""Optimizers, learning-rate schedules, clipping and weight decay, against exact values."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from seqnlp.training import ZAREMBA, LRSchedule, Trainer, TrainerConfig, build_optimizer


class Linear1(nn.Module):
    """One parameter vector p; forward(w) returns (None, w . p), so dL/dp = w exactly."""

    def __init__(self, start: list[float]) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.tensor(start, dtype=torch.float64))

    def forward(self, w: torch.Tensor) -> tuple[None, torch.Tensor]:
        return None, (w * self.p).sum()


def one_step(start: list[float], w: list[float], **options: object) -> tuple[torch.Tensor, dict]:
    """Parameters after one Trainer update on the batch `w`, and the step record."""
    model = Linear1(start)
    records: list[dict] = []
    config = TrainerConfig(epochs=1, device="cpu", progress=False, **options)  # type: ignore[arg-type]
    Trainer(model, config).fit([torch.tensor(w, dtype=torch.float64)],
                               on_step=lambda trainer, record: records.append(record))
    return model.p.detach(), records[0]


def lrs_by_epoch(epochs: int, batches: int = 1, **options: object) -> list[float]:
    """The learning rate of the first update of each epoch, as the Trainer set it."""
    seen: dict[int, float] = {}
    config = TrainerConfig(epochs=epochs, device="cpu", progress=False, **options)  # type: ignore[arg-type]
    data = [torch.zeros(2, dtype=torch.float64)] * batches
    Trainer(Linear1([0.0, 0.0]), config).fit(
        data, on_step=lambda trainer, record: seen.setdefault(record["epoch"], record["lr"])
    )
    return [seen[e] for e in range(epochs)]


def test_zaremba_small_schedule_holds_four_epochs_then_halves_each_epoch() -> None:
    lrs = lrs_by_epoch(optimizer="sgd", schedule="exponential", **ZAREMBA["small"])
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125,
                   0.015625, 0.0078125, 0.00390625, 0.001953125]


def test_zaremba_medium_schedule_divides_by_1_2_after_six_epochs() -> None:
    options = {**ZAREMBA["medium"], "epochs": 9}
    lrs = lrs_by_epoch(optimizer="sgd", schedule="exponential", **options)
    assert lrs[:6] == [1.0] * 6
    assert lrs[6:] == pytest.approx([1 / 1.2, 1 / 1.2**2, 1 / 1.2**3], rel=1e-12)


@pytest.mark.parametrize(
    ("options", "make_torch"),
    [
        ({"schedule": "exponential", "gamma": 0.7},
         lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.7)),
        ({"schedule": "step", "gamma": 0.1, "step_size": 2},
         lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)),
    ],
)
def test_epoch_schedules_match_torch_schedulers(options: dict, make_torch) -> None:
    ours = lrs_by_epoch(epochs=6, batches=3, optimizer="sgd", lr=0.5, **options)
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.5)
    scheduler = make_torch(optimizer)
    reference = []
    for _ in range(6):
        reference.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert ours == pytest.approx(reference, rel=1e-12)


def test_linear_warmup_rises_over_warmup_steps_then_holds() -> None:
    seen: list[float] = []
    config = TrainerConfig(optimizer="sgd", lr=0.2, schedule="linear_warmup", warmup_steps=4,
                           epochs=1, device="cpu", progress=False)
    data = [torch.zeros(2, dtype=torch.float64)] * 6
    Trainer(Linear1([0.0, 0.0]), config).fit(data, on_step=lambda t, r: seen.append(r["lr"]))
    assert seen == pytest.approx([0.05, 0.1, 0.15, 0.2, 0.2, 0.2], rel=1e-12)


def test_plateau_matches_torch_reduce_on_plateau() -> None:
    scores = [5.0, 4.0, 4.5, 4.2, 4.1, 3.0, 3.5, 3.6, 3.7, 3.8, 2.0]
    config = TrainerConfig(optimizer="sgd", lr=1.0, schedule="plateau", gamma=0.5,
                           plateau_patience=1, mode="min")
    optimizer = build_optimizer([nn.Parameter(torch.zeros(1))], config)
    schedule = LRSchedule(optimizer, config)
    reference_opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(
        reference_opt, mode="min", factor=0.5, patience=1, threshold=0.0
    )
    for score in scores:
        schedule.observe(score)
        reference.step(score)
        assert schedule.apply(epoch=0, step=0) == reference_opt.param_groups[0]["lr"]
    assert reference_opt.param_groups[0]["lr"] == 0.125  # three reductions happened


def test_min_lr_floors_every_schedule() -> None:
    lrs = lrs_by_epoch(epochs=4, optimizer="sgd", lr=1.0, schedule="exponential",
                       gamma=0.1, min_lr=0.005)
    assert lrs == pytest.approx([1.0, 0.1, 0.01, 0.005])


def test_clip_norm_rescales_the_gradient_to_the_threshold() -> None:
    w = [3.0, -4.0]  # norm 5
    p, record = one_step([1.0, 1.0], w, optimizer="sgd", lr=1.0, clip_norm=1.0, log_every=1)
    assert p.tolist() == pytest.approx([1.0 - 0.6, 1.0 + 0.8], rel=1e-6)


def test_clip_value_clamps_each_gradient_entry() -> None:
    p, _ = one_step([0.0, 0.0, 0.0], [3.0, -0.25, -5.0], optimizer="sgd", lr=1.0,
                    clip_value=1.0)
    assert p.tolist() == [-1.0, 0.25, 1.0]


def test_step_records_report_the_gradient_norm_before_clipping(tmp_path) -> None:
    from seqnlp.training import read_metrics

    log = tmp_path / "log.jsonl"
    one_step([1.0, 1.0], [3.0, -4.0], optimizer="sgd", lr=1.0, clip_norm=1.0,
             log_every=1, log_path=log)
    (step,) = read_metrics(log, event="step")
    assert step["grad_norm"] == pytest.approx(5.0)
    assert step["lr"] == 1.0


@pytest.mark.parametrize(
    ("optimizer", "expected"),
    [
        # zero loss gradient: SGD's L2 term gives p - lr * wd * p
        ("sgd", [2.0 * (1 - 0.1 * 0.5), -4.0 * (1 - 0.1 * 0.5)]),
        # AdamW decays the weights directly, and Adam's step on a zero gradient is zero
        ("adamw", [2.0 * (1 - 0.1 * 0.5), -4.0 * (1 - 0.1 * 0.5)]),
        # Adam sees the L2 gradient wd * p; its first step is lr * sign(gradient)
        ("adam", [2.0 - 0.1, -4.0 + 0.1]),
    ],
)
def test_weight_decay_is_applied(optimizer: str, expected: list[float]) -> None:
    p, _ = one_step([2.0, -4.0], [0.0, 0.0], optimizer=optimizer, lr=0.1, weight_decay=0.5)
    assert p.tolist() == pytest.approx(expected, rel=1e-6)


def test_adagrad_first_step_is_lr_times_sign() -> None:
    p, _ = one_step([0.0, 0.0], [2.0, -0.5], optimizer="adagrad", lr=0.1)
    assert p.tolist() == pytest.approx([-0.1, 0.1], rel=1e-6)


def test_rmsprop_divides_by_the_root_of_the_running_mean_square() -> None:
    # Keras' defaults: rho (torch's alpha) 0.9, eps 1e-7. Two updates on gradients w:
    # v = 0.9 v + 0.1 w^2, then p -= lr * w / (sqrt(v) + eps).
    model = Linear1([0.0, 0.0])
    config = TrainerConfig(optimizer="rmsprop", lr=0.01, alpha=0.9, eps=1e-7, epochs=1,
                           device="cpu", progress=False)
    gradients = [[2.0, -0.5], [1.0, 3.0]]
    Trainer(model, config).fit([torch.tensor(w, dtype=torch.float64) for w in gradients])
    expected, v = [0.0, 0.0], [0.0, 0.0]
    for w in gradients:
        for i, g in enumerate(w):
            v[i] = 0.9 * v[i] + 0.1 * g * g
            expected[i] -= 0.01 * g / (math.sqrt(v[i]) + 1e-7)
    assert model.p.tolist() == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "rmsprop"])
def test_eps_alpha_and_momentum_default_to_torch_defaults(optimizer: str) -> None:
    built = build_optimizer([nn.Parameter(torch.zeros(1))], TrainerConfig(optimizer=optimizer))
    reference = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
                 "rmsprop": torch.optim.RMSprop}[optimizer]([nn.Parameter(torch.zeros(1))])
    for key in ("eps", "alpha", "momentum"):
        assert built.defaults.get(key) == reference.defaults.get(key)


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_adam_runs_fused_and_matches_torchs_default_implementation(optimizer: str) -> None:
    torch.manual_seed(0)
    ours = [nn.Parameter(torch.randn(50, 4)), nn.Parameter(torch.randn(4))]
    theirs = [nn.Parameter(p.detach().clone()) for p in ours]
    built = build_optimizer(ours, TrainerConfig(optimizer=optimizer, lr=0.01, weight_decay=0.1))
    reference = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[optimizer](
        theirs, lr=0.01, weight_decay=0.1)
    assert built.defaults["fused"] and not reference.defaults["fused"]
    for _ in range(20):
        for p, q in zip(ours, theirs):
            p.grad = torch.randn_like(p)
            q.grad = p.grad.clone()
        built.step()
        reference.step()
    for p, q in zip(ours, theirs):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_parameter_groups_given_as_generators_keep_their_parameters() -> None:
    model = nn.Linear(3, 2)
    groups = [{"params": iter([model.weight])}, {"params": (p for p in [model.bias]), "lr": 0.1}]
    built = build_optimizer(groups, TrainerConfig())
    assert [len(g["params"]) for g in built.param_groups] == [1, 1] and built.defaults["fused"]


def test_adam_falls_back_to_the_default_implementation_where_fused_has_no_kernel() -> None:
    built = build_optimizer([nn.Parameter(torch.empty(2, device="meta"))], TrainerConfig())
    assert not built.defaults["fused"]


def test_sgd_momentum_accumulates_velocity() -> None:
    model = Linear1([0.0])
    config = TrainerConfig(optimizer="sgd", lr=1.0, momentum=0.9, epochs=1, device="cpu",
                           progress=False)
    Trainer(model, config).fit([torch.tensor([1.0], dtype=torch.float64)] * 3)
    # velocities 1, 1.9, 2.71: p = -(1 + 1.9 + 2.71)
    assert model.p.item() == pytest.approx(-5.61)
    assert not math.isnan(model.p.item())


class Bag(nn.Module):
    """An embedding (sparse or dense) and a linear layer: loss = sum over the batch's rows
    of w . (E[ids] W^T + b)."""

    def __init__(self, sparse: bool) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embedding = nn.Embedding(7, 3, sparse=sparse).double()
        self.linear = nn.Linear(3, 2).double()

    def forward(self, ids: torch.Tensor, w: torch.Tensor) -> tuple[None, torch.Tensor]:
        return None, (self.linear(self.embedding(ids)) * w).sum()


def bag_batches() -> list[dict[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(1)
    return [{"ids": torch.randint(0, 7, (5,), generator=generator),
             "w": torch.randn(5, 2, generator=generator, dtype=torch.float64)}
            for _ in range(4)]  # rows repeat within a batch: the sparse grad is uncoalesced


def train_bag(sparse: bool, **options: object) -> Bag:
    model = Bag(sparse)
    config = TrainerConfig(epochs=2, device="cpu", progress=False, **options)  # type: ignore[arg-type]
    Trainer(model, config).fit(bag_batches())
    return model


@pytest.mark.parametrize("options", [
    {"optimizer": "adagrad", "lr": 0.1},
    {"optimizer": "sgd", "lr": 0.1, "clip_norm": 0.5},
    {"optimizer": "adagrad", "lr": 0.1, "clip_value": 0.2, "clip_norm": 1.0},
])
def test_sparse_embedding_gradients_train_exactly_as_dense_ones(options: dict) -> None:
    sparse, dense = train_bag(True, **options), train_bag(False, **options)
    for a, b in zip(sparse.parameters(), dense.parameters()):
        assert torch.allclose(a, b, atol=1e-12)
    assert not torch.equal(sparse.embedding.weight, Bag(True).embedding.weight)  # it trained


def test_weight_decay_skips_sparse_parameters_only() -> None:
    from seqnlp.training import parameter_groups

    model = Bag(True)
    groups = parameter_groups(model, TrainerConfig(optimizer="adagrad", weight_decay=0.1))
    assert [list(g["params"]) for g in groups] == [list(model.linear.parameters()),
                                                   [model.embedding.weight]]
    built = build_optimizer(groups, TrainerConfig(optimizer="adagrad", weight_decay=0.1))
    assert [g["weight_decay"] for g in built.param_groups] == [0.1, 0.0]
    # without sparse modules: one plain list, the optimizer's layout of before
    dense = Bag(False)
    listed = parameter_groups(dense, TrainerConfig())
    assert [id(p) for p in listed] == [id(p) for p in dense.parameters()]


@pytest.mark.parametrize("options", [{"optimizer": "adam"}, {"optimizer": "rmsprop"},
                                     {"optimizer": "sgd", "momentum": 0.9}])
def test_sparse_gradients_with_an_optimizer_that_cannot_take_them_fail_early(
        options: dict) -> None:
    with pytest.raises(ValueError, match="sparse gradients"):
        Trainer(Bag(True), TrainerConfig(device="cpu", **options))  # type: ignore[arg-type]
