"""`seqnlp classify`: train, evaluate and apply sequence classifiers.

    seqnlp classify train --data imdb|sst2|sst5|PATH.tsv [options] -o MODEL
    seqnlp classify eval MODEL --data imdb|sst2|sst5|PATH.tsv [--split test] [--ensemble M2 ...]
    seqnlp classify predict MODEL "a text" ["another"]      (or one text per line on stdin)

`--ensemble` averages the class probabilities of further models with MODEL's.

torch is imported inside the commands, so `seqnlp --help` stays instant.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import typer

from seqnlp.cli.common import (
    RUN,
    Option,
    Resolved,
    add_config_command,
    check_data,
    check_run_paths,
    echo,
    is_main_process,
    load_vectors,
    print_configuration,
    printable,
    run_options,
    set_threads,
    stdin_lines,
    stored_configuration,
    train_command,
    trainer_config,
    trainer_options,
)
from seqnlp.cli.common import device as common_device
from seqnlp.errors import SeqnlpError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

# The choices, without importing torch (seqnlp --help stays instant); a test holds them
# equal to the model's.
ENCODERS = ("rnn", "lstm", "gru", "tdnn")
POOLINGS = ("last", "mean", "max", "attention", "flatten")
INITS = ("torch", "keras")
TRUNCATIONS = ("head", "tail")
KIND = "sequence-classifier"

DATA_HELP = (
    "imdb, sst2, sst5 (from the data home; `seqnlp data get imdb|sst`) or a label<TAB>text file."
)
DATA_WORDS = "imdb, sst2, sst5 or a label<TAB>text file"
SPLITS = ("train", "dev", "test")
MODEL = typer.Argument(..., help="A model file written by `seqnlp classify train`.")
DEVICE = typer.Option("auto", "--device", help="auto (cuda when available), cpu or cuda.")
ENSEMBLE = typer.Option(None, "--ensemble", "-e",
    help="Another model whose class probabilities are averaged with MODEL's"
    " (repeatable; default: MODEL alone).")


OPTIONS = [
    *run_options("Where to write the model."),
    Option("data", None, DATA_HELP, section="data", required=True),
    Option("dev_fraction", 0.1, "Share of train held out as dev (imdb and TSV files).",
           section="data", low=0.0, high=0.999),
    Option("dev_seed", None, "Seeds the dev cut alone (default: --seed); fix it to train "
           "ensemble members with different --seed on the same split.", section="data",
           type=int, low=0),
    Option("phrases", False, "SST: also train on every labelled phrase of the training trees.",
           section="data"),
    Option("train_limit", 0, "Train on a random sample of N training texts, drawn with --seed "
           "(0: all).", section="data", low=0),
    Option("max_vocab", 20_000, "Most vocabulary entries, <pad> and <unk> included (0: all).",
           section="data", aliases=("--vocab-size",), low=0),
    Option("min_count", 1, "Drop training words seen fewer times.", section="data", low=1),
    Option("embeddings", None, "Word vectors in word2vec text or binary format (default: none, "
           "random vectors).",
           section="data", type=Path),
    Option("encoder", "lstm", "Encoder.", section="model", choices=ENCODERS),
    Option("num_layers", 1, "Stacked encoder layers.", section="model", aliases=("--layers",),
           low=1, high=64),
    Option("bidirectional", False, "Read both ways.", section="model",
           flags=("--bidirectional/--unidirectional",)),
    Option("pooling", "last", "How the states become one vector (flatten needs --max-len).",
           section="model", choices=POOLINGS),
    Option("hidden_size", 128, "Hidden units per direction.", section="model", low=1,
           high=65_536),
    Option("embedding_dim", 100, "Embedding size (that of --embeddings when given).",
           section="model", low=1, high=65_536),
    Option("init", "torch", "Initialisation: torch or keras (their defaults).",
           section="model", choices=INITS),
    Option("max_len", 0, "Read at most N tokens of each text (0: all).", section="model",
           low=0),
    Option("truncate", "head", "Which N tokens of a longer text: head (the first) or tail "
           "(the last).", section="model", choices=TRUNCATIONS),
    Option("dropout", 0.0, "Dropout on the pooled vector and between layers.",
           section="model", low=0.0, high=0.999),
    Option("embedding_dropout", 0.0, "Dropout on the embedded words.", section="model",
           low=0.0, high=0.999),
    Option("freeze_embeddings", False, "Keep the embeddings fixed.", section="model"),
    *trainer_options(),
    Option("test", False, "Also report test accuracy (the final number only).", section=RUN,
           flags=("--test/--no-test",)),
]
MODEL_SECTION = ("encoder", "num_layers", "bidirectional", "pooling", "hidden_size",
                 "embedding_dim", "init", "max_len", "truncate", "dropout", "embedding_dropout",
                 "freeze_embeddings")


@train_command(app, OPTIONS)
def train(run: Resolved) -> None:
    """Train a classifier, keep the epoch of best dev accuracy, and save it."""
    set_threads(run["threads"])
    print_configuration(run, "classify train")
    model_options = dict(run.section("model"), max_len=run["max_len"] or None)
    check_run_paths(run)
    trainer = trainer_config(run)
    max_vocab = _max_vocab(run["max_vocab"])
    _check_model_options(model_options, run["max_vocab"])

    from seqnlp.tasks.classification import load_classification_data, train_classifier
    from seqnlp.tasks.classification_data import DATA_NAMES
    from seqnlp.tasks.pipeline import save_trained

    check_data(run["data"], DATA_NAMES, DATA_WORDS, "classification")
    if run["phrases"] and run["data"] not in ("sst2", "sst5"):
        raise SeqnlpError(f"--phrases adds SST's labelled phrases; it does not apply to "
                          f"{run['data']}")
    vectors = load_vectors(run["embeddings"]) if run["embeddings"] else None

    dev_seed = run["seed"] if run["dev_seed"] is None else run["dev_seed"]
    dataset = load_classification_data(run["data"], run["dev_fraction"], dev_seed,
                                       run["phrases"])
    dataset = _limit(dataset, run["train_limit"], run["seed"])
    echo(f"data: {printable(dataset.name)}: {len(dataset.train):,} train, {len(dataset.dev):,} dev, "
         f"{len(dataset.test):,} test, {dataset.num_classes} classes")
    if not dataset.dev:
        echo("no dev split: every epoch is kept in turn and the last one is saved (no model "
             "selection; give --dev-fraction to hold out a dev split)")
    result = train_classifier(dataset, model_options, trainer, max_vocab=max_vocab,
                              min_count=run["min_count"], batch_size=run["batch_size"],
                              vectors=vectors, resume=run["resume"],
                              on_start=_start(run["min_count"]))
    _print_training(result)
    extra = {"dev_accuracy": result.dev.get("accuracy"), "train_seconds": result.seconds,
             "train_config": stored_configuration(run, "classify train")}
    if run["test"] and dataset.test:
        extra["test_accuracy"] = _test_accuracy(result, dataset.test)
    if is_main_process():
        from seqnlp.tasks.classification import ClassificationTask

        save_trained(run["output"], ClassificationTask(dataset), result, extra)
    echo(f"trained in {result.seconds:.1f} s; model saved to {run['output']}")


def _max_vocab(value: int) -> int | None:
    """--max-vocab: 0 keeps every word; otherwise at least the two specials and one word."""
    if value and value < 3:
        raise SeqnlpError(f"--max-vocab must be 0 (all) or at least 3, got {value}")
    return value or None


def _limit(dataset: Any, limit: int, seed: int) -> Any:
    """A random sample of `limit` training texts (SST's training file is partly sorted by
    label, so not the first N)."""
    if not limit or limit >= len(dataset.train):
        return dataset
    import numpy as np

    keep = sorted(np.random.default_rng(seed).permutation(len(dataset.train))[:limit])
    return dataclasses.replace(dataset, train=[dataset.train[i] for i in keep])


def _start(min_count: int) -> Any:
    """The `on_start` callback: refuse a vocabulary of specials alone (a --min-count above
    every word's count), then print the sizes."""
    def start(model: Any, vocabs: dict[str, Any], info: dict[str, Any]) -> None:
        vocab = vocabs["tokens"]
        if len(vocab) <= len(vocab.specials):
            raise SeqnlpError(f"the vocabulary holds no word: --min-count {min_count} drops "
                              "every training word")
        _print_start(model, vocabs, info)

    return start


def _print_start(model: Any, vocabs: dict[str, Any], info: dict[str, Any]) -> None:
    from seqnlp.nn import count_parameters

    echo(f"vocabulary: {len(vocabs['tokens']):,} entries; "
         f"parameters: {count_parameters(model):,}")
    if info.get("coverage") is not None:
        echo(f"pretrained vectors cover {info['coverage']:.1%} of the vocabulary words")


def _print_training(result: Any) -> None:
    for record in result.fit.history:
        accuracy = record["metrics"].get("accuracy")
        dev = "" if accuracy is None else f", dev accuracy {accuracy:.4f}"
        echo(f"epoch {record['epoch'] + 1}: train loss {record['train_loss']:.4f}{dev}")
    if result.fit.stopped_early:
        echo("stopped early: dev accuracy stopped improving")
    if "accuracy" in result.dev:
        best = result.fit.best_epoch + 1
        echo(f"dev accuracy {result.dev['accuracy']:.4f} (best epoch {best})")


def _test_accuracy(result: Any, examples: list) -> float:
    from seqnlp.tasks.classification import evaluate_examples

    device_name = str(next(result.model.parameters()).device)
    report = evaluate_examples(result.model, result.vocab, examples, device=device_name)
    echo(f"test accuracy {report.accuracy:.4f}")
    return report.accuracy


@app.command("eval")
def evaluate(
    model: Path = MODEL,
    data: str = typer.Option(..., "--data", help=DATA_HELP + " A file is scored whole."),
    split: str = typer.Option("test", help="train, dev or test, for a named dataset (a file "
                              "is scored whole)."),
    ensemble: list[Path] | None = ENSEMBLE,
    batch_size: int = typer.Option(64, min=1, help="Examples per batch."),
    device: str = DEVICE,
) -> None:
    """Print accuracy, loss and per-class precision, recall and F1 of a saved model."""
    from seqnlp.tasks.classification import (
        ensemble_probabilities,
        load_examples,
        report_from_probabilities,
    )
    from seqnlp.tasks.classification_data import DATA_NAMES

    if split not in SPLITS:
        raise SeqnlpError(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
    check_data(data, DATA_NAMES, DATA_WORDS, "classification")
    torch_device = common_device(device)
    members, label_names = _load_members([model, *(ensemble or [])], torch_device)
    examples, description = load_examples(data, split)
    if not examples:
        raise SeqnlpError(f"{description} has no examples")
    probs = ensemble_probabilities(members, examples, batch_size, str(torch_device))
    report = report_from_probabilities(probs, examples)
    models = f" ({len(members)} models, probabilities averaged)" if len(members) > 1 else ""
    typer.echo(f"{printable(description)}: {len(examples):,} examples{models}")
    typer.echo(f"accuracy {report.accuracy:.4f}  loss {report.loss:.4f}  "
               f"macro F1 {report.macro_f1:.4f}")
    label_names = tuple(printable(name) for name in label_names)
    width = max(len(name) for name in label_names + ("class",))
    typer.echo(f"{'class':<{width}}  precision  recall      F1  support")
    for i, name in enumerate(label_names):
        typer.echo(f"{name:<{width}}  {report.precision[i]:9.4f}  {report.recall[i]:6.4f}  "
                   f"{report.f1[i]:6.4f}  {report.support[i]:7,}")


@app.command()
def predict(
    model: Path = MODEL,
    texts: list[str] | None = typer.Argument(None,
        help="Texts to classify; none: read stdin, one per line."),
    ensemble: list[Path] | None = ENSEMBLE,
    batch_size: int = typer.Option(64, min=1, help="Texts per batch."),
    device: str = DEVICE,
) -> None:
    """Print the predicted label and its probability, one line per text (TAB-separated); a
    blank input line gives a blank output line, so outputs line up with inputs."""
    from seqnlp.tasks.classification import ensemble_probabilities, text_examples

    torch_device = common_device(device)
    members, label_names = _load_members([model, *(ensemble or [])], torch_device)
    if not texts:
        if sys.stdin.isatty():
            raise SeqnlpError("give texts as arguments, or pipe one text per line on stdin")
        texts = list(stdin_lines())
    real = [text for text in texts if text.strip()]
    probs = iter(ensemble_probabilities(members, text_examples(real), batch_size,
                                        str(torch_device)) if real else [])
    for text in texts:
        if not text.strip():
            typer.echo("")
            continue
        row = next(probs)
        best = int(row.argmax())
        typer.echo(f"{printable(label_names[best])}\t{row[best]:.4f}")


add_config_command(app, KIND, "classify train")


def _load_members(paths: list[Path], device: Any) -> tuple[list[tuple[Any, Any]], tuple[str, ...]]:
    """The (model, vocab) of each file, on `device`, and their common label names."""
    from seqnlp.models import load_model

    members, label_names = [], None
    for path in paths:
        loaded = load_model(path, expect=KIND)
        if label_names is not None and loaded.label_names != label_names:
            raise SeqnlpError(f"{path}: labels {list(loaded.label_names)} differ from "
                              f"{paths[0]}'s {list(label_names)}; an ensemble needs the same labels")
        label_names = loaded.label_names
        members.append((loaded.model.to(device), loaded.vocab))
    assert label_names is not None
    return members, label_names


def _check_model_options(options: dict[str, Any], max_vocab: int) -> None:
    """Validate the architecture and its size (with the vocabulary at --max-vocab, or at
    its least when every word is kept) before any data is read: fail fast on a typo."""
    from seqnlp.models.classifier import ARTIFACT_KIND, ClassifierConfig
    from seqnlp.models.registry import check_model_size

    try:
        config = ClassifierConfig(vocab_size=max(max_vocab, 2), num_classes=2, **options)
        check_model_size(ARTIFACT_KIND, config)
    except ValueError as exc:
        raise SeqnlpError(str(exc)) from None
