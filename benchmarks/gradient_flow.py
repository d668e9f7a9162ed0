"""Gradient flow through time in a simple RNN, a GRU and an LSTM on a long-dependency task.

The task: the label is the first token of the sequence, followed by D distractor tokens
(tested on D from 20 to 200); the network classifies from its last hidden state, so the
only useful signal lies D steps back (Hochreiter and Schmidhuber, 1997, experiment 2a;
Bengio, Simard and Frasconi, 1994). Each architecture is trained with
`seqnlp.training.Trainer` on `seqnlp.nn` layers (fused kernels) in two regimes:
"direct" (training distances drawn from [20, 200] from the start) and "curriculum"
(from [1, m], m growing from 10 to 200). Then, with the same weights, the cell is
unrolled step by step (`seqnlp.nn.unroll` over `rnn_cell`, `gru_cell`, `lstm_cell`) so that
`hidden_grad_norms` measures ||dL/ds_t|| through the recurrence, at initialisation and
after training.

    python benchmarks/gradient_flow.py            # about 4 minutes on 2 busy CPU cores
    python benchmarks/gradient_flow.py --quick    # a smoke run (writes *_quick.*)

Writes benchmarks/results/gradient_flow.{json,md,png}.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from seqnlp.fileio import atomic_write
from seqnlp.nn import GRU, LSTM, RNN, gru_cell, lstm_cell, rnn_cell, unroll
from seqnlp.training import Trainer, TrainerConfig, seed_everything
from seqnlp.training.gradient_flow import hidden_grad_norms, plot_gradient_flow

ARCHITECTURES = ("rnn", "gru", "lstm")
LAYERS = {"rnn": RNN, "gru": GRU, "lstm": LSTM}
CELLS = {"rnn": rnn_cell, "gru": gru_cell, "lstm": lstm_cell}
BINS = ((20, 49), (50, 99), (100, 149), (150, 200))  # inclusive distance ranges
RATIO_DISTANCES = (10, 20, 50, 100, 200)
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Settings:
    """The task and the training budget of one regime (defaults: the curriculum)."""

    num_labels: int = 4
    num_distractors: int = 8
    min_distance: int = 20
    max_distance: int = 200
    embedding_size: int = 16
    hidden_size: int = 64
    batch_size: int = 32
    batches_per_epoch: int = 50
    epochs: int = 16
    train_min_distance: int = 1
    curriculum_start: int = 10
    curriculum_epochs: int = 10
    lr: float = 5e-3
    clip_norm: float = 1.0
    test_per_bin: int = 256
    probe_distance: int = 200
    probe_batch: int = 64
    seed: int = 0


REGIMES = {
    "direct": Settings(train_min_distance=20, curriculum_epochs=0),
    "curriculum": Settings(),
}
QUICK = {
    name: replace(s, hidden_size=32, batches_per_epoch=10, epochs=3,
                  curriculum_epochs=min(s.curriculum_epochs, 2), test_per_bin=64, probe_batch=16)
    for name, s in REGIMES.items()
}


# ----------------------------------------------------------------------------- the task

def make_batch(rng: np.random.Generator, s: Settings, size: int, distance: int
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """`size` sequences `[label, d_1, ..., d_D]`: label tokens are 0..K-1, distractors
    K..K+M-1. Returns inputs (B, D+1) and labels (B,)."""
    labels = rng.integers(0, s.num_labels, size)
    distractors = rng.integers(s.num_labels, s.num_labels + s.num_distractors, (size, distance))
    inputs = np.concatenate([labels[:, None], distractors], axis=1)  # (B, D+1)
    return torch.from_numpy(inputs), torch.from_numpy(labels)


def longest_distance(s: Settings, epoch: int) -> int:
    """The curriculum: the longest training distance grows linearly from
    `curriculum_start` at epoch 0 to `max_distance` at epoch `curriculum_epochs`."""
    if epoch >= s.curriculum_epochs:
        return s.max_distance
    fraction = epoch / s.curriculum_epochs
    return round(s.curriculum_start + fraction * (s.max_distance - s.curriculum_start))


def training_batches(s: Settings):
    """`epoch -> batches`, each of one distance drawn from
    [train_min_distance, longest_distance(epoch)]."""

    def batches(epoch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        rng = np.random.default_rng([s.seed, epoch])
        longest = longest_distance(s, epoch)
        distances = rng.integers(s.train_min_distance, longest + 1, s.batches_per_epoch)
        return [make_batch(rng, s, s.batch_size, int(d)) for d in distances]

    return batches


def test_sets(s: Settings, seed: int) -> dict[str, list[tuple[torch.Tensor, torch.Tensor]]]:
    """Per distance bin, batches of 32 sequences with distances spread over the bin."""
    rng = np.random.default_rng([seed, 10**6])
    sets = {}
    for low, high in BINS:
        distances = np.linspace(low, high, max(1, s.test_per_bin // 32)).round().astype(int)
        sets[f"{low}-{high}"] = [make_batch(rng, s, 32, int(d)) for d in distances]
    return sets


# ----------------------------------------------------------------------------- the model

class FirstTokenClassifier(nn.Module):
    """Embedding -> one recurrent layer -> linear on the last hidden state."""

    def __init__(self, architecture: str, s: Settings) -> None:
        super().__init__()
        self.architecture = architecture
        self.embedding = nn.Embedding(s.num_labels + s.num_distractors, s.embedding_size)
        self.rnn = LAYERS[architecture](s.embedding_size, s.hidden_size)
        self.out = nn.Linear(s.hidden_size, s.num_labels)

    def forward(self, inputs: torch.Tensor, labels: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        outputs, _ = self.rnn(self.embedding(inputs))  # (B, T, H), fused kernel
        logits = self.out(outputs[:, -1])  # (B, K)
        return logits, F.cross_entropy(logits, labels)

    def unrolled(self, inputs: torch.Tensor) -> tuple[torch.Tensor, list[list[torch.Tensor]]]:
        """The same function, with the cell unrolled. Also returns the recurrent state
        that each step consumed, in time order: `[h_t...]`, and for an LSTM `[c_t...]`
        too (its state is the pair)."""
        weights = self.rnn.layer_weights(0)
        cell = CELLS[self.architecture]
        recorded: list[list[torch.Tensor]] = [[], []] if self.architecture == "lstm" else [[]]

        def step(x_t: torch.Tensor, state: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
            if self.architecture == "lstm":
                new = cell(x_t, (state[0], state[1]), *weights)
            else:
                new = (cell(x_t, state[0], *weights),)
            for states, tensor in zip(recorded, new):
                states.append(tensor)  # the very tensors the next step reads
            return new

        embedded = self.embedding(inputs)  # (B, T, E)
        zeros = embedded.new_zeros(inputs.size(0), self.rnn.hidden_size)
        start = (zeros, zeros) if self.architecture == "lstm" else (zeros,)
        unroll(step, embedded, start)
        return self.out(recorded[0][-1]), recorded


def gradient_profile(model: FirstTokenClassifier, s: Settings) -> dict[str, list[float]]:
    """||dL/ds_t|| for t = 0..D on a probe batch at distance `probe_distance`.

    Returns `{"state": ..., "h": ...}` (plus `"c"` for an LSTM), each of length T = D+1:
    the norm for the hidden state h_t, the LSTM cell c_t, and the whole recurrent state
    s_t (h_t, or the pair (h_t, c_t): sqrt(|dL/dh_t|^2 + |dL/dc_t|^2)). Measured on a
    float64 copy of the model: over 200 steps the gradient can fall below float32's
    smallest number (1e-45) and would read as exactly zero.
    """
    model = copy.deepcopy(model).double()
    rng = np.random.default_rng([s.seed, 7])
    inputs, labels = make_batch(rng, s, s.probe_batch, s.probe_distance)
    fused_logits, _ = model(inputs, labels)
    logits, recorded = model.unrolled(inputs)
    assert torch.allclose(logits, fused_logits, atol=1e-8), "unrolled and fused paths differ"
    norms = hidden_grad_norms(F.cross_entropy(logits, labels), recorded)  # (1 or 2, T)
    profile = {"state": np.sqrt((norms**2).sum(axis=0)).tolist(), "h": norms[0].tolist()}
    if len(norms) == 2:
        profile["c"] = norms[1].tolist()
    return profile


@torch.no_grad()
def accuracy(model: nn.Module, batches) -> dict[str, float]:
    correct = total = 0
    for inputs, labels in batches:
        logits, _ = model(inputs, labels)
        correct += int((logits.argmax(1) == labels).sum())
        total += len(labels)
    return {"accuracy": correct / total}


# ----------------------------------------------------------------------------- the run

def run_architecture(architecture: str, s: Settings) -> dict:
    """Train one architecture; return its gradient profiles, accuracies and timing."""
    seed_everything(s.seed)
    model = FirstTokenClassifier(architecture, s)
    initial = gradient_profile(model, s)
    dev = [batch for batches in test_sets(s, s.seed + 1).values() for batch in batches]
    config = TrainerConfig(
        optimizer="adam", lr=s.lr, clip_norm=s.clip_norm, epochs=s.epochs,
        metric="accuracy", mode="max", seed=s.seed, device="cpu",
    )
    start = time.perf_counter()
    result = Trainer(model, config).fit(training_batches(s), dev, accuracy)
    seconds = time.perf_counter() - start
    model.eval()
    by_bin = {name: accuracy(model, batches)["accuracy"]
              for name, batches in test_sets(s, s.seed + 2).items()}
    trained = gradient_profile(model, s)
    return {
        "architecture": architecture,
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_seconds": round(seconds, 1),
        "best_dev_accuracy": result.best_score,
        "best_epoch": result.best_epoch,
        "train_loss_by_epoch": [round(e["train_loss"], 4) for e in result.history],
        "test_accuracy_by_distance": by_bin,
        "grad_norm_init": initial,
        "grad_norm_trained": trained,
    }


def ratio(norms: list[float], distance: int) -> float:
    """||dL/ds_(T-1-d)|| / ||dL/ds_(T-1)||: the gradient `distance` steps before the loss,
    relative to the gradient at the last step."""
    return norms[-1 - distance] / norms[-1] if norms[-1] > 0 else float("nan")


def describe(name: str, s: Settings) -> str:
    if s.curriculum_epochs == 0:
        train = f"D drawn from [{s.train_min_distance}, {s.max_distance}] from the start"
    else:
        train = (f"D drawn from [{s.train_min_distance}, m], m growing from "
                 f"{s.curriculum_start} to {s.max_distance} over the first "
                 f"{s.curriculum_epochs} epochs, then fixed")
    return f"- **{name}**: {train}."


def write_markdown(path: Path, regimes: dict[str, Settings], runs: dict[str, list[dict]],
                   quick: bool) -> None:
    s = next(iter(regimes.values()))
    bins = [f"{low}-{high}" for low, high in BINS]
    distances = [d for d in RATIO_DISTANCES if d <= s.probe_distance]
    lines = [
        "# Gradient flow: simple RNN vs GRU vs LSTM" + (" (quick run)" if quick else ""),
        "",
        f"Task: label = first token ({s.num_labels} classes, chance "
        f"{1 / s.num_labels:.2f}), then D distractors ({s.num_distractors} other tokens); "
        "the network classifies from its last hidden state. Test: D in "
        f"[{s.min_distance}, {s.max_distance}], {s.test_per_bin} sequences a bin. One "
        f"recurrent layer, hidden {s.hidden_size}, embedding {s.embedding_size}, torch's "
        f"default initialisation; Adam lr {s.lr}, gradient norm clipped at {s.clip_norm}; "
        f"{s.epochs} epochs x {s.batches_per_epoch} batches of {s.batch_size} (one D per "
        "batch); the weights of the best dev epoch are tested. `seqnlp.nn` layers (fused "
        "kernels) trained by `seqnlp.training.Trainer`. Training regimes:",
        "",
        *[describe(name, regime) for name, regime in regimes.items()],
        "",
        "Produced by `python benchmarks/gradient_flow.py" + (" --quick" if quick else "")
        + "` (1 torch thread, CPU).",
        "",
        "## Test accuracy by distance D",
        "",
        "| model | regime | params | " + " | ".join(f"D {b}" for b in bins) + " | train s |",
        "|---" * (len(bins) + 4) + "|",
    ]
    for name, regime_runs in runs.items():
        for run in regime_runs:
            accs = " | ".join(f"{run['test_accuracy_by_distance'][b]:.3f}" for b in bins)
            lines.append(f"| {run['architecture']} | {name} | {run['parameters']} | {accs} | "
                         f"{run['train_seconds']} |")
    lines += [
        "",
        f"## Gradient d steps before the loss (probe: {s.probe_batch} sequences, "
        f"D = {s.probe_distance})",
        "",
        "||dL/ds_t|| / ||dL/ds_T-1|| at t = T-1-d, measured through the unrolled "
        "recurrence in float64; s_t is the recurrent state: h_t for the RNN and GRU, "
        "(h_t, c_t) for the LSTM (its h_t alone is listed too). d = D reaches the state "
        "that read the label. The initialisation is the same in both regimes.",
        "",
        "| model | weights | " + " | ".join(f"d = {d}" for d in distances) + " |",
        "|---|---" + "|---" * len(distances) + "|",
    ]
    for arch_index, architecture in enumerate(ARCHITECTURES):
        rows = [("init", runs[next(iter(runs))][arch_index]["grad_norm_init"])]
        rows += [(f"after {name}", runs[name][arch_index]["grad_norm_trained"]) for name in runs]
        for when, profile in rows:
            for part in ("state", "h") if "c" in profile else ("state",):
                label = architecture + (" h_t only" if part == "h" else "")
                cells = " | ".join(f"{ratio(profile[part], d):.2e}" for d in distances)
                lines.append(f"| {label} | {when} | {cells} |")
    lines += ["", f"![gradient norm against time]({path.stem}.png)", ""]
    with atomic_write(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))


def relative_curves(regime_runs: list[dict], key: str) -> dict[str, np.ndarray]:
    """Label -> ||dL/ds_t|| / ||dL/ds_T-1|| for each architecture (LSTM: also h_t only)."""
    curves = {}
    for run in regime_runs:
        profile = run[key]
        lstm = "c" in profile
        state = np.asarray(profile["state"])
        curves[run["architecture"] + (" (h_t, c_t)" if lstm else "")] = state / state[-1]
        if lstm:
            curves[run["architecture"] + " h_t only"] = np.asarray(profile["h"]) / state[-1]
    return curves


def plot(path: Path, s: Settings, runs: dict[str, list[dict]]) -> None:
    panels = {"at initialisation": relative_curves(next(iter(runs.values())), "grad_norm_init")}
    for name, regime_runs in runs.items():
        panels[f"after {name} training"] = relative_curves(regime_runs, "grad_norm_trained")
    plot_gradient_flow(panels, path, xlabel="time step t (the label is read at t = 0)",
                       ylabel="||dL/ds_t|| / ||dL/ds_T-1||",
                       title=f"Gradient of the loss at t = {s.probe_distance} w.r.t. the "
                             "recurrent state s_t, relative to the last step")


def rounded(value: object) -> object:
    """`value` with every float cut to 4 significant digits (a smaller, diffable JSON)."""
    if isinstance(value, float):
        return float(f"{value:.4g}")
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item) for item in value]
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny matrices: threads only add contention
    regimes = QUICK if args.quick else REGIMES
    runs: dict[str, list[dict]] = {}
    for name, settings in regimes.items():
        runs[name] = []
        for architecture in ARCHITECTURES:
            run = run_architecture(architecture, settings)
            runs[name].append(run)
            print(f"{name:10s} {architecture:4s} {run['train_seconds']:6.1f} s  accuracy "
                  f"{run['test_accuracy_by_distance']}", flush=True)
    stem = "gradient_flow_quick" if args.quick else "gradient_flow"
    report = {"quick": args.quick, "torch": torch.__version__,
              "settings": {name: asdict(s) for name, s in regimes.items()}, "runs": runs}
    with atomic_write(args.out / f"{stem}.json", "w", encoding="utf-8") as handle:
        json.dump(rounded(report), handle, indent=1)
    plot(args.out / f"{stem}.png", next(iter(regimes.values())), runs)
    write_markdown(args.out / f"{stem}.md", regimes, runs, args.quick)


if __name__ == "__main__":
    main()
