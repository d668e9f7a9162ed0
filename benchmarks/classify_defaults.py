"""The defaults of `seqnlp classify train`, chosen on dev accuracy across the data at hand.

A user who changes nothing should get a strong model on whatever labelled texts they bring:
long reviews or short sentences, two classes or five, thousands of lines or a few hundred.
Each candidate below is a complete set of `classify train` options (random word vectors,
no phrases: what the defaults can give); each is trained on every data set, and the dev
accuracy of every epoch is kept, so that "best of the first 5 epochs" and "best of 10"
both come from one run. Test splits are never read.

Data sets (dev figures only):
  sst2, sst5     SST sentence level, their own dev splits (872 and 1,101 sentences).
  imdb-2k        2,000 reviews drawn from IMDB's training part of the 10% dev cut (seed 0),
                 scored on 1,000 reviews drawn from that dev cut.
  sst2-1k        1,000 SST-2 training sentences, written as a label<TAB>text file with
                 string labels (neg, pos) and trained with a dev file (`--dev`): the
                 path a user's own small data takes; scored on SST-2 dev.
  sst5-2k        2,000 SST-5 training sentences, string labels (very-neg ... very-pos),
                 the same way; scored on SST-5 dev.

Usage (run under the CPU lock; results accumulate, so it can run in pieces):
    flock /tmp/seqnlp-cpu.lock python benchmarks/classify_defaults.py --data sst2-1k
    python benchmarks/classify_defaults.py --render
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SEQNLP_SHARED", REPO.parent / "shared" / "datasets"))
RESULTS = REPO / "benchmarks" / "results"
CACHE = Path(os.environ.get("SEQNLP_BENCH_CACHE", "/tmp/seqnlp-bench-classify-defaults"))

# Each candidate: `classify train` options by their names (model and trainer tables).
OLD = {"encoder": "lstm", "bidirectional": False, "hidden_size": 128, "embedding_dim": 100,
       "pooling": "last", "dropout": 0.0, "embedding_dropout": 0.0, "widths": "",
       "lr": 1e-3, "batch_size": 64, "clip": 0.0, "epochs": 5, "max_vocab": 20_000}
KIM = {**OLD, "epochs": None, "encoder": "tdnn", "hidden_size": 100, "widths": "3,4,5",
       "pooling": "max", "dropout": 0.5}
CANDIDATES: dict[str, dict[str, Any]] = {  # in the order they run: cheapest first
    # Kim (2014) CNN-rand: windows of 3, 4 and 5 words, 100 filters each, max over time
    "kim-tdnn-345": KIM,
    # one 5-word window (the TDNN before --widths), as many filters in all
    "tdnn-5x300": {**KIM, "hidden_size": 300, "widths": "5"},
    # Kim's with dropout on the embedded words too
    "kim-tdnn-345-embdrop": {**KIM, "embedding_dropout": 0.2},
    # a bidirectional LSTM with max pooling (configs/classify/sst2.toml without vectors)
    "bilstm-max": {**OLD, "epochs": None, "bidirectional": True, "hidden_size": 100,
                   "pooling": "max", "dropout": 0.5, "embedding_dropout": 0.2, "clip": 5.0},
    # the defaults before this study
    "old-lstm-last": OLD,
    # round 2, after round 1 found dev accuracy still rising at epoch 10 with lr 1e-3:
    "tdnn-5x300-lr2e-3": {**KIM, "hidden_size": 300, "widths": "5", "lr": 2e-3},
    "kim-tdnn-345-lr2e-3": {**KIM, "lr": 2e-3},
    "bilstm-max-lr2e-3": {**OLD, "epochs": None, "bidirectional": True, "hidden_size": 100,
                          "pooling": "max", "dropout": 0.5, "embedding_dropout": 0.2,
                          "clip": 5.0, "lr": 2e-3},
}
DATA_SETS = ("sst2-1k", "sst5-2k", "sst2", "imdb-2k", "sst5")  # in the order they run
EPOCHS = 10  # each run's dev curve; "5 epochs" is read off its first half (the old
# defaults run their own 5 epochs only: the slowest candidate, and what a user got)
MODEL_KEYS = ("encoder", "bidirectional", "hidden_size", "embedding_dim", "pooling", "dropout",
              "embedding_dropout", "widths")


# ---- data ----------------------------------------------------------------------------------

def _sample(examples: list, n: int, seed: int = 0) -> list:
    """`n` examples drawn at random (IMDB lists every positive review first), file order."""
    if n >= len(examples):
        return list(examples)
    keep = sorted(np.random.default_rng(seed).permutation(len(examples))[:n])
    return [examples[i] for i in keep]


def _fetch(name: str) -> None:
    from seqnlp.datasets import dataset_status, fetch

    if not dataset_status(name).complete:
        fetch(name, from_dir=SHARED / name)


def _write_tsv(path: Path, examples: list, names: tuple[str, ...]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = "".join(f"{names[e.label]}\t{' '.join(e.tokens)}\n" for e in examples)
    path.write_text(lines, encoding="utf-8")
    return path


def load(name: str) -> Any:
    """The data set `name` (see the module docstring) as a `ClassificationData`."""
    import dataclasses

    from seqnlp.tasks.classification import load_classification_data

    if name in ("sst2", "sst5"):
        _fetch("sst")
        return load_classification_data(name)
    if name == "imdb-2k":
        _fetch("imdb")
        data = load_classification_data("imdb", dev_fraction=0.1, seed=0)
        return dataclasses.replace(data, name=name, train=_sample(data.train, 2000),
                                   dev=_sample(data.dev, 1000), test=[])
    base, size = name.split("-")
    full = load("sst2" if base == "sst2" else "sst5")
    names = (("neg", "pos") if base == "sst2" else
             ("1-very-neg", "2-neg", "3-neutral", "4-pos", "5-very-pos"))
    train = _write_tsv(CACHE / f"{name}.tsv", _sample(full.train, int(size[:-1]) * 1000), names)
    dev = _write_tsv(CACHE / f"{base}-dev.tsv", full.dev, names)
    data = load_classification_data(str(train), dev_file=dev)
    assert data.label_names == tuple(sorted(names)), data.label_names
    return data


# ---- one run -------------------------------------------------------------------------------

def run(data: Any, spec: dict[str, Any], epochs: int, seed: int = 0) -> dict[str, Any]:
    """Train `spec` for `epochs` epochs (no early stop), the dev accuracy of each epoch."""
    from seqnlp.nn import count_parameters
    from seqnlp.tasks.classification import train_classifier
    from seqnlp.training import TrainerConfig

    model = {key: spec[key] for key in MODEL_KEYS}
    trainer = TrainerConfig(optimizer="adam", lr=spec["lr"], epochs=epochs,
                            clip_norm=spec["clip"] or None, metric="accuracy", mode="max",
                            seed=seed, device="cpu", progress=sys.stderr.isatty())
    result = train_classifier(data, model, trainer, max_vocab=spec["max_vocab"],
                              batch_size=spec["batch_size"])
    curve = [round(e["metrics"]["accuracy"], 4) for e in result.fit.history]
    return {"dev_by_epoch": curve, "best_5": max(curve[:5]), "best_10": max(curve),
            "seconds": round(result.seconds, 1), "parameters": count_parameters(result.model),
            "train": len(data.train), "dev": len(data.dev)}


# ---- report --------------------------------------------------------------------------------

def summary(report: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per candidate: the mean over data sets of best-of-5 and best-of-10 dev accuracy, and
    of the gap to the best candidate on each set (only candidates run on every set)."""
    runs = report["runs"]
    sets = sorted({key.split("|")[0] for key in runs})
    names = [c for c in CANDIDATES if all(f"{s}|{c}" in runs for s in sets)]
    out = {}
    for budget in ("best_5", "best_10"):
        top = {s: max(runs[f"{s}|{c}"][budget] for c in names) for s in sets}
        for c in names:
            scores = [runs[f"{s}|{c}"][budget] for s in sets]
            row = out.setdefault(c, {})
            row[f"mean_{budget}"] = round(float(np.mean(scores)), 4)
            row[f"worst_gap_{budget}"] = round(max(top[s] - x for s, x in zip(sets, scores)), 4)
    return out


def markdown(report: dict[str, Any]) -> str:
    runs = report["runs"]
    sets = [s for s in DATA_SETS if any(k.startswith(s + "|") for k in runs)]
    lines = ["# Defaults of `seqnlp classify train`: dev accuracy across data sets", "",
             "Written by `benchmarks/classify_defaults.py` (see its docstring for the data sets",
             "and candidates). Dev accuracy only, never test; random word vectors; each cell:",
             f"best epoch of the first 5 / of {EPOCHS} (one seed). Seconds: the whole run.", "",
             "| candidate | " + " | ".join(sets) + " |",
             "|---|" + "---|" * len(sets)]
    for name in CANDIDATES:
        cells = []
        for s in sets:
            r = runs.get(f"{s}|{name}")
            cells.append("" if r is None else f"{r['best_5']:.3f} / {r['best_10']:.3f} "
                         f"({r['seconds']:.0f} s)")
        if any(cells):
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Mean over the data sets (candidates run on all of them), and the largest",
              "gap to the best candidate of a set:", "",
              "| candidate | mean best-of-5 | worst gap | mean best-of-10 | worst gap |",
              "|---|---|---|---|---|"]
    for name, row in summary(report).items():
        lines.append(f"| {name} | {row['mean_best_5']:.4f} | {row['worst_gap_best_5']:.4f} | "
                     f"{row['mean_best_10']:.4f} | {row['worst_gap_best_10']:.4f} |")
    lines += ["", "Candidates:", ""]
    for name, spec in CANDIDATES.items():
        lines.append(f"- `{name}`: " + ", ".join(f"{k}={v}" for k, v in spec.items()))
    if report.get("chosen"):
        lines += ["", f"Chosen as the defaults: `{report['chosen']}`. {report.get('why', '')}"]
    env = report.get("environment", {})
    if env:
        lines += ["", f"Machine: {env.get('cpu')}, {env.get('torch_threads')} torch threads, "
                  f"torch {env.get('torch')}; last run {env.get('date')}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", nargs="+", choices=DATA_SETS, default=[])
    parser.add_argument("--candidates", nargs="+", choices=sorted(CANDIDATES), default=None)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--redo", action="store_true", help="run again what the JSON holds")
    parser.add_argument("--render", action="store_true", help="only rewrite the Markdown")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument("--choose", default=None, help="record the chosen candidate")
    parser.add_argument("--why", default="", help="the reason, for the Markdown")
    args = parser.parse_args(argv)
    path = args.out / "classify_defaults.json"
    report = json.loads(path.read_text()) if path.exists() else {"runs": {}}
    if args.choose:
        report["chosen"], report["why"] = args.choose, args.why
        path.write_text(json.dumps(report, indent=1) + "\n")
    import torch

    torch.set_num_threads(args.threads)
    for name in sorted(args.data, key=DATA_SETS.index):
        data = None
        for candidate in args.candidates or list(CANDIDATES):
            key = f"{name}|{candidate}"
            if key in report["runs"] and not args.redo:
                continue
            data = data or load(name)
            start = time.perf_counter()
            spec = CANDIDATES[candidate]
            report["runs"][key] = run(data, spec, spec.get("epochs") or args.epochs)
            print(key, json.dumps(report["runs"][key]),
                  f"{time.perf_counter() - start:.0f} s", flush=True)
            report["environment"] = {
                "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes"),
                "cpu": _cpu(), "torch_threads": torch.get_num_threads(),
                "torch": torch.__version__}
            args.out.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(report, indent=1) + "\n")
    (args.out / "classify_defaults.md").write_text(markdown(report))
    print(json.dumps(summary(report), indent=1))


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    main()
