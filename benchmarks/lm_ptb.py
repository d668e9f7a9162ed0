"""Word-level language models on the Penn Treebank (Mikolov's 10k-word version).

(a) Zaremba et al. (2014), small configuration, no dropout: a 2 x 200 LSTM unrolled for 20
    steps, batch 20, weights from U(-0.1, 0.1), SGD with lr 1 halved at every epoch after
    the 4th, the gradient norm clipped at 5, 13 epochs. Their loss sums 20 steps, ours is the
    mean per token, so lr 20 with clip 0.25 is the same update (clip(20 g) = 20 clip(g, 0.25)).
    Validation and test perplexities of the best-validation epoch are measured with the
    state carried over the whole stream, in 10 parallel streams and in 1 (as Zaremba et al.).
    The decoder's three matrix products run in bfloat16 during training (mixed precision,
    `decoder_dtype`): on this AVX512-BF16 CPU that takes a step from about 62 to 44 ms,
    which is what brings the 13 epochs inside 30 minutes; weights, softmax, gradients
    and every evaluation stay float32.
(b) The best model trained within 60 minutes here: tied weights, dropout, a larger LSTM
    (see BEST below). Its size was chosen by timing 25 updates of 2 x 400, 2 x 512 and
    2 x 650 (192, 217 and 336 ms per 700-word window, so 4.2, 4.8 and 7.4 minutes per
    epoch) and taking the one that fits 12 epochs into the hour; no test perplexity was
    looked at before the run. Same measurements.
(c) Training words/s of seqnlp (Trainer + RNNLanguageModel) against a plain PyTorch LSTM LM
    loop written below, same sizes as (a), same windows, same optimizer and clipping,
    both in float32 throughout (seqnlp's gain is its fused decoder + cross-entropy, not
    bfloat16), rounds in ABBA order; medians are reported.

Training words/s counts target tokens over the time spent in training updates only
(evaluations excluded). Results are merged into benchmarks/results/lm_ptb.{json,md}, one
entry per part, each with the command, date, CPU model, torch version and threads.

Usage (heavy: run under `flock /tmp/seqnlp-cpu.lock`):
    python benchmarks/lm_ptb.py --part a c      # about half an hour or more on 2 cores
    python benchmarks/lm_ptb.py --part b        # about an hour
    python benchmarks/lm_ptb.py --quick         # every part on a slice of PTB (results in /tmp)
    python benchmarks/lm_ptb.py --render        # rewrite lm_ptb.md from lm_ptb.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from seqnlp.models.language_model import LanguageModelConfig, RNNLanguageModel
from seqnlp.tasks.language_modeling import (
    LanguageModelTask, LMBatching, LMCorpus, lm_batches, load_lm_corpus, perplexity,
)
from seqnlp.tasks.pipeline import train_task
from seqnlp.training import Trainer, TrainerConfig, seed_everything

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SEQNLP_SHARED", REPO.parent / "shared" / "datasets"))
RESULTS = REPO / "benchmarks" / "results"


@dataclass(frozen=True)
class Setup:
    """One benchmarked configuration: the model, the trainer and the batching."""

    title: str
    model: dict[str, Any]
    trainer: dict[str, Any]
    batching: LMBatching


ZAREMBA_SMALL = Setup(
    "Zaremba et al. (2014) small, no dropout (decoder products in bfloat16)",
    {"embedding_dim": 200, "hidden_size": 200, "num_layers": 2, "cell": "lstm",
     "dropout": 0.0, "tie_weights": False, "init_range": 0.1, "decoder_dtype": "bfloat16"},
    {"optimizer": "sgd", "lr": 20.0, "clip_norm": 0.25, "epochs": 13,
     "schedule": "exponential", "constant_epochs": 4, "gamma": 0.5},
    LMBatching(batch_size=20, bptt=20, eval_batch_size=10),
)

BEST = Setup(
    "best within 60 minutes: 2 x 400 tied LSTM, dropout 0.4, bfloat16 decoder products",
    {"embedding_dim": 400, "hidden_size": 400, "num_layers": 2, "cell": "lstm",
     "dropout": 0.4, "tie_weights": True, "init_range": 0.1, "decoder_dtype": "bfloat16"},
    {"optimizer": "sgd", "lr": 20.0, "clip_norm": 0.25, "epochs": 12,
     "schedule": "exponential", "constant_epochs": 6, "gamma": 0.5},
    LMBatching(batch_size=20, bptt=35, eval_batch_size=10),
)


# ---------------------------------------------------------------------------- environment

def environment(args: argparse.Namespace) -> dict[str, Any]:
    """Command, date, machine and library versions of this run."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "command": "python " + " ".join([os.path.relpath(sys.argv[0], REPO), *sys.argv[1:]]),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__,
        "threads": torch.get_num_threads(), "python": platform.python_version(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
        "quick": args.quick,
    }


def load_ptb(quick: bool) -> LMCorpus:
    """PTB from the data home (fetched from the shared copy when absent); a slice when quick."""
    from seqnlp.datasets import dataset_status, fetch

    if dataset_status("ptb").state != "present" and (SHARED / "ptb").is_dir():
        fetch("ptb", from_dir=SHARED / "ptb")
    corpus = load_lm_corpus("ptb")
    if not quick:
        return corpus
    return replace(corpus, train=corpus.train[:40_000], valid=corpus.valid[:8_000],
                   test=corpus.test[:8_000])


# ---------------------------------------------------------------------------- (a), (b)

class TimedEpochs:
    """Wraps `epoch -> windows`, adding up the time and target tokens of training updates."""

    def __init__(self, source: Callable[[int], list[Any]]) -> None:
        self.source = source
        self.seconds = 0.0
        self.tokens = 0

    def __call__(self, epoch: int) -> Iterator[Any]:
        return self._timed(self.source(epoch))

    def _timed(self, windows: Iterable[Any]) -> Iterator[Any]:
        start = time.perf_counter()
        for inputs, targets in windows:
            self.tokens += targets.numel()
            yield inputs, targets
        self.seconds += time.perf_counter() - start  # after the epoch's last update


class EpochReporter:
    """An `on_step` callback printing each finished epoch (progress in the log)."""

    def __init__(self) -> None:
        self.printed = 0

    def __call__(self, trainer: Trainer, record: dict[str, Any]) -> None:
        for item in trainer.history[self.printed:]:
            print(f"epoch {item['epoch'] + 1}: lr {item['lr']:.4g}, train ppl "
                  f"{np.exp(item['train_loss']):.2f}, valid ppl "
                  f"{item['metrics'].get('ppl', float('nan')):.2f}, "
                  f"{time.strftime('%H:%M:%S')}", flush=True)
        self.printed = len(trainer.history)


class TimedTask(LanguageModelTask):
    """The language-model task whose training windows are timed (`TimedEpochs`)."""

    def train_batches(self, vocabs: Any, config: Any, seed: int) -> TimedEpochs:
        self.timed = TimedEpochs(super().train_batches(vocabs, config, seed))
        return self.timed


def train_and_measure(setup: Setup, corpus: LMCorpus, quick: bool) -> dict[str, Any]:
    """Train one setup through the shared pipeline, then measure validation and test
    perplexity and speed."""
    trainer_options = dict(setup.trainer, epochs=2 if quick else setup.trainer["epochs"])
    config = TrainerConfig(**trainer_options, metric="ppl", device="cpu", progress=False, seed=0)
    batching = setup.batching
    task = TimedTask(corpus, batching)
    start = time.perf_counter()
    trained = train_task(task, setup.model, config, on_step=EpochReporter())
    model, fit, train = trained.model, trained.fit, task.timed
    train_wall = time.perf_counter() - start
    numbers = {}
    for rows in (batching.eval_batch_size, 1):
        for split in ("valid", "test"):
            result = perplexity(model, getattr(corpus, split), rows, batching.bptt)
            numbers[f"{split}_ppl_{rows}_streams"] = round(result["ppl"], 2)
    print(f"{setup.title}: {numbers}", flush=True)
    return {
        "title": setup.title, "model": setup.model, "trainer": trainer_options,
        "batching": asdict(batching), "parameters": sum(p.numel() for p in model.parameters()),
        **numbers, "best_epoch": None if fit.best_epoch is None else fit.best_epoch + 1,
        "train_words_per_s": round(train.tokens / train.seconds),
        "train_wall_s": round(train_wall, 1),
        "total_wall_s": round(time.perf_counter() - start, 1),
        "epochs": [{"epoch": h["epoch"] + 1, "lr": h["lr"],
                    "train_ppl": round(float(np.exp(h["train_loss"])), 2),
                    "valid_ppl": round(h["metrics"].get("ppl", float("nan")), 2)}
                   for h in fit.history],
    }


# ---------------------------------------------------------------------------- (c)

class PlainLSTMLM(nn.Module):
    """The reference: torch.nn.Embedding -> torch.nn.LSTM -> torch.nn.Linear."""

    def __init__(self, vocab_size: int, size: int, num_layers: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, size)
        self.lstm = nn.LSTM(size, size, num_layers, batch_first=True)
        self.decoder = nn.Linear(size, vocab_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -0.1, 0.1)

    def forward(self, inputs: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        output, state = self.lstm(self.embedding(inputs), state)
        return self.decoder(output), state


def plain_loop(windows: list[Any], vocab_size: int) -> float:
    """Train the plain model over `windows` once; return the seconds taken."""
    torch.manual_seed(0)
    model = PlainLSTMLM(vocab_size, 200, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=20.0)
    state = None
    start = time.perf_counter()
    for inputs, targets in windows:
        optimizer.zero_grad()
        logits, state = model(inputs, state)
        state = tuple(s.detach() for s in state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab_size), targets.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()
    return time.perf_counter() - start


def seqnlp_loop(windows: list[Any], vocab_size: int) -> float:
    """Train RNNLanguageModel through the Trainer over `windows` once; return the seconds."""
    setup = ZAREMBA_SMALL
    config = TrainerConfig(**dict(setup.trainer, epochs=1), device="cpu", progress=False)
    seed_everything(0)
    sizes = dict(setup.model, decoder_dtype="float32")  # the same arithmetic as the plain loop
    model = RNNLanguageModel(LanguageModelConfig(vocab_size=vocab_size, **sizes))
    trainer = Trainer(model, config)
    start = time.perf_counter()
    trainer.fit(windows)
    return time.perf_counter() - start


def throughput(corpus: LMCorpus, quick: bool) -> dict[str, Any]:
    """Words/s of both loops over the same windows, interleaved rounds, medians."""
    batching = ZAREMBA_SMALL.batching
    windows = lm_batches(corpus.train, batching.batch_size, batching.bptt)(0)
    windows = windows[: 40 if quick else 400]
    tokens = sum(y.numel() for _, y in windows)
    rounds = 2 if quick else 6
    plain_loop(windows[:5], len(corpus.vocab))  # warm up both paths
    seqnlp_loop(windows[:5], len(corpus.vocab))
    times: dict[str, list[float]] = {"plain": [], "seqnlp": []}
    loops = {"plain": plain_loop, "seqnlp": seqnlp_loop}
    for round_ in range(rounds):
        order = ("plain", "seqnlp") if round_ % 2 == 0 else ("seqnlp", "plain")  # ABBA
        for name in order:
            times[name].append(loops[name](windows, len(corpus.vocab)))
    speed = {name: round(tokens / statistics.median(ts)) for name, ts in times.items()}
    round_ratios = [p / s for p, s in zip(times["plain"], times["seqnlp"])]
    print(f"words/s: {speed}", flush=True)
    return {
        "windows": len(windows), "tokens_per_round": tokens, "rounds": rounds,
        "plain_pytorch_words_per_s": speed["plain"], "seqnlp_words_per_s": speed["seqnlp"],
        "ratio": round(speed["seqnlp"] / speed["plain"], 3),
        "median_round_ratio": round(statistics.median(round_ratios), 3),
        "seconds": {name: [round(t, 2) for t in ts] for name, ts in times.items()},
    }


# ---------------------------------------------------------------------------- report

def write_results(parts: dict[str, Any], folder: Path) -> None:
    """Merge `parts` into lm_ptb.json (one entry per part) and rewrite lm_ptb.md."""
    json_path = folder / "lm_ptb.json"
    merged = json.loads(json_path.read_text()) if json_path.exists() else {}
    merged.update(parts)
    folder.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(merged, indent=2) + "\n")
    (folder / "lm_ptb.md").write_text(markdown(merged))


def markdown(results: dict[str, Any]) -> str:
    """The README-style tables of every part present."""
    lines = ["# Language models on PTB (`benchmarks/lm_ptb.py`)", ""]
    for key in ("a", "b"):
        if key not in results:
            continue
        r = results[key]
        env = r["environment"]
        lines += [f"## ({key}) {r['title']}", "",
                  f"`{env['command']}` on {env['date']}, {env['cpu']} ({env['cores']} cores, "
                  f"{env['threads']} torch threads, torch {env['torch']})", "",
                  "| valid ppl (10 / 1 streams) | test ppl (10 / 1 streams) | best epoch | "
                  "train words/s | train wall time |", "|---|---|---|---|---|",
                  f"| {r['valid_ppl_10_streams']} / {r['valid_ppl_1_streams']} | "
                  f"{r['test_ppl_10_streams']} / {r['test_ppl_1_streams']} | {r['best_epoch']} | "
                  f"{r['train_words_per_s']:,} | {r['train_wall_s'] / 60:.1f} min |", "",
                  "| epoch | lr | train ppl | valid ppl |", "|---|---|---|---|"]
        lines += [f"| {e['epoch']} | {e['lr']:.4g} | {e['train_ppl']} | {e['valid_ppl']} |"
                  for e in r["epochs"]]
        lines.append("")
    if "c" in results:
        r, env = results["c"], results["c"]["environment"]
        lines += ["## (c) training words/s: seqnlp against a plain PyTorch loop", "",
                  f"`{env['command']}` on {env['date']}, {env['cpu']} ({env['cores']} cores, "
                  f"{env['threads']} torch threads, torch {env['torch']}); 2 x 200 LSTM, "
                  f"V 10,000, batch 20, 20 steps; {r['windows']} windows per round, medians "
                  f"of {r['rounds']} rounds in ABBA order", "",
                  "| plain PyTorch words/s | seqnlp words/s | ratio of medians | "
                  "median of per-round ratios | ratio of fastest rounds |", "|---|---|---|---|---|",
                  f"| {r['plain_pytorch_words_per_s']:,} | {r['seqnlp_words_per_s']:,} | "
                  f"{r['ratio']} | {r.get('median_round_ratio', 'n/a')} | "
                  f"{min(r['seconds']['plain']) / min(r['seconds']['seqnlp']):.3f} |", "",
                  "Seconds per round (plain; seqnlp): "
                  f"{r['seconds']['plain']}; {r['seconds']['seqnlp']}", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", nargs="+", choices=("a", "b", "c"), default=["a", "b", "c"])
    parser.add_argument("--quick", action="store_true", help="a slice of PTB, 2 epochs")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--out", type=Path, default=None,
                        help="results folder (default benchmarks/results; a temporary one "
                             "with --quick)")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite lm_ptb.md from lm_ptb.json (no run)")
    args = parser.parse_args()
    folder = args.out or (Path(tempfile.mkdtemp(prefix="lm_ptb_")) if args.quick else RESULTS)
    if args.render:
        write_results({}, folder)
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    corpus = load_ptb(args.quick)
    for part in args.part:
        env = environment(args)
        if part == "c":
            result = throughput(corpus, args.quick)
        else:
            setup = ZAREMBA_SMALL if part == "a" else BEST
            result = train_and_measure(setup, corpus, args.quick)
        write_results({part: {**result, "environment": env}}, folder)
        print(f"wrote {folder / 'lm_ptb.json'} and lm_ptb.md", flush=True)


if __name__ == "__main__":
    main()
