"""The Trainer loop: it learns, evaluates when told, stops early, keeps the best model,
calls models the documented ways, and logs what it did."""

from __future__ import annotations

import collections

import pytest
import torch
from torch import nn

from seqnlp.training import (
    Trainer,
    TrainerConfig,
    load_checkpoint,
    move_to_device,
    read_metrics,
)
from tests.training.toy import ToyClassifier, flat_parameters, shuffled_batches, toy_data


def quiet(**options: object) -> TrainerConfig:
    return TrainerConfig(device="cpu", progress=False, **options)  # type: ignore[arg-type]


def accuracy(model: nn.Module, batches) -> dict[str, float]:
    correct = total = 0
    for batch in batches:
        logits, _ = model(**batch)
        correct += int((logits.argmax(1) == batch["y"]).sum())
        total += len(batch["y"])
    return {"accuracy": correct / total}


def scripted(scores: list[float], snapshots: list[torch.Tensor]):
    """An evaluate function returning `scores` in turn and recording the weights seen."""
    it = iter(scores)

    def evaluate(model: nn.Module, batches) -> dict[str, float]:
        snapshots.append(flat_parameters(model))
        return {"accuracy": next(it)}

    return evaluate


def test_it_learns_a_memorisable_toy_set() -> None:
    torch.manual_seed(0)
    x, y = toy_data(n=96)
    batches = shuffled_batches(x, y, batch_size=16)
    model = ToyClassifier(dropout=0.0)
    config = quiet(optimizer="adam", lr=0.03, epochs=30, metric="accuracy", mode="max")
    result = Trainer(model, config).fit(batches, batches(0), accuracy)
    losses = [epoch["train_loss"] for epoch in result.history]
    assert losses[-1] < 0.25 * losses[0]
    assert result.best_score >= 0.95
    assert result.epochs_completed == 30 and result.steps == 30 * 6


def test_early_stopping_stops_after_patience_evals_and_restores_the_best(tmp_path) -> None:
    torch.manual_seed(0)
    x, y = toy_data(n=32)
    snapshots: list[torch.Tensor] = []
    evaluate = scripted([0.5, 0.6, 0.55, 0.58, 0.59, 0.9, 0.9], snapshots)
    model = ToyClassifier()
    config = quiet(epochs=10, metric="accuracy", mode="max", patience=3,
                   checkpoint_dir=tmp_path, lr=0.01)
    result = Trainer(model, config).fit(shuffled_batches(x, y, 8), [None], evaluate)
    assert result.stopped_early
    assert result.epochs_completed == 5  # best at epoch 1, then 3 evaluations without gain
    assert (result.best_score, result.best_epoch, result.best_step) == (0.6, 1, 8)
    assert torch.equal(flat_parameters(model), snapshots[1])
    best = load_checkpoint(tmp_path / "best.pt")
    assert best["step"] == 8 and best["metrics"] == {"accuracy": 0.6}
    assert torch.equal(torch.cat([t.reshape(-1) for t in best["model"].values()]), snapshots[1])
    last = load_checkpoint(tmp_path / "last.pt")
    assert last["stopping"]["stopped"] and last["stopping"]["bad_evals"] == 3


def test_restore_best_false_keeps_the_last_weights() -> None:
    x, y = toy_data(n=32)
    snapshots: list[torch.Tensor] = []
    model = ToyClassifier()
    config = quiet(epochs=3, metric="accuracy", mode="max", restore_best=False)
    Trainer(model, config).fit(shuffled_batches(x, y, 8), [None], scripted([0.9, 0.1, 0.1], snapshots))
    assert torch.equal(flat_parameters(model), snapshots[-1])


def test_eval_every_evaluates_every_n_updates() -> None:
    x, y = toy_data(n=40)
    config = quiet(epochs=2, eval_every=3)
    result = Trainer(ToyClassifier(), config).fit(shuffled_batches(x, y, 8), shuffled_batches(x, y, 8)(0))
    assert [e["step"] for e in result.evaluations] == [3, 6, 9]
    assert [e["epoch"] for e in result.evaluations] == [0, 1, 1]


def test_max_steps_stops_mid_epoch_and_still_evaluates() -> None:
    x, y = toy_data(n=40)
    config = quiet(epochs=5, max_steps=7)
    result = Trainer(ToyClassifier(), config).fit(shuffled_batches(x, y, 8), shuffled_batches(x, y, 8)(0))
    assert result.steps == 7 and result.epochs_completed == 1
    assert [e["step"] for e in result.evaluations] == [5, 7]


def test_max_minutes_ends_the_epoch_in_progress_evaluates_it_and_stops(monkeypatch) -> None:
    x, y = toy_data(n=40)  # 5 batches an epoch
    monkeypatch.setattr(Trainer, "_now", lambda self: 10.0 * self.step)  # 10 s an update
    config = quiet(epochs=4, max_minutes=1.0)  # past the budget after update 6
    result = Trainer(ToyClassifier(), config).fit(shuffled_batches(x, y, 8), shuffled_batches(x, y, 8)(0))
    assert result.stopped_by_time and not result.stopped_early
    assert result.steps == 6 and result.epochs_completed == 2
    assert [e["step"] for e in result.evaluations] == [5, 6]  # the cut epoch is evaluated
    untimed = Trainer(ToyClassifier(), quiet(epochs=2)).fit(shuffled_batches(x, y, 8))
    assert untimed.steps == 10 and not untimed.stopped_by_time


def test_max_minutes_spent_at_an_epoch_end_starts_no_other_epoch(monkeypatch) -> None:
    x, y = toy_data(n=40)
    monkeypatch.setattr(Trainer, "_now", lambda self: 12.0 * self.step)
    result = Trainer(ToyClassifier(), quiet(epochs=4, max_minutes=1.0)).fit(
        shuffled_batches(x, y, 8))
    assert result.steps == 5 and result.epochs_completed == 1 and result.stopped_by_time


def test_gradient_accumulation_equals_one_big_batch() -> None:
    x, y = toy_data(n=32)
    small = [{"x": x[i:i + 4], "y": y[i:i + 4]} for i in range(0, 32, 4)]
    big = [{"x": x[i:i + 8], "y": y[i:i + 8]} for i in range(0, 32, 8)]
    results = []
    for batches, accumulate in ((small, 2), (big, 1)):
        torch.manual_seed(1)
        model = ToyClassifier(dropout=0.0)
        Trainer(model, quiet(optimizer="sgd", lr=0.5, epochs=2, grad_accum_steps=accumulate)).fit(batches)
        results.append(flat_parameters(model))
    assert torch.allclose(results[0], results[1], atol=1e-6)


class Recorder(nn.Module):
    """Records how it was called, its mode, and reset_state calls."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(1))
        self.calls: list[str] = []

    def reset_state(self) -> None:
        self.calls.append("reset")

    def forward(self, *args, **kwargs):
        kind = "kwargs" if kwargs else f"args{len(args)}"
        self.calls.append(f"{'train' if self.training else 'eval'}:{kind}")
        return None, self.w.sum() * 0 + 1.0


@pytest.mark.parametrize(
    ("batch", "kind"),
    [({"a": torch.ones(2), "b": torch.ones(2)}, "kwargs"),
     ((torch.ones(2), torch.ones(2)), "args2"),
     ([torch.ones(2)], "args1"),
     (torch.ones(2), "args1")],
)
def test_batches_are_passed_by_keyword_position_or_alone(batch, kind: str) -> None:
    model = Recorder()
    Trainer(model, quiet(epochs=1)).fit([batch])
    assert model.calls == ["reset", f"train:{kind}"]


def test_reset_state_is_called_each_epoch_and_around_evaluations() -> None:
    model = Recorder()
    Trainer(model, quiet(epochs=2)).fit([torch.ones(1)], [torch.ones(1)])
    epoch = ["reset", "train:args1", "reset", "eval:args1", "reset"]
    assert model.calls == epoch * 2


def test_move_to_device_keeps_the_structure() -> None:
    Pair = collections.namedtuple("Pair", "left right")
    batch = {"a": [torch.ones(1), (torch.zeros(2), 3)], "b": Pair(torch.ones(1), "x")}
    moved = move_to_device(batch, torch.device("cpu"))
    assert isinstance(moved["a"], list) and isinstance(moved["a"][1], tuple)
    assert isinstance(moved["b"], Pair) and moved["b"].right == "x"
    assert torch.equal(moved["a"][1][0], torch.zeros(2)) and moved["a"][1][1] == 3


class NoLoss(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor):
        return self.w * x, None


def test_a_model_without_a_loss_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match=r"\(output, loss\)"):
        Trainer(NoLoss(), quiet(epochs=1)).fit([torch.ones(1)])


def test_a_one_shot_generator_of_batches_is_refused() -> None:
    batches = (torch.ones(1) for _ in range(3))
    with pytest.raises(TypeError, match="one-shot iterator"):
        Trainer(Recorder(), quiet(epochs=1)).fit(batches)


def test_a_missing_metric_names_what_evaluate_returned() -> None:
    with pytest.raises(ValueError, match=r"no 'accuracy'.*\['loss'\]"):
        Trainer(Recorder(), quiet(epochs=1, metric="accuracy")).fit([torch.ones(1)], [torch.ones(1)])


def test_the_metrics_log_has_steps_evaluations_and_epochs(tmp_path) -> None:
    x, y = toy_data(n=32)
    log = tmp_path / "logs" / "train.jsonl"
    config = quiet(epochs=2, log_every=2, log_path=log)
    Trainer(ToyClassifier(), config).fit(shuffled_batches(x, y, 8), shuffled_batches(x, y, 8)(0))
    records = read_metrics(log)
    events = [r["event"] for r in records]
    assert events == ["start", "step", "step", "eval", "epoch", "step", "step", "eval", "epoch", "end"]
    steps = read_metrics(log, event="step")
    assert [r["step"] for r in steps] == [2, 4, 6, 8]
    for record in steps:
        assert set(record) >= {"epoch", "loss", "lr", "grad_norm", "time", "examples_per_s"}
        assert record["loss"] > 0 and record["examples_per_s"] > 0


def test_checkpoints_are_written_each_epoch_and_load_with_weights_only(tmp_path) -> None:
    x, y = toy_data(n=32)
    config = quiet(epochs=2, checkpoint_dir=tmp_path, keep_epochs=True)
    model = ToyClassifier()
    Trainer(model, config).fit(shuffled_batches(x, y, 8), shuffled_batches(x, y, 8)(0))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "best.pt", "epoch-000.pt", "epoch-001.pt", "last.pt"]
    first = load_checkpoint(tmp_path / "epoch-000.pt")
    assert first["counters"]["epoch"] == 1 and first["counters"]["step"] == 4
    assert TrainerConfig.from_dict(first["config"]) == config
    last = load_checkpoint(tmp_path / "last.pt")
    assert set(last) >= {"model", "optimizer", "schedule", "rng", "counters", "stopping", "config"}


@pytest.mark.parametrize(
    ("options", "message"),
    [({"optimizer": "lamb"}, "optimizer must be one of"),
     ({"lr": 0.0}, "lr must be > 0, got 0.0"),
     ({"schedule": "cosine"}, "schedule must be one of"),
     ({"mode": "best"}, "mode must be one of"),
     ({"epochs": 0}, "epochs must be an integer >= 1, got 0"),
     ({"patience": 0}, "patience must be an integer >= 1"),
     ({"clip_norm": -1.0}, "clip_norm must be > 0"),
     ({"schedule": "step", "gamma": 1.5}, "gamma must be in"),
     ({"device": "tpu"}, "device must be one of"),
     ({"alpha": 1.0}, "alpha must be in \\[0, 1\\), got 1.0"),
     ({"eps": 0.0}, "eps must be > 0, got 0.0"),
     ({"max_minutes": 0.0}, "max_minutes must be > 0, got 0.0")],
)
def test_config_rejects_bad_values_showing_them(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainerConfig(**options)


def test_resume_without_a_checkpoint_dir_is_refused() -> None:
    with pytest.raises(ValueError, match="checkpoint_dir"):
        Trainer(Recorder(), quiet(epochs=1)).fit([torch.ones(1)], resume=True)
