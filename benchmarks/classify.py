"""Sequence classification on IMDB and SST, and the LSTM classifier's training throughput.

Parts (each writes its own entry into benchmarks/results/classify.{json,md}, keeping the
entries of parts not run this time):

  a   the worked example on IMDB: SimpleRNN 32, embedding 32, vocabulary 10,000, the first
      500 tokens, last state, one sigmoid output, 3 epochs with early stopping on dev.
  b   the best configuration found on IMDB's dev split (see `tune-b`), trained once and
      scored once on test; its word vectors are trained by seqnlp's word2vec on the texts
      of the training split (no labels, no dev or test text), and that time is counted.
  c   SST-2 and SST-5 sentence (root) accuracy on test, configurations chosen on dev.
  d   training tokens/s of seqnlp's LSTM classifier (through the Trainer) against a plain
      `torch.nn.LSTM` loop written below, on the same batches: rounds of one pass each,
      back to back in ABBA order; medians and per-round ratios.
  tune-b, tune-c   the dev-split searches behind b and c (dev accuracy only, no test).

IMDB's dev split is 10% of train (2,500 reviews, seed 0); SST uses its own dev split.
Texts are lower-cased and tokenised by `seqnlp.tasks.classification.tokenize`.

Usage:
    python benchmarks/classify.py --part a b c d          # the published numbers
    python benchmarks/classify.py --part d --quick        # small and fast, for development
    python benchmarks/classify.py --render                # rewrite classify.md from the JSON
Run the heavy parts under `flock /tmp/seqnlp-cpu.lock` on a shared machine.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SEQNLP_SHARED", REPO.parent / "shared" / "datasets"))
RESULTS = REPO / "benchmarks" / "results"
CACHE = Path(os.environ.get("SEQNLP_BENCH_CACHE", "/tmp/seqnlp-bench-classify"))

# (a) the worked example, trained as in Keras: its default initialisers and RMSprop with its
# defaults (lr 1e-3, rho 0.9, eps 1e-7). Chosen on IMDB dev by `tune-a` (dev 0.871; with
# torch's initialisation and Adam it reached dev 0.686).
WORKED = {
    "model": {"encoder": "rnn", "embedding_dim": 32, "hidden_size": 32, "pooling": "last",
              "max_len": 500, "init": "keras"},
    "trainer": {"optimizer": "rmsprop", "lr": 1e-3, "alpha": 0.9, "eps": 1e-7, "epochs": 3,
                "patience": 1},
    "max_vocab": 10_000, "batch_size": 128,
}

# (b) chosen on IMDB dev by `tune-b` (dev 0.909; see the tuning entry of the results).
BEST_IMDB = {
    "model": {"encoder": "gru", "bidirectional": True, "embedding_dim": 100, "hidden_size": 64,
              "pooling": "max", "max_len": 400, "dropout": 0.3, "embedding_dropout": 0.2},
    "trainer": {"optimizer": "adam", "lr": 1e-3, "epochs": 3, "patience": 1, "clip_norm": 5.0},
    "max_vocab": 40_000, "batch_size": 64, "vectors": "imdb-w2v",
}
LR_2E3 = {**BEST_IMDB["trainer"], "lr": 2e-3}


def variant(spec: dict[str, Any], model: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    """A copy of `spec` with some model options and top-level keys changed."""
    return {**spec, **top, "model": {**spec["model"], **(model or {})}}


# The dev runs behind WORKED. Round 1: torch init + Adam, keras init + Adam, keras init +
# Adam + clip_norm 1.0 (dev 0.829); round 2, after RMSprop joined the Trainer, is this list.
ADAM = {"optimizer": "adam", "lr": 1e-3, "epochs": 3, "patience": 1}
TUNE_WORKED: list[dict[str, Any]] = [
    WORKED,
    variant(WORKED, trainer={**WORKED["trainer"], "clip_norm": 1.0}),
    variant(WORKED, batch_size=64, trainer={**ADAM, "clip_norm": 1.0}),
    variant(WORKED, {"init": "torch"}),
]

# The dev runs behind (b), three rounds: the BiGRU at lr 2e-3 (dev 0.902, best at epoch 1);
# at lr 2e-3 reading all of each review (max_len None: dev 0.907) and at lr 1e-3 (dev 0.909,
# both best at their last epoch, 3); lr 1e-3 for up to 5 epochs (epoch 4 fell: 0.905).
TUNE_IMDB: list[dict[str, Any]] = [
    variant(BEST_IMDB, trainer=LR_2E3),
    variant(BEST_IMDB, {"max_len": None}, trainer=LR_2E3),
    BEST_IMDB,
    variant(BEST_IMDB, trainer={**BEST_IMDB["trainer"], "epochs": 5}),
]

# (c) chosen on SST dev by `tune-c`: phrase-level training, IMDB word2vec vectors; max
# pooling for SST-2 (dev 0.850), attention pooling for SST-5 (dev 0.473).
SST_SPEC = {
    "model": {"encoder": "lstm", "bidirectional": True, "embedding_dim": 100, "hidden_size": 100,
              "pooling": "max", "dropout": 0.5, "embedding_dropout": 0.2},
    "trainer": {"optimizer": "adam", "lr": 1e-3, "epochs": 4, "patience": 2, "clip_norm": 5.0},
    "max_vocab": None, "batch_size": 64, "vectors": "imdb-w2v", "phrases": True,
}
BEST_SST = {"sst2": SST_SPEC, "sst5": variant(SST_SPEC, {"pooling": "attention"})}
SST_ALL = variant(SST_SPEC, vectors="imdb-all-w2v")
TUNE_SST: list[tuple[str, dict[str, Any]]] = [  # round 1: SST_SPEC, attention, random, no phrases
    ("sst2", SST_ALL),
    ("sst2", variant(SST_ALL, {"pooling": "attention"})),
    ("sst5", variant(SST_ALL, {"pooling": "attention"}, trainer={**SST_SPEC["trainer"], "epochs": 6})),
]

W2V = {"architecture": "skipgram", "vector_size": 100, "window": 5, "min_count": 3,
       "negative": 5, "sample": 1e-3, "epochs": 5, "workers": 2, "seed": 1}


# ---- data and vectors ----------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def load_data(name: str, phrases: bool = False, quick: bool = False) -> Any:
    """Fetch IMDB or SST into the data home from the shared copy if needed, then load."""
    import dataclasses

    from seqnlp.datasets import dataset_status, fetch
    from seqnlp.tasks.classification import load_classification_data

    dataset = "imdb" if name == "imdb" else "sst"
    if not dataset_status(dataset).complete:
        fetch(dataset, from_dir=SHARED / dataset)
    data = load_classification_data(name, dev_fraction=0.1, seed=0, phrases=phrases)
    if quick:  # a random sample: IMDB's files list every positive review first
        rng = np.random.default_rng(0)

        def sample(examples: list, n: int) -> list:
            return [examples[i] for i in sorted(rng.permutation(len(examples))[:n])]

        data = dataclasses.replace(data, train=sample(data.train, 2000), dev=sample(data.dev, 500),
                                   test=sample(data.test, 1000))
    return data


def imdb_vectors(quick: bool, corpus: str = "train") -> tuple[Any, dict[str, Any]]:
    """Word2vec (seqnlp) on IMDB texts, cached as a word2vec text file; no labels are used.

    corpus "train": the texts of the training split only (for IMDB itself);
    "all": every IMDB review, test included (for SST, whose splits IMDB does not touch).
    """
    from seqnlp.word2vec import KeyedVectors, Word2Vec

    path = CACHE / f"imdb-{corpus}-w2v{'-quick' if quick else ''}.txt"
    info_path = path.with_suffix(".json")
    if not path.exists():
        data = load_data("imdb", quick=quick)
        texts = data.train if corpus == "train" else data.train + data.dev + data.test
        sentences = [list(e.tokens) for e in texts]
        options = {**W2V, "epochs": 1} if quick else W2V
        start = time.perf_counter()
        model = Word2Vec(**options)
        model.train(sentences, progress=False)
        seconds = time.perf_counter() - start
        CACHE.mkdir(parents=True, exist_ok=True)
        model.wv.save_word2vec_format(path)
        info = {"options": options, "seconds": round(seconds, 1), "words": len(model.wv),
                "corpus": f"IMDB {corpus} texts ({len(sentences):,} reviews)"}
        info_path.write_text(json.dumps(info))
    return KeyedVectors.load_word2vec_format(path), json.loads(info_path.read_text())


def vectors_for(spec: dict[str, Any], quick: bool) -> tuple[Any, dict[str, Any] | None]:
    """The word vectors a spec names: None, "imdb-w2v" (train texts) or "imdb-all-w2v"."""
    name = spec.get("vectors")
    if name is None:
        return None, None
    return imdb_vectors(quick, {"imdb-w2v": "train", "imdb-all-w2v": "all"}[name])


# ---- one training run ----------------------------------------------------------------------

def train_once(data: Any, spec: dict[str, Any], vectors: Any = None, test: bool = False,
               seed: int = 0) -> dict[str, Any]:
    """Train `spec` on data.train, pick the epoch by dev accuracy, optionally score test."""
    return train_member(data, spec, vectors, test, seed)[0]


def train_member(data: Any, spec: dict[str, Any], vectors: Any = None, test: bool = False,
                 seed: int = 0) -> tuple[dict[str, Any], Any]:
    """`train_once`'s record and the `TrainedClassifier` itself."""
    from seqnlp.nn import count_parameters
    from seqnlp.tasks.classification import evaluate_examples, train_classifier
    from seqnlp.training import TrainerConfig

    trainer = TrainerConfig(**spec["trainer"], metric="accuracy", mode="max", seed=seed,
                            device="cpu", progress=sys.stderr.isatty())
    result = train_classifier(data, spec["model"], trainer, max_vocab=spec["max_vocab"],
                              batch_size=spec["batch_size"], vectors=vectors)
    record: dict[str, Any] = {
        "train_seconds": round(result.seconds, 1),
        "epochs_run": result.fit.epochs_completed,
        "best_epoch": (result.fit.best_epoch or 0) + 1,
        "dev_accuracy_by_epoch": [round(e["metrics"]["accuracy"], 4) for e in result.fit.history],
        "dev_accuracy": round(result.dev["accuracy"], 4),
        "train_tokens_per_epoch": result.train_tokens,
        "vocab_size": len(result.vocab),
        "parameters": count_parameters(result.model),
        "embedding_coverage": None if result.coverage is None else round(result.coverage, 4),
    }
    if test:
        start = time.perf_counter()
        record["test_accuracy"] = round(evaluate_examples(result.model, result.vocab, data.test).accuracy, 4)
        record["test_seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(record), flush=True)
    return record, result


def describe(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as plain JSON, stamped with the time of the run."""
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes")
    return {**json.loads(json.dumps(spec)), "run_at": now}


# ---- parts ---------------------------------------------------------------------------------

def part_a(args: argparse.Namespace) -> dict[str, Any]:
    data = load_data("imdb", quick=args.quick)
    spec = {**WORKED, "trainer": {**WORKED["trainer"], "epochs": 1 if args.quick else 3}}
    record = train_once(data, spec, test=True)
    return {"config": describe(spec), "splits": split_sizes(data), **record,
            "target": "test accuracy >= 0.84"}


def part_b(args: argparse.Namespace) -> dict[str, Any]:
    """Train the dev-chosen ensemble's members one after another and score test once.

    Each member reads dev and test once; its own accuracies and the ensemble's (the mean of
    the members' probabilities) come from those probabilities.
    """
    from seqnlp.tasks.classification import example_probabilities, report_from_probabilities

    data = load_data("imdb", quick=args.quick)
    vectors, w2v = imdb_vectors(args.quick, "train")  # every member starts from these
    probs: dict[str, list[np.ndarray]] = {"dev": [], "test": []}
    runs, test_seconds = {}, 0.0
    for name in BEST_ENSEMBLE:
        spec = MEMBERS[name]
        record, result = train_member(data, quick_spec(spec, args.quick), vectors,
                                      seed=spec["seed"])
        probs["dev"].append(example_probabilities(result.model, result.vocab, data.dev))
        start = time.perf_counter()
        probs["test"].append(example_probabilities(result.model, result.vocab, data.test))
        test_seconds += time.perf_counter() - start
        record["test_accuracy"] = round(report_from_probabilities(probs["test"][-1],
                                                                  data.test).accuracy, 4)
        runs[name] = {"config": describe(spec), **record}
    dev, test = (report_from_probabilities(sum(probs[split]) / len(probs[split]),
                                           data.split(split)) for split in ("dev", "test"))
    train_seconds = sum(run["train_seconds"] for run in runs.values())
    print(f"ensemble: dev {dev.accuracy:.4f}, test {test.accuracy:.4f}", flush=True)
    return {"members": runs, "word2vec": w2v, "splits": split_sizes(data),
            "dev_accuracy": round(dev.accuracy, 4), "test_accuracy": round(test.accuracy, 4),
            "test_loss": round(test.loss, 4), "test_seconds": round(test_seconds, 1),
            "train_seconds": round(train_seconds, 1),
            "seconds_including_word2vec": round(train_seconds + w2v["seconds"], 1),
            "target": "test accuracy >= 0.90 within 20 minutes"}


def part_c(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in BEST_SST.items():
        data = load_data(name, phrases=spec.get("phrases", False), quick=args.quick)
        vectors, w2v = vectors_for(spec, args.quick)
        record = train_once(data, quick_spec(spec, args.quick), vectors, test=True)
        out[name] = {"config": describe(spec), "word2vec": w2v, "splits": split_sizes(data), **record}
    out["target"] = "SST-2 >= 0.85, SST-5 >= 0.45 root accuracy"
    return out


def part_tune_a(args: argparse.Namespace) -> dict[str, Any]:
    data = load_data("imdb", quick=args.quick)
    trials = [{"config": describe(spec), **train_once(data, quick_spec(spec, args.quick))}
              for spec in TUNE_WORKED]
    return {"trials": trials, "note": "dev accuracy only; test untouched"}


def part_tune_b(args: argparse.Namespace) -> dict[str, Any]:
    data = load_data("imdb", quick=args.quick)
    trials = []
    for spec in TUNE_IMDB:
        vectors, w2v = vectors_for(spec, args.quick)
        record = train_once(data, quick_spec(spec, args.quick), vectors)
        trials.append({"config": describe(spec), "word2vec": w2v, **record})
    return {"trials": trials, "note": "dev accuracy only; test untouched"}


def part_tune_c(args: argparse.Namespace) -> dict[str, Any]:
    trials = []
    for name, spec in TUNE_SST:
        data = load_data(name, phrases=spec.get("phrases", False), quick=args.quick)
        vectors, _ = vectors_for(spec, args.quick)
        record = train_once(data, quick_spec(spec, args.quick), vectors)
        trials.append({"data": name, "config": describe(spec), **record})
    return {"trials": trials, "note": "dev accuracy only; test untouched"}


DECAY = {**BEST_IMDB["trainer"], "schedule": "exponential", "constant_epochs": 2, "gamma": 0.3}

# Ensemble members for IMDB: each is trained alone (its own seed), its dev probabilities kept
# in the cache, and the ensembles (mean of the members' probabilities) scored on dev.
MEMBERS: dict[str, dict[str, Any]] = {
    "gru-s0": {**BEST_IMDB, "seed": 0},
    "gru-s1": {**BEST_IMDB, "seed": 1},
    "gru-tail": {**variant(BEST_IMDB, {"truncate": "tail"}), "seed": 2},
    "lstm": {**variant(BEST_IMDB, {"encoder": "lstm"}), "seed": 3},
    "tdnn": {**variant(BEST_IMDB, {"encoder": "tdnn", "bidirectional": False, "hidden_size": 256,
                                   "dropout": 0.5}), "seed": 4},
    # round 2: the third epoch at 0.3 of the learning rate; the tail again; whole reviews
    "gru-tail-decay": {**variant(BEST_IMDB, {"truncate": "tail"}, trainer=DECAY), "seed": 5},
    "gru-decay": {**variant(BEST_IMDB, trainer=DECAY), "seed": 6},
    "gru-tail-s8": {**variant(BEST_IMDB, {"truncate": "tail"}), "seed": 8},
    "gru-whole-decay": {**variant(BEST_IMDB, {"max_len": None}, trainer=DECAY), "seed": 7},
}
# (b) the ensemble chosen on dev by `tune-ensemble`.
BEST_ENSEMBLE: list[str] = ["gru-s1", "gru-tail", "tdnn", "gru-whole-decay"]


def member_probabilities(data: Any, name: str, split: str, quick: bool) -> tuple[np.ndarray, dict]:
    """Train member `name` (or read its cached dev run) and return its probabilities on `split`."""
    from seqnlp.models.classifier import save_classifier
    from seqnlp.tasks.classification import example_probabilities

    path = CACHE / "members" / f"{name}{'-quick' if quick else ''}-{split}.npz"
    if path.exists():
        cached = np.load(path)
        return cached["probs"], json.loads(str(cached["record"]))
    spec = MEMBERS[name]
    vectors, _ = vectors_for(spec, quick)
    record, result = train_member(data, quick_spec(spec, quick), vectors, seed=spec["seed"])
    probs = example_probabilities(result.model, result.vocab, data.split(split))
    path.parent.mkdir(parents=True, exist_ok=True)
    save_classifier(path.with_suffix(".pt"), result.model, result.vocab, data.label_names)
    np.savez(path, probs=probs, record=json.dumps(record))
    return probs, record


def part_tune_ensemble(args: argparse.Namespace) -> dict[str, Any]:
    """Dev accuracy of each member and of every ensemble of two or more of them."""
    import itertools

    data = load_data("imdb", quick=args.quick)
    labels = np.array([e.label for e in data.dev])
    names = args.members or list(MEMBERS)
    runs = {name: member_probabilities(data, name, "dev", args.quick) for name in names}
    members = {name: {"config": describe(MEMBERS[name]), **record,
                      "dev_accuracy_from_probabilities": round(float(np.mean(
                          probs.argmax(1) == labels)), 4)}
               for name, (probs, record) in runs.items()}
    ensembles = []
    for size in range(2, len(names) + 1):
        for combo in itertools.combinations(names, size):
            mean = sum(runs[n][0] for n in combo) / size
            ensembles.append({"members": list(combo),
                              "dev_accuracy": round(float(np.mean(mean.argmax(1) == labels)), 4),
                              "train_seconds": round(sum(runs[n][1]["train_seconds"] for n in combo), 1)})
    ensembles.sort(key=lambda e: -e["dev_accuracy"])
    for e in ensembles[:10]:
        print(json.dumps(e), flush=True)
    return {"members": members, "ensembles": ensembles, "note": "dev accuracy only; test untouched"}


def quick_spec(spec: dict[str, Any], quick: bool) -> dict[str, Any]:
    return {**spec, "trainer": {**spec["trainer"], "epochs": 1}} if quick else spec


def split_sizes(data: Any) -> dict[str, int]:
    return {"train": len(data.train), "dev": len(data.dev), "test": len(data.test)}


# ---- (d) throughput: seqnlp's LSTM classifier against plain torch.nn.LSTM loops --------------

# What differs between the two loops of (d); everything else is the same ops on the same data.
LOOPS_DIFFER = (
    "the loops differ only in what the Trainer and the classifier add around the same ops: "
    "the Trainer's per-step bookkeeping (loss kept as a tensor, gradient norm for the log), "
    "and Adam, which the Trainer runs on torch's fused kernel (the same update, one pass, no "
    "temporaries) where the plain loop uses torch's default implementation"
)
THROUGHPUT = {"docs": 1500, "max_len": 400, "batch_size": 64, "max_vocab": 20_000,
              "embedding_dim": 100, "hidden_size": 128, "lr": 1e-3, "rounds": 16}


def plain_lstm_classifier(vocab_size: int, embedding_dim: int, hidden_size: int,
                          packed: bool) -> Any:
    """Embedding -> torch.nn.LSTM -> the state at each text's last token -> one logit.

    `packed`: the textbook way, a PackedSequence and h_n; otherwise the padded batch is
    read as is and the output at step length-1 gathered (exact for one direction).
    """
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence

    class PlainLSTMClassifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = torch.nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
            self.lstm = torch.nn.LSTM(embedding_dim, hidden_size, batch_first=True)
            self.output = torch.nn.Linear(hidden_size, 1)

        def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
            embedded = self.embedding(ids)  # (B, T, E)
            if packed:
                _, (h_n, _) = self.lstm(pack_padded_sequence(
                    embedded, lengths, batch_first=True, enforce_sorted=False))
                return self.output(h_n[-1]).squeeze(-1)  # (B,)
            output, _ = self.lstm(embedded)  # (B, T, H)
            last = (lengths - 1).view(-1, 1, 1).expand(-1, 1, output.size(2))
            return self.output(output.gather(1, last).squeeze(1)).squeeze(-1)  # (B,)

    return PlainLSTMClassifier()


def time_plain_loop(batches: list[dict], setup: dict[str, Any], vocab_size: int,
                    packed: bool) -> float:
    """Seconds for one pass of a hand-written training loop (Adam, BCE) over `batches`."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    model = plain_lstm_classifier(vocab_size, setup["embedding_dim"], setup["hidden_size"], packed)
    optimizer = torch.optim.Adam(model.parameters(), lr=setup["lr"])
    start = time.perf_counter()
    for batch in batches:
        optimizer.zero_grad(set_to_none=True)
        logits = model(batch["ids"], batch["lengths"])
        loss = F.binary_cross_entropy_with_logits(logits, batch["labels"].float())
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def time_seqnlp(batches: list[dict], setup: dict[str, Any], vocab_size: int) -> float:
    """Seconds for one epoch of seqnlp's SequenceClassifier through the Trainer."""
    from seqnlp.models.classifier import ClassifierConfig, SequenceClassifier
    from seqnlp.training import Trainer, TrainerConfig, seed_everything

    seed_everything(0)
    model = SequenceClassifier(ClassifierConfig(
        vocab_size=vocab_size, num_classes=2, embedding_dim=setup["embedding_dim"],
        encoder="lstm", hidden_size=setup["hidden_size"], pooling="last"))
    trainer = Trainer(model, TrainerConfig(lr=setup["lr"], epochs=1, device="cpu",
                                           progress=False, restore_best=False))
    start = time.perf_counter()
    trainer.fit(batches)
    return time.perf_counter() - start


def part_d(args: argparse.Namespace) -> dict[str, Any]:
    from seqnlp.tasks.classification import build_vocab, encode_split, train_batches

    setup = {**THROUGHPUT, **({"docs": 300, "rounds": 2} if args.quick else {})}
    examples = load_data("imdb").train[: setup["docs"]]
    vocab = build_vocab(examples, setup["max_vocab"])
    split = encode_split(examples, vocab, setup["max_len"])
    batches = train_batches(split, setup["batch_size"], seed=0)(0)
    tokens, size = int(split.lengths.sum()), len(vocab)
    loops = {"seqnlp": lambda: time_seqnlp(batches, setup, size),
             "torch_padded": lambda: time_plain_loop(batches, setup, size, packed=False)}
    time_seqnlp(batches[:2], setup, size)  # warm up
    time_plain_loop(batches[:2], setup, size, packed=False)
    load_before = os.getloadavg()
    runs: dict[str, list[float]] = {name: [] for name in loops}
    for round_ in range(setup["rounds"]):  # A B, B A, A B, ...: a drift in load hits both
        order = list(loops) if round_ % 2 == 0 else list(loops)[::-1]
        for name in order:
            runs[name].append(tokens / loops[name]())
        rates = ", ".join(f"{n} {runs[n][-1]:,.0f}" for n in loops)
        print(f"round {round_}: {rates} tokens/s", flush=True)
    load_after = os.getloadavg()
    # the packed loop is slow (about 10x): one pass, not part of the ratio
    runs["torch_packed"] = [tokens / time_plain_loop(batches, setup, size, packed=True)]
    median = {name: statistics.median(values) for name, values in runs.items()}
    ratios = [a / b for a, b in zip(runs["seqnlp"], runs["torch_padded"])]  # per round
    return {"setup": setup, "tokens_per_epoch": tokens, "batches": len(batches),
            "tokens_per_second": {k: [round(v) for v in values] for k, values in runs.items()},
            "median_tokens_per_second": {k: round(v) for k, v in median.items()},
            "ratio_seqnlp_over_torch_padded": round(median["seqnlp"] / median["torch_padded"], 3),
            "round_ratios": [round(r, 3) for r in ratios],
            "median_round_ratio": round(statistics.median(ratios), 3),
            "rounds_seqnlp_faster": sum(r > 1.0 for r in ratios),
            "ratio_seqnlp_over_torch_packed": round(median["seqnlp"] / median["torch_packed"], 3),
            "load_average_1min": [round(load_before[0], 2), round(load_after[0], 2)],
            "target": "ratio >= 1.0"}


PARTS = {"a": part_a, "b": part_b, "c": part_c, "d": part_d, "tune-a": part_tune_a,
         "tune-b": part_tune_b, "tune-c": part_tune_c, "tune-ensemble": part_tune_ensemble}


# ---- report --------------------------------------------------------------------------------

def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def environment(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    return {
        "command": "python benchmarks/classify.py " + " ".join(args.argv),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_model(), "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__, "python": platform.python_version(), "quick": args.quick,
    }


def markdown(report: dict[str, Any]) -> str:
    """The results as Markdown: one section per part, with its command, date and CPU."""
    lines = ["# Sequence classification benchmarks", "",
             "Written by `benchmarks/classify.py`; every number below was measured by the command",
             "shown with it. Accuracy is on the test split unless it says dev.", ""]
    titles = {"a": "(a) Worked example: SimpleRNN on IMDB", "b": "(b) Best configuration on IMDB",
              "c": "(c) SST-2 and SST-5 root accuracy", "d": "(d) LSTM training throughput",
              "tune-a": "IMDB dev runs behind (a)", "tune-b": "IMDB dev search behind (b)",
              "tune-c": "SST dev search behind (c)",
              "tune-ensemble": "IMDB ensemble search behind (b)"}
    for name in ("a", "b", "c", "d", "tune-a", "tune-b", "tune-ensemble", "tune-c"):
        part = report["parts"].get(name)
        if part is None:
            continue
        env = part["environment"]
        lines += [f"## {titles[name]}", "", f"`{env['command']}`; {env['date']}; {env['cpu']}, "
                  f"{env['cpu_count']} cores, torch {env['torch']} with {env['torch_threads']} threads"
                  + (" (**quick**)" if env["quick"] else ""), ""]
        lines += _part_lines(name, part) + [""]
    return "\n".join(lines)


def _part_lines(name: str, part: dict[str, Any]) -> list[str]:
    head = "| run | test acc | dev acc (by epoch) | best epoch | train s | params | config |"
    rule = "|---|---:|---|---:|---:|---:|---|"
    if name == "a" or (name == "b" and "members" not in part):  # b: a single model, before
        rows = [_run_row("IMDB", part)]
        extra = [f"- target: {part['target']}"]
        if name == "b" and part.get("word2vec"):
            w2v = part["word2vec"]
            extra.append(f"- word2vec ({w2v['corpus']}): {w2v['seconds']} s, measured when the "
                         f"vectors were built; training + word2vec: "
                         f"{part['seconds_including_word2vec']} s")
        return [head, rule, *rows, "", *extra]
    if name == "b":
        rows = [_run_row(member, run) for member, run in part["members"].items()]
        w2v = part["word2vec"]
        return [head, rule, *rows,
                f"| **ensemble** (mean of the {len(rows)} members' probabilities) | "
                f"**{part['test_accuracy']}** | {part['dev_accuracy']} | - | "
                f"{part['train_seconds']} | - | - |", "",
                f"- target: {part['target']}",
                f"- word2vec ({w2v['corpus']}): {w2v['seconds']} s, measured when the vectors "
                f"were built; members' training + word2vec: **{part['seconds_including_word2vec']} s**",
                "- each member's own test accuracy is shown for reference; the ensemble and its "
                "members were chosen on dev (tune-ensemble), and test was read once"]
    if name == "tune-ensemble":
        rows = [_run_row(member, run) for member, run in part["members"].items()]
        ens = ["| ensemble (dev) | dev acc | members' train s |", "|---|---:|---:|",
               *[f"| {' + '.join(e['members'])} | {e['dev_accuracy']} | {e['train_seconds']} |"
                 for e in part["ensembles"][:12]]]
        return [head, rule, *rows, "", *ens, "",
                f"- the 12 best of {len(part['ensembles'])} ensembles of two or more members",
                f"- {part['note']}"]
    if name == "c":
        rows = [_run_row(key.upper(), part[key]) for key in ("sst2", "sst5") if key in part]
        return [head, rule, *rows, "", f"- target: {part['target']}"]
    if name == "d":
        med = part["median_tokens_per_second"]
        table = ["| loop | median tokens/s | runs |", "|---|---:|---|",
                 *[f"| {k} | {med[k]:,} | {part['tokens_per_second'][k]} |" for k in med], ""]
        if "round_ratios" not in part:  # written before the rounds were recorded
            return [*table, f"- ratio of the medians: {part['ratio_seqnlp_over_torch_padded']}"]
        ratios, load = part["round_ratios"], part["load_average_1min"]
        return [*table,
                f"- seqnlp / torch padded loop: ratio of the medians "
                f"**{part['ratio_seqnlp_over_torch_padded']}**; per round (the two loops back to "
                f"back, ABBA order) median **{part['median_round_ratio']}**, range "
                f"{min(ratios)}-{max(ratios)}, seqnlp faster in {part['rounds_seqnlp_faster']} of "
                f"{len(ratios)} rounds (target {part['target']})",
                f"- seqnlp / torch packed loop (one run): {part['ratio_seqnlp_over_torch_packed']}",
                f"- {LOOPS_DIFFER}",
                f"- setup: {json.dumps(part['setup'])}; {part['tokens_per_epoch']:,} tokens in "
                f"{part['batches']} batches per pass; 1-minute load average {load[0]} before "
                f"the rounds, {load[1]} after"]
    rows = [_run_row(t.get("data", "IMDB"), t) for t in part["trials"]]
    return [head, rule, *rows, "", f"- {part['note']}"]


def _run_row(label: str, run: dict[str, Any]) -> str:
    config = json.dumps(run["config"]).replace("|", "/")
    test = run.get("test_accuracy", "-")
    return (f"| {label} | {test} | {run['dev_accuracy']} ({', '.join(map(str, run['dev_accuracy_by_epoch']))}) "
            f"| {run['best_epoch']} | {run['train_seconds']} | {run['parameters']:,} | `{config}` |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", nargs="+", choices=sorted(PARTS), default=[])
    parser.add_argument("--quick", action="store_true", help="small data, one epoch")
    parser.add_argument("--members", nargs="+", choices=sorted(MEMBERS), default=None,
                        help="tune-ensemble: the members to train or read (default: all)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--out", type=Path, default=None,
                        help="results folder (default: benchmarks/results; --quick: the cache)")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite classify.md from classify.json")
    parser.add_argument("--vectors", action="store_true",
                        help="only write the word2vec vectors of (b) and (c) into the cache "
                             "and print their paths (for the commands of configs/classify)")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    if not args.part and not args.render and not args.vectors:
        parser.error("give --part (or --render, or --vectors)")
    import torch

    torch.set_num_threads(args.threads)
    if args.vectors:
        _, info = imdb_vectors(args.quick, "train")
        suffix = "-quick" if args.quick else ""
        print(f"{CACHE / f'imdb-train-w2v{suffix}.txt'}: {info['corpus']}")
        return
    out = args.out or (CACHE / "results" if args.quick else RESULTS)
    path = out / "classify.json"
    report = json.loads(path.read_text()) if path.exists() else {"parts": {}}
    if args.render:
        (out / "classify.md").write_text(markdown(report))
        return
    for name in args.part:
        start = time.perf_counter()
        result = PARTS[name](args)
        result["wall_seconds"] = round(time.perf_counter() - start, 1)
        previous = report["parts"].get(name, {})
        if name.startswith("tune") and "trials" in result and not args.quick:  # accumulate
            result["trials"] = previous.get("trials", []) + result["trials"]
        report["parts"][name] = {"environment": environment(args), **result}
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n")
        (out / "classify.md").write_text(markdown(report))
        print(f"part {name} done in {result['wall_seconds']} s -> {path}", flush=True)


if __name__ == "__main__":
    main()
