"""Named entities on CoNLL-2003 English: BiLSTM-CRF taggers with character-CNN features,
trained on `eng.train`, selected on `eng.testa` (dev F1), scored once on `eng.testb`.

Scores are conlleval's: exact entity spans and types, overall and per type (LOC, MISC, ORG,
PER). Tags are trained in BIOES (converted from the stored IOB1; spans are identical) and
decoded under BIOES's transition constraints. No pretrained English vectors can be
downloaded here; `--vectors FILE` starts the word embeddings from word2vec vectors trained
by seqnlp (for example on WikiText-2 or IMDB text plus the CoNLL training text).

Usage (heavy: run under `flock /tmp/seqnlp-cpu.lock`):
    python benchmarks/ner_conll.py                          # the published numbers
    python benchmarks/ner_conll.py --vectors w2v.txt        # with pretrained vectors
    python benchmarks/ner_conll.py --quick                  # small slices, for development
    python benchmarks/ner_conll.py --model word_dropout=0.05 --trainer lr=0.002  # a variant
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
CACHE = Path(os.environ.get("SEQNLP_BENCH_CACHE", "/tmp/seqnlp-bench-ner"))

# Chosen on dev F1 with the vectors of benchmarks/ner_vectors.py (test read once per run):
# plain 0.9195; word dropout 0.05 0.9217; word dropout 0.05 + weight averaging 0.9236 at
# its 19th of 20 epochs, still rising, hence up to 40 epochs (a constant lr: the first 20
# are that run's; dev patience then stopped it at the 23rd, the 19th kept).
MODEL = {"encoder": "lstm", "embedding_dim": 100, "char_filters": 30, "hidden_size": 200,
         "dropout": 0.5, "word_dropout": 0.05}
TRAINER = {"optimizer": "adam", "lr": 1e-3, "epochs": 40, "patience": 4, "clip_norm": 5.0,
           "ema_decay": 0.999}
BATCH_SIZE = 16
# With --vectors, the vectors' words (up to this many) join the vocabulary: a dev or test
# word that eng.train lacks keeps its pretrained vector instead of reading as <unk>
# (dev F1 0.9007 -> 0.9093 with the same vectors and settings).
VECTOR_WORDS = 100_000


def run(args: argparse.Namespace) -> dict[str, Any]:
    import dataclasses

    import torch

    from seqnlp.datasets import dataset_status, fetch
    from seqnlp.nn import count_parameters
    from seqnlp.tasks.pipeline import save_trained, train_task
    from seqnlp.tasks.tagging import TaggingTask
    from seqnlp.tasks.tagging_data import load_tagging_data
    from seqnlp.tasks.tagging_eval import evaluate_tagger
    from seqnlp.training import TrainerConfig

    torch.set_num_threads(args.threads)
    if not dataset_status("conll2003").complete:
        fetch("conll2003", from_dir=SHARED / "conll2003")
    data = load_tagging_data("ner", "conll2003", scheme="bioes")
    if args.quick:
        data = dataclasses.replace(data, train=data.train[:2000], dev=data.dev[:500],
                                   test=data.test[:500])
    vectors = None
    if args.vectors:
        from seqnlp.word2vec import KeyedVectors

        vectors = KeyedVectors.load_word2vec_format(args.vectors)
    model = dict(MODEL, **args.model)
    trainer = dict(TRAINER, **args.trainer)
    if args.quick:
        trainer["epochs"] = 2
    config = TrainerConfig(**trainer, device="cpu", progress=sys.stderr.isatty(), seed=0,
                           checkpoint_dir=str(CACHE / f"ckpt-{args.slug}"
                                              f"{'-quick' if args.quick else ''}"))
    task = TaggingTask(data, BATCH_SIZE, vectors=vectors, chars=True,
                       vector_words=args.vector_words)
    start = time.perf_counter()
    printer = _printer(start)
    trained = train_task(task, model, config, resume=True, on_step=printer)
    printer.flush(trained.fit.history)  # the last epoch's line
    seconds = time.perf_counter() - start
    path = CACHE / f"ner-{args.slug}{'-quick' if args.quick else ''}.pt"
    save_trained(path, task, trained, {"dev_f1": trained.dev.get("f1")})
    from seqnlp.models import load_model

    test = evaluate_tagger(load_model(path), data, "test")
    print(test.pop("_text"), flush=True)
    return {"model": model, "trainer": trainer, "batch_size": BATCH_SIZE,
            "vectors": str(args.vectors) if args.vectors else None,
            "vector_words": args.vector_words,
            "parameters": count_parameters(trained.model), "train_seconds": round(seconds, 1),
            "epochs_run": trained.fit.epochs_completed,
            "best_epoch": (trained.fit.best_epoch or 0) + 1,
            "dev_f1_by_epoch": [round(e["metrics"]["f1"], 4) for e in trained.fit.history],
            "dev_f1": round(trained.dev["f1"], 4),
            "test": {k: round(v, 4) for k, v in test.items()}}


def _printer(start: float) -> Any:
    """Each epoch's line (dev F1, seconds since `start`) as the next one begins."""
    from seqnlp.cli.common import EpochPrinter

    def line(item: dict[str, Any]) -> str:
        return (f"epoch {item['epoch'] + 1}: loss {item['train_loss']:.3f} dev F1 "
                f"{item['metrics'].get('f1', float('nan')):.4f} "
                f"({time.perf_counter() - start:.0f} s)")

    return EpochPrinter(line)


def environment(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    cpu = platform.processor() or "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"command": "python benchmarks/ner_conll.py " + " ".join(args.argv),
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "cpu": cpu, "threads": args.threads, "torch": torch.__version__,
            "load_average_1min": round(os.getloadavg()[0], 2), "quick": args.quick}


def markdown(results: dict[str, Any]) -> str:
    lines = ["# Named entities on CoNLL-2003 (`benchmarks/ner_conll.py`)", "",
             "Trained on eng.train, selected on eng.testa (dev F1), scored once on eng.testb "
             "with conlleval's exact spans.", "",
             "| run | dev F1 (best epoch) | test F1 | LOC | MISC | ORG | PER | train s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        t = r["test"]
        lines.append(f"| {name} | {r['dev_f1']} ({r['best_epoch']}) | {t['f1']} | "
                     f"{t.get('f1_LOC')} | {t.get('f1_MISC')} | {t.get('f1_ORG')} | "
                     f"{t.get('f1_PER')} | {r['train_seconds']} |")
    lines.append("")
    for name, r in results.items():
        env = r["environment"]
        lines.append(f"- {name}: `{env['command']}`; {env['date']}; {env['cpu']}, "
                     f"{env['threads']} threads; load {env['load_average_1min']}"
                     + _changed(r))
    return "\n".join(lines) + "\n"


def _changed(row: dict[str, Any]) -> str:
    """Where a row ran with settings other than today's MODEL and TRAINER: which (an
    earlier row's command alone no longer reproduces it)."""
    diffs = [f"{key}={source.get(key, '-')}" for now, source in ((MODEL, row["model"]),
                                                                  (TRAINER, row["trainer"]))
             for key in sorted(set(now) | set(source)) if now.get(key) != source.get(key)]
    return f"; run with {', '.join(diffs)}" if diffs else ""


def _setting(text: str) -> tuple[str, Any]:
    """KEY=VALUE, the value read as JSON when it parses (numbers, true/false), else text."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vectors", type=Path, default=None)
    parser.add_argument("--vector-words", type=int, default=VECTOR_WORDS,
                        help="with --vectors: up to this many vector words join the vocabulary "
                             "(0: training words only)")
    parser.add_argument("--model", type=_setting, action="append", default=[],
                        metavar="KEY=VALUE", help="override an entry of MODEL (repeatable)")
    parser.add_argument("--trainer", type=_setting, action="append", default=[],
                        metavar="KEY=VALUE", help="override an entry of TRAINER (repeatable)")
    parser.add_argument("--name", default=None, help="the row's name (default: from --vectors)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    args.model, args.trainer = dict(args.model), dict(args.trainer)
    out = args.out or (CACHE / "results" if args.quick else RESULTS)
    path = out / "ner_conll.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    name = args.name or ("random embeddings" if not args.vectors else f"vectors {args.vectors.name}")
    args.slug = "".join(c if c.isalnum() else "-" for c in name.lower())[:60]
    results[name] = {"environment": environment(args), **run(args)}
    from seqnlp.fileio import atomic_write

    for target, text in ((path, json.dumps(results, indent=2) + "\n"),
                         (out / "ner_conll.md", markdown(results))):
        with atomic_write(target, "w", encoding="utf-8") as handle:  # never half-written
            handle.write(text)


if __name__ == "__main__":
    main()
