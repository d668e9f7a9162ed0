"""Weight averaging (`ema_decay`): the average equals the formula applied to the weights
after each update, evaluations and the best model see the average while training goes on
with the trained weights, and a resumed run keeps the same average."""

from __future__ import annotations

import pytest
import torch

from seqnlp.training import Trainer, TrainerConfig
from tests.training.toy import (
    ToyClassifier,
    flat_parameters,
    shuffled_batches,
    toy_data,
)

DECAY = 0.9


def _fit(config: TrainerConfig, dev: bool = False, resume: bool = False,
         model: torch.nn.Module | None = None) -> tuple[Trainer, list, list]:
    torch.manual_seed(0)
    model = model or ToyClassifier(dropout=0.0)
    x, y = toy_data()
    trained: list[torch.Tensor] = [flat_parameters(model)]
    scored: list[tuple[int, torch.Tensor]] = []
    trainer = Trainer(model, config)

    def evaluate(m: torch.nn.Module, batches: list) -> dict[str, float]:
        scored.append((trainer.step, flat_parameters(m)))
        return {"loss": -float(trainer.step)}  # each evaluation is a new best

    def on_step(t: Trainer, record: dict) -> None:
        trained.append(flat_parameters(t.model))

    trainer.fit(shuffled_batches(x, y, 16), [{"x": x, "y": y}] if dev else None,
                evaluate if dev else None, on_step=on_step, resume=resume)
    return trainer, trained, scored


def _average(weights: list[torch.Tensor]) -> list[torch.Tensor]:
    """The average after each update, by the formula of `TrainerConfig.ema_decay`."""
    average = weights[0].clone()
    out = [average.clone()]
    for step, value in enumerate(weights[1:], start=1):
        decay = min(DECAY, (1 + step) / (10 + step))
        average = decay * average + (1 - decay) * value
        out.append(average.clone())
    return out


def test_the_model_ends_with_the_average_of_its_weights() -> None:
    config = TrainerConfig(optimizer="sgd", lr=0.5, epochs=2, ema_decay=DECAY, progress=False,
                           device="cpu")
    trainer, trained, _ = _fit(config)
    assert len(trained) == trainer.step + 1 == 13
    expected = _average(trained)[-1]
    assert torch.allclose(flat_parameters(trainer.model), expected, atol=1e-6)
    assert not torch.allclose(expected, trained[-1], atol=1e-3)  # the average is not the last


def test_evaluations_score_the_average_and_training_goes_on_from_the_weights() -> None:
    config = TrainerConfig(optimizer="sgd", lr=0.5, epochs=3, ema_decay=DECAY, progress=False,
                           device="cpu")
    trainer, trained, scored = _fit(config, dev=True)
    averages = _average(trained)
    assert [step for step, _ in scored] == [6, 12, 18]
    for step, seen in scored:
        assert torch.allclose(seen, averages[step], atol=1e-6)
    plain = TrainerConfig(optimizer="sgd", lr=0.5, epochs=3, progress=False, device="cpu")
    _, trained_plain, _ = _fit(plain, dev=True)
    assert all(torch.equal(a, b) for a, b in zip(trained, trained_plain))  # same trajectory
    assert torch.allclose(flat_parameters(trainer.model), averages[18], atol=1e-6)  # the best


def test_a_resumed_run_keeps_the_average(tmp_path) -> None:
    def config(**extra: object) -> TrainerConfig:
        return TrainerConfig(optimizer="sgd", lr=0.5, epochs=4, ema_decay=DECAY,
                             progress=False, device="cpu", **extra)

    whole, _, _ = _fit(config())
    _fit(config(checkpoint_dir=str(tmp_path), max_steps=10))
    resumed, _, _ = _fit(config(checkpoint_dir=str(tmp_path)), resume=True)
    assert resumed.step == whole.step == 24
    assert torch.equal(flat_parameters(resumed.model), flat_parameters(whole.model))


def test_ema_decay_must_be_below_one() -> None:
    with pytest.raises(ValueError, match="ema_decay"):
        TrainerConfig(ema_decay=1.0)
