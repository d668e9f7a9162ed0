"""German -> English translation on Multi30k (test2016): GRU encoder-decoders with and without
attention, greedy and beam-5 decoding.

Each model trains on the 29,000 training pairs within a time budget (`--minutes`; the
issue's target is 60), is selected on val sacreBLEU (greedy), and is scored once on
test2016: sacreBLEU (cased, detokenized, 13a, signature kept), chrF and tokenized
lowercased BLEU, with greedy search and beam 5, and the decoding speed of each (sentences/s
over the whole test set, batched). Results go to benchmarks/results/translate_multi30k.{json,md};
a run shorter than the full budget is labelled as such.

Usage (heavy: run under `flock /tmp/seqnlp-cpu.lock`):
    python benchmarks/translate_multi30k.py                       # 60 minutes per model
    python benchmarks/translate_multi30k.py --minutes 12 --models attention --label "short run"
    python benchmarks/translate_multi30k.py --quick               # small slices, for development
    python benchmarks/translate_multi30k.py --eval-only --minutes 12 --label "short run"
        # score again the models the last run saved in $SEQNLP_BENCH_CACHE
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SEQNLP_SHARED", REPO.parent / "shared" / "datasets"))
RESULTS = REPO / "benchmarks" / "results"
CACHE = Path(os.environ.get("SEQNLP_BENCH_CACHE", "/tmp/seqnlp-bench-translate"))

MODELS: dict[str, dict[str, Any]] = {
    "attention": {"embedding_dim": 256, "hidden_size": 256, "decoder_hidden_size": 256,
                  "cell": "gru", "bidirectional": True, "attention": "luong",
                  "score": "scaled_general", "input_feeding": True, "dropout": 0.3,
                  "label_smoothing": 0.1},
    "no-attention": {"embedding_dim": 256, "hidden_size": 256, "decoder_hidden_size": 256,
                     "cell": "gru", "bidirectional": True, "attention": "none",
                     "dropout": 0.3, "label_smoothing": 0.1},
}
DATA = {"tokenizer": "sentencepiece", "vocab_size": 6000, "subword_type": "bpe",
        "batch_size": 64, "max_length": 60}
TRAINER = {"optimizer": "adam", "lr": 2e-3, "epochs": 40, "patience": 4, "clip_norm": 1.0,
           "schedule": "plateau", "gamma": 0.5}  # halve the lr whenever val BLEU does not improve
# GNMT length penalty of beam 5: chosen on val (the first 500 sentences) with the 12-minute
# short run's model: alpha 0 -> 10.26, 1.0 -> 10.61 (greedy 10.13); 0.6 had given test2016
# 10.70 against greedy 11.04.
BEAM, ALPHA = 5, 1.0


def train_one(name: str, data: Any, args: argparse.Namespace) -> dict[str, Any]:
    from seqnlp.nn import count_parameters
    from seqnlp.tasks.pipeline import save_trained, train_task
    from seqnlp.tasks.translation import TranslationTask
    from seqnlp.training import TrainerConfig

    task = TranslationTask(data, **DATA)
    # The budget: the epoch in progress at args.minutes is cut there, evaluated, and the last.
    trainer = TrainerConfig(**TRAINER, seed=args.seed, progress=False,
                            max_minutes=args.minutes)
    start = time.perf_counter()
    printer = _EpochPrinter(name)
    trained = train_task(task, MODELS[name], trainer,
                         on_step=lambda trainer_, record: printer(trainer_))
    seconds = time.perf_counter() - start
    CACHE.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "model": MODELS[name], "data": DATA, "trainer": TRAINER,
        "parameters": count_parameters(trained.model), "train_seconds": round(seconds, 1),
        "epochs": len(trained.fit.history), "best_epoch": trained.fit.best_epoch,
        "stopped_by_budget": trained.fit.stopped_by_time,
        "dev_bleu_greedy": trained.dev.get("bleu"),
        "history": [{"epoch": h["epoch"] + 1, "train_loss": round(h["train_loss"], 4),
                     **{k: round(v, 3) for k, v in h["metrics"].items()}}
                    for h in trained.fit.history],
    }
    save_trained(CACHE / f"{name}.pt", task, trained, {"benchmark": result})
    translator = task.translator(trained.model, trained.vocabs)
    return {**result, "test2016": score_test(name, translator, data, args)}


def evaluate_saved(name: str, data: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Score the model a previous run left in the cache (its training facts kept)."""
    from seqnlp.models import load_model
    from seqnlp.tasks.translation import Translator

    loaded = load_model(CACHE / f"{name}.pt", expect="seq2seq")
    result = dict(loaded.extra.get("benchmark") or {})
    previous = args.out.with_suffix(".json")
    if not result and previous.is_file():  # a model saved before its facts were kept in it
        result = dict(json.loads(previous.read_text())["models"].get(name, {}))
        result.pop("test2016", None)
    return {**result, "test2016": score_test(name, Translator.from_loaded(loaded), data, args)}


def score_test(name: str, translator: Any, data: Any, args: argparse.Namespace
               ) -> dict[str, Any]:
    """test2016 scores and decoding speed, greedy and beam."""
    import torch

    from seqnlp.tasks.translation import evaluate_translator

    torch.set_num_threads(args.threads)
    scores_by: dict[str, Any] = {}
    for label, beam in (("greedy", 1), (f"beam{BEAM}", BEAM)):
        scores = evaluate_translator(translator, data.test, beam=beam, batch_size=64,
                                     alpha=ALPHA if beam > 1 else 0.0)
        scores["alpha"] = ALPHA if beam > 1 else 0.0  # the GNMT length-penalty exponent
        scores_by[label] = {k: (round(v, 2) if isinstance(v, float) else v)
                            for k, v in scores.items()}
        print(f"{name} {label}: BLEU {scores['bleu']:.2f}, tokenized BLEU "
              f"{scores['bleu_tok']:.2f}, chrF {scores['chrf']:.2f}, "
              f"{scores['sentences_per_second']:.1f} sentences/s", flush=True)
    return scores_by


class _EpochPrinter:
    def __init__(self, name: str) -> None:
        self.name, self.printed = name, 0

    def __call__(self, trainer: Any) -> None:
        for item in trainer.history[self.printed:]:
            metrics = item["metrics"]
            print(f"{self.name} epoch {item['epoch'] + 1}: train loss {item['train_loss']:.3f}, "
                  f"val BLEU {metrics.get('bleu', float('nan')):.2f} "
                  f"({time.strftime('%H:%M:%S')})", flush=True)
        self.printed = len(trainer.history)


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# Multi30k de->en, test2016 ({report['label']})", "",
             f"{report['date']}, {report['machine']}, {report['threads']} threads, "
             f"training budget {report['minutes']:g} min per model.", "",
             "| model | decoding | sacreBLEU | tokenized BLEU | chrF | sentences/s | "
             "val BLEU (greedy) | epochs | train min |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, result in report["models"].items():
        for label, scores in result["test2016"].items():
            lines.append(f"| {name} | {label} | {scores['bleu']:.2f} | {scores['bleu_tok']:.2f} "
                         f"| {scores['chrf']:.2f} | {scores['sentences_per_second']:.0f} | "
                         f"{result['dev_bleu_greedy']:.2f} | {result['epochs']} | "
                         f"{result['train_seconds'] / 60:.1f} |")
    signature = next(iter(report["models"].values()))["test2016"]["greedy"]["bleu_signature"]
    lines += ["", f"sacreBLEU signature: `{signature}`; beam search's GNMT length penalty "
              f"alpha {ALPHA:g}.", ""]
    for name, result in report["models"].items():
        if result.get("stopped_by_budget"):
            lines.append(f"- {name}: training stopped by the {report['minutes']:g}-minute budget "
                         f"during epoch {result['epochs']}; scores of an unconverged model.")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--minutes", type=float, default=60.0,
                        help="training budget per model, minutes")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--label", default="", help="e.g. 'short run' (default: full run "
                        "when --minutes >= 60, else 'short run')")
    parser.add_argument("--quick", action="store_true", help="2,000 training pairs, 200 val")
    parser.add_argument("--eval-only", action="store_true", help="score the models a "
                        "previous run saved in $SEQNLP_BENCH_CACHE instead of training")
    parser.add_argument("--out", type=Path, default=RESULTS / "translate_multi30k")
    args = parser.parse_args(argv)

    import torch

    from seqnlp.datasets import dataset_status, fetch
    from seqnlp.tasks.translation_data import load_parallel_data

    import seqnlp.models.seq2seq  # noqa: F401  (registers the seq2seq kind)

    torch.set_num_threads(args.threads)
    if not dataset_status("multi30k").complete:
        fetch("multi30k", from_dir=SHARED / "multi30k")
    data = load_parallel_data("multi30k", "de", "en")
    if args.quick:
        data.train, data.dev = data.train[:2000], data.dev[:200]
    label = args.label or ("full run" if args.minutes >= 60 and not args.quick else "short run")
    report: dict[str, Any] = {
        "label": label, "minutes": args.minutes, "threads": args.threads,
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, Python "
                   f"{sys.version.split()[0]}, torch {torch.__version__}",
        "train_pairs": len(data.train), "models": {},
    }
    for name in args.models:
        run = evaluate_saved if args.eval_only else train_one
        report["models"][name] = run(name, data, args)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
        args.out.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
