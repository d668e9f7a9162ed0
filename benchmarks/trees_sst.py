"""Recursive networks on the Stanford Sentiment Treebank (Socher et al. 2013): RvNN, SU-RNN,
MV-RNN, RNTN and binary Tree-LSTM, trained on every labelled node of the 8,544 training trees,
selected on dev root accuracy, scored once on the 2,210 test trees.

Scores: fine-grained (5 classes) and binary accuracy, at the root and over all nodes (words
included); binary accuracy is read from the 5-class model (negative when P(0) + P(1) >=
P(3) + P(4)) on the nodes whose gold label is not neutral, as Socher et al. report it.

Speed: trees/s of the level-batched implementation (`seqnlp.nn.tree`, every node of
one height across the batch in one tensor operation) against a plain recursive implementation
written here, which evaluates the same cell one node at a time, for training (forward,
backward and update on batches of the model's batch size) and for inference.

Usage (heavy: run under `flock /tmp/seqnlp-cpu.lock`):
    python benchmarks/trees_sst.py --part vectors   # the IMDB word2vec files the specs name
    python benchmarks/trees_sst.py --part speed                       # trees/s, all models
    python benchmarks/trees_sst.py --part train eval --models rntn    # one model, 60 min
    python benchmarks/trees_sst.py --part train eval --minutes 3 --out /tmp/x   # a short run
Each part keeps the rows of the models not run this time.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SEQNLP_SHARED", REPO.parent / "shared" / "datasets"))
RESULTS = REPO / "benchmarks" / "results"
CACHE = Path(os.environ.get("SEQNLP_BENCH_CACHE", "/tmp/seqnlp-bench-trees"))
PARTS = ("vectors", "speed", "train", "eval")

# One spec per model; configs/trees/<name>.toml trains the same with `seqnlp trees train`.
# Every model starts from IMDB word2vec vectors of its embedding size ("vectors": see
# imdb_vectors) and has sparse word gradients (L2, where set, then skips the words). Dev fine
# root (seed 0, one thread), random vectors -> IMDB vectors: rvnn 0.450 -> 0.461, surnn 0.450
# -> 0.461, mvrnn 0.442 -> 0.452, rntn 0.462 -> 0.481, treelstm 0.486 -> 0.486 (dev
# fine all 0.811 -> 0.816, binary root 0.849 -> 0.868); the notes below are of random vectors.
_ADAGRAD = {"optimizer": "adagrad", "lr": 0.05, "epochs": 200, "patience": 10}
MODELS: dict[str, dict[str, Any]] = {
    # L2 3e-4: over 3 seeds, 15 epochs, dev fine root best 0.445 (0.449 without), but the
    # mean of epochs 11-15 0.416 (0.406 without); dropout 0.3 and 0.5 best 0.420 and 0.420.
    "rvnn": {"model": {"cell": "rvnn", "hidden_size": 30, "embedding_dim": 30, "dropout": 0.0,
                       "sparse": True},
             "trainer": {**_ADAGRAD, "weight_decay": 3e-4}, "batch_size": 25, "vectors": True},
    "surnn": {"model": {"cell": "surnn", "hidden_size": 30, "embedding_dim": 30, "dropout": 0.0,
                        "sparse": True},
              "trainer": _ADAGRAD, "batch_size": 25, "vectors": True},
    "mvrnn": {"model": {"cell": "mvrnn", "hidden_size": 25, "embedding_dim": 25, "dropout": 0.0,
                        "sparse": True},
              "trainer": _ADAGRAD, "batch_size": 25, "vectors": True},
    # The tensor term is scaled by 1/(2H) (seqnlp.nn.tree.RNTN: unscaled, AdaGrad saturated
    # it and the RNTN did not learn). Best dev fine root in 5 epochs: 0.462; with L2 3e-5
    # 0.446, dropout 0.3 0.445, AdaGrad lr 0.01 0.365 (6 epochs), s = 3/(2H) 0.462 (6); in 8
    # epochs with L2 1e-4 0.436.
    "rntn": {"model": {"cell": "rntn", "hidden_size": 30, "embedding_dim": 30, "dropout": 0.0,
                       "sparse": True},
             "trainer": _ADAGRAD, "batch_size": 25, "vectors": True},
    "treelstm": {"model": {"cell": "treelstm", "hidden_size": 150, "embedding_dim": 150,
                           "dropout": 0.5, "sparse": True},
                 "trainer": {"optimizer": "adagrad", "lr": 0.05, "epochs": 200, "patience": 10,
                             "weight_decay": 1e-5}, "batch_size": 25, "vectors": True},
}
# The sequence classifier's SST figures in README (benchmarks/classify.py), for comparison.
SEQUENCE_BASELINE = {"sst5 root (BiLSTM, phrase-level training)": 0.476,
                     "sst2 root (BiLSTM, phrase-level training)": 0.860}


# --------------------------------------------------------------------------- data


def load_sst(train_limit: int | None = None) -> Any:
    from seqnlp.datasets import dataset_status, fetch
    from seqnlp.tasks.trees_data import load_tree_data

    if not dataset_status("sst").complete:
        fetch("sst", from_dir=SHARED / "sst")
    return load_tree_data("sst", train_limit=train_limit)


def make_task(data: Any, spec: dict[str, Any]) -> Any:
    from seqnlp.tasks.trees import TreeTask

    vectors = imdb_vectors(spec["model"]["embedding_dim"]) if spec.get("vectors") else None
    return TreeTask(data, spec["batch_size"], vectors=vectors)


# Word2vec on every IMDB review (train and test texts, no labels; IMDB shares no text with
# SST), split as SST's trees are: lower case, "does n't", "it 's", -lrb- for "(".
W2V = {"architecture": "skipgram", "window": 5, "min_count": 3, "negative": 5, "sample": 1e-3,
       "epochs": 5, "workers": 2, "seed": 1}
_CLITIC = re.compile(r"^(.+?)(n't|'s|'re|'ve|'ll|'d|'m)$")
_BRACKETS = {"(": "-lrb-", ")": "-rrb-", "[": "-lsb-", "]": "-rsb-", "{": "-lcb-", "}": "-rcb-"}


def sst_style(tokens: list[str]) -> list[str]:
    """IMDB's tokens (`seqnlp.text.tokenize.english_tokenize`) as SST writes them."""
    out = []
    for token in tokens:
        token = _BRACKETS.get(token, token.lower())
        match = _CLITIC.match(token)
        if match and token != "n't":
            out += list(match.groups())  # "can't" -> "ca n't", as in the treebank
        else:
            out.append(token)
    return out


def imdb_vectors(size: int) -> Any:
    """`size`-dimensional word vectors of seqnlp's word2vec on IMDB, cached as a word2vec
    text file (with a .json of how they were made)."""
    from seqnlp.datasets import dataset_status, fetch
    from seqnlp.tasks.classification import load_classification_data
    from seqnlp.word2vec import KeyedVectors, Word2Vec

    path = CACHE / f"imdb-sst-style-w2v-{size}.txt"
    if not path.exists():
        if not dataset_status("imdb").complete:
            fetch("imdb", from_dir=SHARED / "imdb")
        data = load_classification_data("imdb", dev_fraction=0.0)
        sentences = [sst_style(list(e.tokens)) for e in data.train + data.test]
        start = time.perf_counter()
        model = Word2Vec(**W2V, vector_size=size)
        model.train(sentences, progress=False)
        CACHE.mkdir(parents=True, exist_ok=True)
        model.wv.save_word2vec_format(path)
        info = {"options": {**W2V, "vector_size": size}, "words": len(model.wv),
                "seconds": round(time.perf_counter() - start, 1),
                "corpus": f"IMDB train and test texts ({len(sentences):,} reviews), SST-style"}
        path.with_suffix(".json").write_text(json.dumps(info))
        print(f"word2vec {size}d on IMDB: {info['words']:,} words in {info['seconds']} s",
              flush=True)
    return KeyedVectors.load_word2vec_format(path)


# --------------------------------------------------------------------------- node by node


def node_by_node_logits(model: Any, tree: Any, ids: dict[str, int], unk: int) -> Any:
    """The logits of every node of one tree (post-order), by plain recursion: one `compose`
    call per parent, batch size 1. The tree's words are looked up in one call (`cell.leaf`
    on all its leaves), so that the baseline does not pay for a separate gradient of the
    whole embedding table (and, for the MV-RNN, of the V x H x H word matrices) per leaf."""
    import torch

    cell, states = model.cell, []
    words = torch.tensor([ids.get(word.lower(), unk) for word in tree.leaves()])
    leaves = cell.leaf(model.embedding(words), words)  # each part (n_leaves, ...)
    next_leaf = iter(range(len(words)))

    def visit(node: Any) -> tuple[Any, ...]:
        if node.is_leaf:
            i = next(next_leaf)
            state = tuple(part[i:i + 1] for part in leaves)
        else:
            left, right = visit(node.children[0]), visit(node.children[1])
            kinds = [torch.tensor([0 if child.is_leaf else 1]) for child in node.children]
            state = cell.compose(left, right, *kinds)
        states.append(state)
        return state

    visit(tree)
    hidden = torch.cat([cell.hidden(state) for state in states])  # (n, H)
    return model.output(model.dropout(hidden))


def node_by_node_labels(tree: Any) -> Any:
    import torch

    return torch.tensor([node.label for node in tree.nodes()])


# --------------------------------------------------------------------------- speed


def measure_speed(name: str, data: Any, seconds: float) -> dict[str, Any]:
    """Trees/s of batched and node-by-node training and inference, same model and trees."""
    import torch

    from seqnlp.models.tree_classifier import TreeClassifier
    from seqnlp.tasks.trees import EVAL_BATCH, tree_batches
    from seqnlp.training import TrainerConfig
    from seqnlp.training.optim import build_optimizer, parameter_groups

    spec = MODELS[name]
    task = make_task(data, spec)
    vocabs = task.build_vocabs()
    config = task.model_config(spec["model"], vocabs)
    torch.manual_seed(0)
    model = TreeClassifier(config)
    trainer = TrainerConfig(**spec["trainer"])
    optimizer = build_optimizer(parameter_groups(model, trainer), trainer)
    encoded = task.encoded("train", vocabs)
    size = spec["batch_size"]
    batches = tree_batches(encoded, size, True, seed=0)
    ids, unk = vocabs["tokens"].stoi, vocabs["tokens"].unk_index

    def batched_train(count: int) -> int:
        batch = batches[count % len(batches)]
        optimizer.zero_grad()
        model(**batch)[1].backward()
        optimizer.step()
        return len(batch["roots"])

    def recursive_train(count: int) -> int:
        trees = data.train[(count * size) % len(data.train):][:size]
        optimizer.zero_grad()
        logits = torch.cat([node_by_node_logits(model, t, ids, unk) for t in trees])
        labels = torch.cat([node_by_node_labels(t) for t in trees])
        torch.nn.functional.cross_entropy(logits, labels).backward()
        optimizer.step()
        return len(trees)

    infer = tree_batches(encoded, EVAL_BATCH, False)

    def batched_infer(count: int) -> int:
        batch = infer[count % len(infer)]
        with torch.no_grad():
            model(**batch)
        return len(batch["roots"])

    def recursive_infer(count: int) -> int:
        trees = data.train[(count * size) % len(data.train):][:size]
        with torch.no_grad():
            for tree in trees:
                node_by_node_logits(model, tree, ids, unk)
        return len(trees)

    model.train()
    result = {"train_batched": rate(batched_train, seconds),
              "train_node_by_node": rate(recursive_train, seconds)}
    model.eval()
    result.update(infer_batched=rate(batched_infer, seconds),
                  infer_node_by_node=rate(recursive_infer, seconds))
    result["train_speedup"] = round(result["train_batched"] / result["train_node_by_node"], 1)
    result["infer_speedup"] = round(result["infer_batched"] / result["infer_node_by_node"], 1)
    print(f"{name}: {result}", flush=True)
    return result


def rate(step: Any, seconds: float) -> float:
    """Trees per second of `step(count) -> trees done`, run for about `seconds` (one step
    first, untimed, to warm up)."""
    step(0)
    done, count, start = 0, 1, time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += step(count)
        count += 1
    return round(done / (time.perf_counter() - start), 1)


# --------------------------------------------------------------------------- train, eval


def train(name: str, data: Any, minutes: float, tag: str) -> dict[str, Any]:
    """Train one model within `minutes` (the epoch in progress then is cut there and
    evaluated: `TrainerConfig.max_minutes`) and save it to the cache."""
    import dataclasses

    from seqnlp.nn import count_parameters
    from seqnlp.tasks.pipeline import save_trained, train_task
    from seqnlp.training import TrainerConfig

    spec = MODELS[name]
    task = make_task(data, spec)
    config = TrainerConfig(**spec["trainer"], device="cpu", progress=sys.stderr.isatty(),
                           seed=0, max_minutes=minutes)
    start = time.perf_counter()
    trained = train_task(task, spec["model"], config, on_step=EpochPrinter(start))
    seconds = time.perf_counter() - start
    save_trained(CACHE / f"{name}{tag}.pt", task, trained, {"dev": trained.dev})
    history = trained.fit.history
    return {"model": spec["model"], "trainer": {**spec["trainer"], "batch_size":
                                                spec["batch_size"]},
            "config": dataclasses.asdict(trained.config),
            "parameters": count_parameters(trained.model), "budget_minutes": minutes,
            "train_seconds": round(seconds, 1), "epochs_run": len(history),
            "stopped_by_time": trained.fit.stopped_by_time,
            "best_epoch": (trained.fit.best_epoch or 0) + 1,
            "dev_fine_root_by_epoch": [round(e["metrics"].get("fine_root", 0), 4)
                                       for e in history],
            "dev": {k: round(v, 4) for k, v in trained.dev.items()}}


class EpochPrinter:
    """An `on_step` callback printing each finished epoch's loss and dev fine root."""

    def __init__(self, start: float) -> None:
        self.start, self.printed = start, 0

    def __call__(self, trainer: Any, record: dict[str, Any]) -> None:
        for item in trainer.history[self.printed:]:
            print(f"  epoch {item['epoch'] + 1}: loss {item['train_loss']:.4f} dev fine root "
                  f"{item['metrics'].get('fine_root', float('nan')):.4f} "
                  f"({time.perf_counter() - self.start:.0f} s)", flush=True)
        self.printed = len(trainer.history)


def evaluate(name: str, data: Any, tag: str) -> dict[str, Any]:
    import seqnlp.models.tree_classifier  # noqa: F401  (registers the kind)
    from seqnlp.models import load_model
    from seqnlp.tasks.trees import score_trees

    loaded = load_model(CACHE / f"{name}{tag}.pt")
    scores = {}
    for split in ("dev", "test"):
        result = score_trees(loaded.model, loaded.vocab, data.split(split), loaded.lowercase,
                             loaded.node_types)
        scores[split] = {k: round(v, 4) for k, v in result.items()}
    print(f"{name}: test {scores['test']}", flush=True)
    return scores


# --------------------------------------------------------------------------- report


def environment(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    cpu = platform.processor() or "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"command": "python benchmarks/trees_sst.py " + " ".join(args.argv),
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "cpu": cpu, "threads": args.threads, "torch": torch.__version__,
            "load_average_1min": round(os.getloadavg()[0], 2)}


def _pct(value: Any) -> str:
    return "" if value is None else f"{100 * value:.1f}"


def markdown(results: dict[str, Any]) -> str:
    lines = ["# Recursive networks on SST (`benchmarks/trees_sst.py`)", "",
             "Trained on every labelled node, selected on dev root accuracy (fine-grained), "
             "scored on test. Binary: the 5-class model's predictions on non-neutral nodes. "
             "The issue's budget is 60 minutes per model: a row with a smaller budget is a "
             "shorter run, reported as such. Word vectors: "
             + ", ".join(f"{name} {spec['model']['embedding_dim']}d" for name, spec in
                         MODELS.items() if spec.get("vectors"))
             + f" from seqnlp's word2vec on every IMDB review, split as SST's trees ({W2V}); "
             "sparse word gradients where the spec says so.", "", "| model | params | train min (budget) | epochs (best) | fine root | "
             "fine all | binary root | binary all | dev fine root |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, row in results.get("models", {}).items():
        if "test" not in row:
            continue
        test, dev = row["test"], row.get("dev", {})
        lines.append(f"| {name} | {row['parameters']:,} | {row['train_seconds'] / 60:.1f} "
                     f"({row['budget_minutes']:g}) | {row['epochs_run']} ({row['best_epoch']})"
                     f" | {_pct(test['fine_root'])} | {_pct(test['fine_all'])} | "
                     f"{_pct(test['binary_root'])} | {_pct(test['binary_all'])} | "
                     f"{_pct(dev.get('fine_root'))} |")
    lines += ["", "Sequence classifier on SST (README, for comparison): " + "; ".join(
        f"{k} {100 * v:.1f}" for k, v in SEQUENCE_BASELINE.items()), ""]
    speed = results.get("speed", {})
    if speed:
        lines += ["## Trees per second: level-batched vs node-by-node", "",
                  "| model | train batched | train node-by-node | speed-up | infer batched | "
                  "infer node-by-node | speed-up |", "|---|---:|---:|---:|---:|---:|---:|"]
        for name, row in speed.items():
            lines.append(f"| {name} | {row['train_batched']:,} | {row['train_node_by_node']:,}"
                         f" | {row['train_speedup']}x | {row['infer_batched']:,} | "
                         f"{row['infer_node_by_node']:,} | {row['infer_speedup']}x |")
        lines.append("")
    runs = [(part, env) for part, env in results.get("environment", {}).items()
            if part == "speed"]
    runs += [(f"{name} ({label})", row[key]) for name, row in results.get("models", {}).items()
             for key, label in (("environment", "train"), ("eval_environment", "eval"))
             if key in row]
    for part, env in runs:
        lines.append(f"- {part}: `{env['command']}`; {env['date']}; {env['cpu']}, "
                     f"{env['threads']} threads; load {env['load_average_1min']}")
    for note in results.get("notes", []):
        lines.append(f"- note: {note}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--models", nargs="+", choices=tuple(MODELS), default=list(MODELS))
    parser.add_argument("--minutes", type=float, default=60.0,
                        help="training budget per model (default 60)")
    parser.add_argument("--train-limit", type=int, default=None,
                        help="train on the first N trees only (a short run)")
    parser.add_argument("--speed-seconds", type=float, default=10.0,
                        help="seconds each speed measurement runs")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--note", default=None, help="a line added to the report")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv

    import torch

    torch.set_num_threads(args.threads)
    tag = "" if args.train_limit is None else f"-limit{args.train_limit}"
    path = args.out / "trees_sst.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    models = results.setdefault("models", {})
    data = load_sst(args.train_limit)
    for part in args.part:
        results.setdefault("environment", {})[part] = environment(args)
        for name in args.models:
            if part == "vectors":
                if MODELS[name].get("vectors"):
                    imdb_vectors(MODELS[name]["model"]["embedding_dim"])
            elif part == "speed":
                results.setdefault("speed", {})[name] = measure_speed(name, data,
                                                                      args.speed_seconds)
            elif part == "train":
                print(f"training {name} ({args.minutes:g} min)", flush=True)
                models[name] = {**train(name, data, args.minutes, tag),
                                "train_limit": args.train_limit,
                                "environment": environment(args)}
            else:
                models.setdefault(name, {}).update(evaluate(name, data, tag),
                                                   eval_environment=environment(args))
    if args.note:
        results.setdefault("notes", []).append(args.note)
    args.out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "trees_sst.md").write_text(markdown(results))


if __name__ == "__main__":
    main()
