"""Chinese word segmentation on the SIGHAN 2005 PKU test set: seqnlp's BiLSTM-CRF taggers
against jieba and pkuseg, side by side, with the same scorer on the same file.

Training data: People's Daily, January 1998 (`pfr1998`, PKU standard), 5% of its paragraphs
held out as dev (seed 0) for model selection; the February file is not used. Test: the raw
`pku_test.utf8` is segmented as a user would (`seqnlp.tasks.segment.segment_lines`, which
keeps the input's characters), then scored against `pku_test_gold.utf8` with the bakeoff's
measures (word precision, recall, F1; OOV rate and OOV/IV recall, OOV = not a word of the
training split). Full-width ASCII forms are mapped to ASCII on both sides before scoring.
The MSR test set is scored too, as a cross-standard figure (PKU-trained models, no target).

Parts:
  vectors write the character and bigram vectors of the models that start from them
          (`"vectors": "pretrained"`: word2vec on the training split's text, see
          pretrain_vectors) to the cache's vectors/ folder; train builds them when missing.
  train   train every model of MODELS (or --models) through the shared pipeline, each
          keeping its best dev-F1 epoch; models are cached in --cache.
  dev     dev F1 of models and --ensembles on one dev split (the held-out paragraphs re-cut
          toward the bakeoff's revision), to choose between them.
  eval    score each cached model (and --ensembles), jieba and pkuseg on PKU (and MSR)
          test: F1, OOV/IV recall, characters/s over the whole test file (best of 3 passes,
          batched), and the peak memory of a fresh process that loads the segmenter and
          segments the file.

  ship    copy the cached model named by --ship (default SHIPPED) into the package as its
          default segmenter (src/seqnlp/pretrained/segmenter-pku.pt), refusing a file over
          10 MB; `seqnlp tagger segment` and `seqnlp.segment` use it when no model is named.

The peers are benchmark-only dependencies: jieba comes with the `bench` extra; pkuseg 0.0.25
cannot be built by a plain `pip install` (its setup.py imports numpy and Cython before they
are installed), so it lives in a virtual environment of its own, named by --pkuseg-python:
    python3 -m venv /tmp/pkvenv
    /tmp/pkvenv/bin/pip install numpy cython wheel setuptools
    /tmp/pkvenv/bin/pip install --no-build-isolation pkuseg==0.0.25   # its default model inside
Without it, eval says so and leaves pkuseg out.

Usage (heavy: run under `flock /tmp/seqnlp-cpu.lock`):
    python benchmarks/cws.py --part train eval ship --pkuseg-python /tmp/pkvenv/bin/python
    python benchmarks/cws.py --part train eval --quick    # small slices, for development
    python benchmarks/cws.py --render                     # rewrite cws.md from cws.json
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SEQNLP_SHARED", REPO.parent / "shared" / "datasets"))
RESULTS = REPO / "benchmarks" / "results"
CACHE = Path(os.environ.get("SEQNLP_BENCH_CACHE", "/tmp/seqnlp-bench-cws"))

# The models compared: the options of `seqnlp tagger train --task cws` (model table) and its
# trainer options. Sizes span the accuracy / speed trade-off.
MODELS: dict[str, dict[str, Any]] = {
    # the accuracy end: sized so that 10 epochs fit in about an hour on 2 cores (a 2 x 200
    # BiLSTM over 100 + 2 x 100 inputs measured 13 min per epoch here, too slow)
    "bilstm-128": {
        "model": {"encoder": "lstm", "embedding_dim": 100, "bigram_dim": 50,
                  "hidden_size": 128, "dropout": 0.2},
        "trainer": {"optimizer": "adam", "lr": 2e-3, "epochs": 10, "patience": 3,
                    "clip_norm": 5.0},
        "batch_size": 32,
    },
    # the 60-minute row: twice as wide, with wider bigram vectors, more dropout and the lr
    # halved whenever dev F1 stalls; trained within a 60-minute budget (bilstm-128's dev F1
    # had levelled off by its 8th epoch at a constant lr)
    "bilstm-256": {
        "model": {"encoder": "lstm", "embedding_dim": 100, "bigram_dim": 100,
                  "hidden_size": 256, "dropout": 0.3},
        "trainer": {"optimizer": "adam", "lr": 2e-3, "epochs": 30, "patience": 3,
                    "clip_norm": 5.0, "schedule": "plateau", "gamma": 0.5,
                    "max_minutes": 60.0},
        "batch_size": 32,
    },
    # bilstm-256 starting from character and bigram vectors pretrained on the training
    # split's own text (pretrain_vectors), scored and kept as the moving average of its
    # weights; the same 60-minute budget
    "bilstm-256-pre": {
        "model": {"encoder": "lstm", "embedding_dim": 100, "bigram_dim": 100,
                  "hidden_size": 256, "dropout": 0.3},
        "trainer": {"optimizer": "adam", "lr": 2e-3, "epochs": 30, "patience": 3,
                    "clip_norm": 5.0, "schedule": "plateau", "gamma": 0.5,
                    "max_minutes": 60.0, "ema_decay": 0.999},
        "batch_size": 32, "vectors": "pretrained",
    },
    # the speed end, small enough to ship (at most 40,000 bigrams: a file of about 7 MB);
    # 20 epochs: with 10 its dev F1 still rose at the last epoch (0.9634 -> 0.9641)
    "bilstm-64": {
        "model": {"encoder": "lstm", "embedding_dim": 64, "bigram_dim": 32,
                  "hidden_size": 64, "dropout": 0.2},
        "trainer": {"optimizer": "adam", "lr": 3e-3, "epochs": 20, "patience": 3,
                    "clip_norm": 5.0},
        "batch_size": 32, "bigram_max_vocab": 40_000,
    },
    # bilstm-64 with bilstm-256's schedule (lr halved whenever dev F1 stalls), a candidate
    # for the shipped default
    "bilstm-64-plateau": {
        "model": {"encoder": "lstm", "embedding_dim": 64, "bigram_dim": 32,
                  "hidden_size": 64, "dropout": 0.2},
        "trainer": {"optimizer": "adam", "lr": 3e-3, "epochs": 30, "patience": 3,
                    "clip_norm": 5.0, "schedule": "plateau", "gamma": 0.5,
                    "max_minutes": 60.0},
        "batch_size": 32, "bigram_max_vocab": 40_000,
    },
    # bilstm-64-plateau reading each character and bigram as <unk> 10% of the time in
    # training (word dropout, for words never seen)
    "bilstm-64-wd": {
        "model": {"encoder": "lstm", "embedding_dim": 64, "bigram_dim": 32,
                  "hidden_size": 64, "dropout": 0.2, "word_dropout": 0.1},
        "trainer": {"optimizer": "adam", "lr": 3e-3, "epochs": 30, "patience": 3,
                    "clip_norm": 5.0, "schedule": "plateau", "gamma": 0.5,
                    "max_minutes": 60.0},
        "batch_size": 32, "bigram_max_vocab": 40_000,
    },
    # bilstm-64-plateau starting from character and bigram vectors pretrained by word2vec
    # on the training split's own text (pretrain_vectors)
    "bilstm-64-pre": {
        "model": {"encoder": "lstm", "embedding_dim": 64, "bigram_dim": 32,
                  "hidden_size": 64, "dropout": 0.2},
        "trainer": {"optimizer": "adam", "lr": 3e-3, "epochs": 30, "patience": 3,
                    "clip_norm": 5.0, "schedule": "plateau", "gamma": 0.5,
                    "max_minutes": 60.0},
        "batch_size": 32, "bigram_max_vocab": 40_000, "vectors": "pretrained",
    },
    # bilstm-64-plateau scored and kept as the moving average of its weights
    "bilstm-64-ema": {
        "model": {"encoder": "lstm", "embedding_dim": 64, "bigram_dim": 32,
                  "hidden_size": 64, "dropout": 0.2},
        "trainer": {"optimizer": "adam", "lr": 3e-3, "epochs": 30, "patience": 3,
                    "clip_norm": 5.0, "schedule": "plateau", "gamma": 0.5,
                    "max_minutes": 60.0, "ema_decay": 0.999},
        "batch_size": 32, "bigram_max_vocab": 40_000,
    },
    # the separately reported "more data" row: bilstm-128 trained on January + February
    "bilstm-128-janfeb": {
        "model": {"encoder": "lstm", "embedding_dim": 100, "bigram_dim": 50,
                  "hidden_size": 128, "dropout": 0.2},
        "trainer": {"optimizer": "adam", "lr": 2e-3, "epochs": 10, "patience": 3,
                    "clip_norm": 5.0},
        "batch_size": 32, "data": "pfr1998-janfeb",
    },
    "idcnn-128": {
        "model": {"encoder": "idcnn", "embedding_dim": 64, "bigram_dim": 32,
                  "hidden_size": 128, "num_layers": 1, "dropout": 0.2},
        "trainer": {"optimizer": "adam", "lr": 2e-3, "epochs": 10, "patience": 3,
                    "clip_norm": 5.0},
        "batch_size": 32, "bigram_max_vocab": 40_000,
    },
}


def _variant(base: str, model: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    """MODELS[base] with some model options and spec entries changed."""
    return {**MODELS[base], "model": {**MODELS[base]["model"], **(model or {})}, **spec}


# bilstm-64-pre and bilstm-256-pre trained on January 1998 re-cut toward the revision of the
# bakeoff's own PKU training file (the same text): a word that file's word list
# (pku_training_words.utf8, shipped with the bakeoff's test data) lacks but that is a
# sequence of its words is cut into them (1,985 of 19,484 paragraphs change; the cuts add
# 2,820 words to 1,120,721; 不能 -> 不 能)
MODELS["bilstm-64-pre-lex"] = _variant("bilstm-64-pre", lexicon="pku_training_words")
MODELS["bilstm-256-pre-lex"] = _variant("bilstm-256-pre", lexicon="pku_training_words")
# bilstm-256-pre-lex with more dropout and word dropout (its dev F1 peaked at epoch 3, and
# OOV recall is where the models trail pkuseg)
MODELS["bilstm-256-pre-lex-wd"] = _variant("bilstm-256-pre-lex",
                                           {"dropout": 0.5, "word_dropout": 0.1})

# Ensembles of trained models, decoded together: the tag path of the best mean score
# (seqnlp.tasks.segment.mean_decoder; `seqnlp segment -m A.pt -e B.pt`). Their training time
# is their members' together.
ENSEMBLES: dict[str, list[str]] = {
    "ensemble-256-lex": ["bilstm-256-pre-lex", "bilstm-256-pre-lex-wd"],
    "ensemble-256x3": ["bilstm-256-pre-lex", "bilstm-256-pre-lex-wd", "bilstm-256-pre"],
}

SHIPPED = "bilstm-64-pre"  # the model that ships as the default segmenter


def ensure_data() -> None:
    from seqnlp.datasets import dataset_status, fetch

    for name in ("pfr1998", "sighan2005"):
        if not dataset_status(name).complete:
            fetch(name, from_dir=SHARED / name)


@functools.cache
def load_data(quick: bool, name: str = "pfr1998", lexicon: str | None = None) -> Any:
    """pfr1998 (or pfr1998-janfeb) with 5% held out as dev; with `lexicon` (a word list of
    sighan2005, e.g. pku_training_words), re-cut toward it. Read once per arguments."""
    import dataclasses

    from seqnlp.tasks.tagging_data import load_tagging_data

    words = None
    if lexicon:
        from seqnlp.datasets import split_files
        from seqnlp.text.chinese import read_word_list

        words = list(read_word_list(split_files("sighan2005")[lexicon]))
    data = load_tagging_data("cws", name, dev_fraction=0.05, seed=0, lexicon=words)
    if quick:
        data = dataclasses.replace(data, train=data.train[:2000], dev=data.dev[:200])
    return data


# ---------------------------------------------------------------------------------- train

def train_model(name: str, data: Any, quick: bool, threads: int) -> dict[str, Any]:
    """Train one model of MODELS, save it in the cache, return its record."""
    import torch

    from seqnlp.models.tagger import describe
    from seqnlp.nn import count_parameters
    from seqnlp.tasks.pipeline import save_trained, train_task
    from seqnlp.tasks.tagging import TaggingTask
    from seqnlp.training import TrainerConfig

    spec = MODELS[name]
    torch.set_num_threads(threads)
    trainer = dict(spec["trainer"], epochs=1 if quick else spec["trainer"]["epochs"])
    config = TrainerConfig(**trainer, device="cpu", progress=sys.stderr.isatty(), seed=0,
                           checkpoint_dir=str(CACHE / f"ckpt-{name}{'-quick' if quick else ''}"))
    vectors = bigram_vectors = None
    if spec.get("vectors"):
        from seqnlp.word2vec import load_vectors

        chars_path, bigrams_path = pretrain_vectors(data, spec["model"]["embedding_dim"],
                                                    spec["model"]["bigram_dim"], quick)
        vectors, bigram_vectors = load_vectors(chars_path), load_vectors(bigrams_path)
    task = TaggingTask(data, spec["batch_size"], bigrams=bool(spec["model"].get("bigram_dim")),
                       bigram_max_vocab=spec.get("bigram_max_vocab"), vectors=vectors,
                       bigram_vectors=bigram_vectors)

    from seqnlp.cli.common import EpochPrinter

    def line(item: dict[str, Any]) -> str:
        return (f"{name} epoch {item['epoch'] + 1}: loss {item['train_loss']:.3f} dev F1 "
                f"{item['metrics'].get('f1', float('nan')):.4f} "
                f"({time.perf_counter() - start:.0f} s)")

    printer = EpochPrinter(line)
    start = time.perf_counter()
    trained = train_task(task, spec["model"], config, resume=True, on_step=printer)
    printer.flush(trained.fit.history)  # the last epoch's line
    seconds = time.perf_counter() - start
    path = model_path(name, quick)
    save_trained(path, task, trained, {"dev_f1": trained.dev.get("f1"),
                                       "train_seconds": seconds})
    return {"model": name, "config": describe(trained.model.config), "batch_size":
            spec["batch_size"], "trainer": spec["trainer"],
            "parameters": count_parameters(trained.model),
            "file_mb": round(path.stat().st_size / 2**20, 2),
            "train_seconds": round(seconds, 1), "epochs_run": trained.fit.epochs_completed,
            "best_epoch": (trained.fit.best_epoch or 0) + 1,
            "dev_f1_by_epoch": [round(e["metrics"]["f1"], 4) for e in trained.fit.history],
            "dev_f1": round(trained.dev["f1"], 4)}


# word2vec options of the pretrained character and bigram vectors (one worker: the same
# file on every run)
PRETRAIN = ["--architecture", "skipgram", "--window", "5", "--epochs", "10", "--min-count",
            "2", "--workers", "1", "--seed", "1", "--text", "--no-progress"]


def pretrain_vectors(data: Any, char_dim: int, bigram_dim: int, quick: bool
                     ) -> tuple[Path, Path]:
    """Character and character-bigram vectors trained by seqnlp's word2vec on the training
    split's text (width-normalised, as the tagger reads it; dev and test are not read):
    one line per paragraph, its characters (or its adjacent character pairs) as words.
    Cached in --cache by size."""
    folder = CACHE / f"vectors{'-quick' if quick else ''}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, dim in (("chars", char_dim), ("bigrams", bigram_dim)):
        corpus, path = folder / f"{kind}.txt", folder / f"{kind}-{dim}.w2v.txt"
        if not corpus.exists():
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder,
                                             delete=False) as out:
                for sentence in data.train:
                    chars = sentence.tokens
                    units = chars if kind == "chars" else [a + b for a, b in
                                                           zip(chars, chars[1:])]
                    if units:
                        out.write(" ".join(units) + "\n")
            os.replace(out.name, corpus)
        if not path.exists():
            subprocess.run([sys.executable, "-m", "seqnlp", "w2v", "train", str(corpus),
                            "-o", str(path), "--size", str(dim), *PRETRAIN], check=True)
        paths.append(path)
    return paths[0], paths[1]


def model_path(name: str, quick: bool) -> Path:
    return CACHE / f"{name}{'-quick' if quick else ''}.pt"


# ----------------------------------------------------------------------------------- eval

def test_set(corpus: str) -> tuple[list[str], list[list[str]]]:
    """The raw test lines and the gold words (width-normalised) of PKU or MSR."""
    from seqnlp.datasets import split_files
    from seqnlp.text.chinese import normalize_width, read_raw_lines, read_segmented

    files = split_files("sighan2005")
    raw = list(read_raw_lines(files[f"{corpus}_test"]))
    gold = [[normalize_width(w) for w in words]
            for words in read_segmented(files[f"{corpus}_test_gold"])]
    if len(raw) != len(gold):
        raise SystemExit(f"{corpus}: {len(raw)} test lines but {len(gold)} gold lines")
    return raw, gold


def score(predicted: list[list[str]], gold: list[list[str]], train_words: Any) -> dict:
    """Bakeoff measures; a line whose gold characters differ from the raw line's (16 MSR
    lines, where a quotation mark sits on the neighbouring line) is left out and counted."""
    from seqnlp.text.chinese import normalize_width
    from seqnlp.training.chunk_metrics import segmentation_scores

    normalized = [[normalize_width(w) for w in words] for words in predicted]
    pairs = [(g, p) for g, p in zip(gold, normalized) if "".join(g) == "".join(p)]
    scores = segmentation_scores([g for g, _ in pairs], [p for _, p in pairs], train_words)
    return {**{k: round(v, 4) for k, v in scores.as_dict().items()},
            "lines_left_out": len(gold) - len(pairs)}


# A fresh process segments the whole test file: its time (best of 3 passes, after one
# warm-up line) and its peak resident memory.
RUNNER = r"""
import json, sys, time
kind, target, path, threads = sys.argv[1:5]
lines = [l.rstrip("\r\n") for l in open(path, encoding="utf-8")]
if kind == "seqnlp":
    import torch
    torch.set_num_threads(int(threads))
    from seqnlp.models import load_model
    from seqnlp.tasks.segment import segment_lines
    model = [load_model(t) for t in target.split("+")]  # several: an ensemble
    run = lambda: segment_lines(model, lines, batch_size=512)
elif kind == "pkuseg":
    import pkuseg
    segmenter = pkuseg.pkuseg()  # the default model (mixed domains) inside the package
    run = lambda: [[w for w in segmenter.cut(l) if w.strip()] for l in lines]
else:
    import jieba, logging
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    run = lambda: [[w for w in jieba.cut(l) if w.strip()] for l in lines]
times = []
for _ in range(3):
    start = time.perf_counter(); words = run(); times.append(time.perf_counter() - start)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over an exec, so a child started by a big
# parent would report the parent's size
rss = next(int(line.split()[1]) for line in open("/proc/self/status")
           if line.startswith("VmHWM:")) / 1024
print(json.dumps({"seconds": min(times), "peak_rss_mb": round(rss, 1), "words": words}))
"""


def segment_in_process(kind: str, target: str, raw: list[str], threads: int,
                       python: str = sys.executable) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "test.txt"
        path.write_text("\n".join(raw) + "\n", encoding="utf-8")
        out = subprocess.run([python, "-c", RUNNER, kind, target, str(path), str(threads)],
                             capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def peer_version(python: str, package: str) -> str | None:
    """The version of `package` importable by `python`, or None."""
    out = subprocess.run([python, "-c", f"from importlib.metadata import version; "
                          f"import {package}; print(version({package!r}))"],
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def evaluate(name: str, kind: str, target: str, data: Any, threads: int,
             python: str = sys.executable) -> dict[str, Any]:
    record: dict[str, Any] = {"segmenter": name}
    for corpus in ("pku", "msr"):
        raw, gold = test_set(corpus)
        run = segment_in_process(kind, target, raw, threads, python)
        words = run["words"]
        chars = sum(len("".join(line.split())) for line in raw)
        record[corpus] = {**score(words, gold, data.train_words),
                          "chars_per_second": round(chars / run["seconds"]),
                          "peak_rss_mb": run["peak_rss_mb"], "chars": chars}
        print(f"{name} {corpus}: {json.dumps(record[corpus])}", flush=True)
    return record


def dev_scores(models: list[str], ensembles: list[str], quick: bool) -> dict[str, Any]:
    """Dev F1 of models and ensembles on one dev split for all, so that they compare: the
    held-out January paragraphs re-cut toward the bakeoff's revision (the -lex models' own
    dev; the revision the test set follows)."""
    from seqnlp.models import load_model
    from seqnlp.tasks.tagging_eval import evaluate_tagger

    data = load_data(quick, "pfr1998", "pku_training_words")
    scores = {}
    for name in [*models, *ensembles]:
        members = [load_model(model_path(m, quick)) for m in ENSEMBLES.get(name, [name])]
        f1 = evaluate_tagger(members, data, "dev", 512)["f1"]
        scores[name] = {"dev_f1_recut": round(f1, 4), "members": ENSEMBLES.get(name, [name])}
        print(f"{name}: dev F1 (re-cut dev) {f1:.4f}", flush=True)
    return scores


# --------------------------------------------------------------------------------- report

def environment(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    cpu = platform.processor() or "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"command": "python benchmarks/cws.py " + " ".join(args.argv),
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "cpu": cpu, "cores": os.cpu_count(), "threads": args.threads,
            "torch": torch.__version__, "load_average_1min": round(os.getloadavg()[0], 2),
            "quick": args.quick}


def markdown(results: dict[str, Any]) -> str:
    lines = ["# Chinese word segmentation (`benchmarks/cws.py`)", "",
             "Trained on pfr1998 January (PKU standard; `-janfeb`: January and February, "
             "the separate \"more data\" row), 5% held out as dev; scored on the "
             "SIGHAN 2005 test sets with the bakeoff's measures. Every number below was "
             "measured by the command shown with it.", ""]
    train = results.get("train")
    if train:
        env = train["environment"]
        lines += ["## Training", "", "Each model was trained by `python benchmarks/cws.py "
                  "--part train --models NAME ...`; the latest such run:", "",
                  f"`{env['command']}`; {env['date']}; {env['cpu']}, "
                  f"{env['threads']} threads; load {env['load_average_1min']}", "",
                  "| model | params | file MB | dev F1 (by epoch) | best epoch | train s |",
                  "|---|---:|---:|---|---:|---:|"]
        for r in train["models"]:
            lines.append(f"| {r['model']} | {r['parameters']:,} | {r['file_mb']} | "
                         f"{r['dev_f1']} ({', '.join(map(str, r['dev_f1_by_epoch']))}) | "
                         f"{r['best_epoch']} | {r['train_seconds']} |")
        lines.append("")
    evaluation = results.get("eval")
    if evaluation:
        env = evaluation["environment"]
        lines += ["## Test (PKU; MSR cross-standard)", "", f"`{env['command']}`; {env['date']};"
                  f" {env['cpu']}, {env['threads']} threads; load {env['load_average_1min']}",
                  "", "| segmenter | PKU F1 | P | R | OOV recall | IV recall | chars/s | "
                  "peak RSS MB | MSR F1 |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in evaluation["segmenters"]:
            p, m = r["pku"], r["msr"]
            lines.append(f"| {r['segmenter']} | {p['f1']} | {p['precision']} | {p['recall']} "
                         f"| {p['oov_recall']} | {p['iv_recall']} | {p['chars_per_second']:,} "
                         f"| {p['peak_rss_mb']} | {m['f1']} |")
        lines.append("")
        others = [r for r in evaluation["segmenters"]
                  if r.get("environment", env)["command"] != env["command"]]
        for r in others:
            e = r["environment"]
            lines.append(f"- {r['segmenter']}: `{e['command']}`; {e['date']}; {e['cpu']}, "
                         f"{e['threads']} threads; load {e['load_average_1min']}")
        lines.append("")
    dev = results.get("dev")
    if dev:
        env = results.get("dev_environment", {})
        lines += ["## Dev F1 on one dev split (`--part dev`)", "",
                  "The held-out January paragraphs re-cut toward the bakeoff's revision, the "
                  "same split for every row, so that models and ensembles compare; the latest "
                  f"run: `{env.get('command')}`; {env.get('date')}.", "",
                  "| segmenter | members | dev F1 |", "|---|---|---:|"]
        for name, r in dev.items():
            lines.append(f"| {name} | {' + '.join(r['members'])} | {r['dev_f1_recut']} |")
        lines.append("")
    shipped = results.get("shipped")
    if shipped:
        lines += [f"The default segmenter shipped in the package is `{shipped['model']}` "
                  f"({shipped['file_mb']} MB).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", nargs="+", choices=("vectors", "train", "dev", "eval", "ship"),
                        default=[])
    parser.add_argument("--ship", default=SHIPPED, choices=sorted(MODELS),
                        help="ship: the model to ship as the default segmenter")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=sorted(MODELS))
    parser.add_argument("--ensembles", nargs="*", choices=sorted(ENSEMBLES), default=[],
                        help="dev, eval: these ensembles too")
    parser.add_argument("--quick", action="store_true", help="2,000 training paragraphs, 1 epoch")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-peers", action="store_true", help="eval: seqnlp models only")
    parser.add_argument("--pkuseg-python", default=os.environ.get("PKUSEG_PYTHON",
                                                                  sys.executable),
                        help="eval: a Python that imports pkuseg (default $PKUSEG_PYTHON, "
                             "else this one)")
    parser.add_argument("--out", type=Path, default=None,
                        help="results folder (default benchmarks/results; --quick: the cache)")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite cws.md and the trade-off picture")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    out = args.out or (CACHE / "results" if args.quick else RESULTS)
    path = out / "cws.json"
    results = _read(path)
    if not args.render:
        ensure_data()
        data = load_data(args.quick)
        if "vectors" in args.part:
            for name in args.models:
                spec = MODELS[name]
                if spec.get("vectors"):
                    print(*pretrain_vectors(_data_of(name, data, args.quick),
                                            spec["model"]["embedding_dim"],
                                            spec["model"]["bigram_dim"], args.quick))
        if "train" in args.part:
            records = [train_model(name, _data_of(name, data, args.quick), args.quick,
                                   args.threads) for name in args.models]
            results = _read(path)  # as it is now: another run may have written meanwhile
            previous = {r["model"]: r for r in results.get("train", {}).get("models", [])}
            previous.update({r["model"]: r for r in records})
            results["train"] = {"environment": environment(args),
                                "models": list(previous.values())}
            _write(results, out)
        if "dev" in args.part:
            scores = dev_scores(args.models, args.ensembles, args.quick)
            results = _read(path)
            results.setdefault("dev", {}).update(scores)
            results["dev_environment"] = environment(args)
            _write(results, out)
        if "eval" in args.part:
            rows = [evaluate(name, "seqnlp", str(model_path(name, args.quick)),
                             _data_of(name, data, args.quick), args.threads)
                    for name in args.models]
            rows += [evaluate(name, "seqnlp", "+".join(str(model_path(m, args.quick))
                                                       for m in ENSEMBLES[name]),
                              _data_of(ENSEMBLES[name][0], data, args.quick), args.threads)
                     for name in args.ensembles]
            if not args.no_peers:
                rows.append(evaluate("jieba 0.42.1 (default dictionary)", "jieba", "", data, 1))
                version = peer_version(args.pkuseg_python, "pkuseg")
                if version:
                    rows.append(evaluate(f"pkuseg {version} (default model)", "pkuseg", "",
                                         data, 1, args.pkuseg_python))
                else:
                    print(f"pkuseg is not importable by {args.pkuseg_python}: left out (see "
                          "this file's docstring for its install)", flush=True)
            env = environment(args)
            for row in rows:
                row["environment"] = env
            results = _read(path)
            kept = {r["segmenter"]: r for r in results.get("eval", {}).get("segmenters", [])}
            kept.update({r["segmenter"]: r for r in rows})  # rows not run this time stay
            results["eval"] = {"environment": env, "segmenters": list(kept.values())}
            _write(results, out)
            plot_tradeoff(results["eval"], args.ship, out / "cws_tradeoff.png")
        if "ship" in args.part:
            results = _read(path)
            results["shipped"] = ship(args.ship, args.quick)
    _write(results, out)
    if args.render and results.get("eval"):
        shipped = results.get("shipped", {}).get("model", args.ship)
        plot_tradeoff(results["eval"], shipped, out / "cws_tradeoff.png")


def plot_tradeoff(evaluation: dict[str, Any], shipped: str, path: Path) -> None:
    """PKU test F1 against characters per second, one point per segmenter measured on the
    latest eval's CPU (speeds on another CPU do not compare), named in the legend (needs
    matplotlib, the `plots` extra; skipped without it)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no trade-off picture", flush=True)
        return
    rows, cpu = evaluation["segmenters"], evaluation["environment"]["cpu"]
    left_out = [r["segmenter"] for r in rows if r["environment"]["cpu"] != cpu]
    if left_out:
        print(f"trade-off picture: left out {', '.join(left_out)} (measured on another CPU)",
              flush=True)
    rows = sorted((r for r in rows if r["environment"]["cpu"] == cpu),
                  key=lambda r: -r["pku"]["f1"])
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for index, row in enumerate(rows):
        speed, f1 = row["pku"]["chars_per_second"] / 1000, row["pku"]["f1"]
        name = row["segmenter"].split(" (")[0]
        peer = name.startswith(("jieba", "pkuseg"))
        marker = "*" if name == shipped else ("s" if peer else "o")
        ax.scatter([speed], [f1], marker=marker, s=220 if marker == "*" else 60,
                   color=plt.get_cmap("tab20")(index % 20),
                   label=f"{name}{' (shipped)' if name == shipped else ''}: {f1:.4f}, "
                         f"{speed:,.0f}k/s", zorder=3 if marker == "*" else 2)
    ax.set_xlabel("thousand characters per second (whole PKU test file)")
    ax.set_ylabel("PKU test word F1")
    ax.set_title(f"Chinese word segmentation: accuracy against speed ({cpu})", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}", flush=True)


def ship(name: str, quick: bool) -> dict[str, Any]:
    """Copy a trained model into the package as its default segmenter."""
    import shutil

    from seqnlp.pretrained import MAX_SHIPPED_BYTES, SEGMENTER_FILE

    source = model_path(name, quick)
    size = source.stat().st_size
    if size > MAX_SHIPPED_BYTES:
        raise SystemExit(f"{source}: {size / 2**20:.1f} MB, more than the 10 MB a shipped "
                         "model may take")
    shutil.copyfile(source, SEGMENTER_FILE)
    print(f"shipped {source} ({size / 2**20:.2f} MB) as {SEGMENTER_FILE}", flush=True)
    return {"model": name, "file_mb": round(size / 2**20, 2), "quick": quick}


def _data_of(name: str, january: Any, quick: bool) -> Any:
    """The training data of a model: January 1998 unless its spec names more, or a
    lexicon to re-cut it toward."""
    source, lexicon = MODELS[name].get("data", "pfr1998"), MODELS[name].get("lexicon")
    if source == "pfr1998" and not lexicon:
        return january
    return load_data(quick, source, lexicon)


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def _write(results: dict[str, Any], out: Path) -> None:
    from seqnlp.fileio import atomic_write

    for name, text in (("cws.json", json.dumps(results, indent=2, ensure_ascii=False) + "\n"),
                       ("cws.md", markdown(results))):
        with atomic_write(out / name, "w", encoding="utf-8") as handle:  # never half-written
            handle.write(text)


if __name__ == "__main__":
    main()
