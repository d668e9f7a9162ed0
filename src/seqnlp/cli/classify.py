"""`seqnlp classify`: train, evaluate and apply sequence classifiers.

    seqnlp classify train --data imdb|sst2|sst5|PATH.tsv [options] -o MODEL
    seqnlp classify eval MODEL --data imdb|sst2|sst5|PATH.tsv [--split dev] [--ensemble M2 ...]
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
    THREADS,
    EpochPrinter,
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
    "imdb, sst2, sst5 (from the data home; `seqnlp data get imdb|sst`) or a label<TAB>text "
    "file: one text per line after its label and a TAB; the labels are either all class "
    "indices 0..C-1 (each used) or all names (pos, neg, sports, ...; classes numbered in "
    "sorted order, and predict prints the names)."
)
DATA_WORDS = "imdb, sst2, sst5 or a label<TAB>text file"
SPLITS = ("train", "dev", "test")
MODEL = typer.Argument(..., help="A model file written by `seqnlp classify train`.")
DEVICE = typer.Option("auto", "--device", help="auto (cuda when available), cpu or cuda.")
ENSEMBLE = typer.Option(None, "--ensemble", "-e",
    help="Another model whose class probabilities are averaged with MODEL's"
    " (repeatable; default: MODEL alone).")


# The defaults: the candidate that did best across data sets on dev accuracy, chosen by
# benchmarks/classify_defaults.py (results in benchmarks/results/classify_defaults.md; a
# test holds these equal to the study's choice).
DEFAULTS = {"encoder": "lstm", "bidirectional": True, "widths": "", "pooling": "max",
            "hidden_size": 100, "dropout": 0.5, "embedding_dropout": 0.2, "lr": 2e-3,
            "clip": 5.0, "epochs": 10}

OPTIONS = [
    *run_options("Where to write the model."),
    Option("data", None, DATA_HELP, section="data", required=True),
    Option("dev", None, "A label<TAB>text file of dev examples to select the epoch on, "
           "labelled as the training data (default: none: --dev-fraction of train is held "
           "out).", section="data", type=Path),
    Option("dev_fraction", 0.1, "Share of train held out as dev (imdb and TSV files; not "
           "with --dev).", section="data", low=0.0, high=0.999),
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
    Option("encoder", DEFAULTS["encoder"], "Encoder: recurrent (rnn, lstm, gru) or "
           "convolutional (tdnn: windows of words).", section="model", choices=ENCODERS),
    Option("num_layers", 1, "Stacked encoder layers.", section="model", aliases=("--layers",),
           low=1, high=64),
    Option("bidirectional", None, "Read both ways (default: both ways for rnn, lstm and gru, "
           "one way for tdnn, whose windows see both sides).", section="model", type=bool,
           flags=("--bidirectional/--unidirectional",)),
    Option("widths", DEFAULTS["widths"], "--encoder tdnn: window widths side by side, each with "
           "--hidden-size filters, e.g. 3,4,5 as Kim (2014); empty: one 5-word window "
           "(default: empty).", section="model"),
    Option("pooling", DEFAULTS["pooling"], "How the states become one vector (flatten needs --max-len).",
           section="model", choices=POOLINGS),
    Option("hidden_size", DEFAULTS["hidden_size"], "Hidden units per direction (tdnn: "
           "filters per window width).", section="model", low=1,
           high=65_536),
    Option("embedding_dim", 100, "Embedding size (that of --embeddings when given).",
           section="model", low=1, high=65_536),
    Option("init", "torch", "Initialisation: torch or keras (their defaults).",
           section="model", choices=INITS),
    Option("max_len", 0, "Read at most N tokens of each text (0: all).", section="model",
           low=0),
    Option("truncate", "head", "Which N tokens of a longer text: head (the first) or tail "
           "(the last).", section="model", choices=TRUNCATIONS),
    Option("dropout", DEFAULTS["dropout"], "Dropout on the pooled vector and between layers.",
           section="model", low=0.0, high=0.999),
    Option("embedding_dropout", DEFAULTS["embedding_dropout"], "Dropout on the embedded words.", section="model",
           low=0.0, high=0.999),
    Option("freeze_embeddings", False, "Keep the embeddings fixed.", section="model"),
    *trainer_options(epochs=(DEFAULTS["epochs"], "Passes over the training data; the epoch "
                             "of best dev accuracy is kept."),
                     lr=DEFAULTS["lr"], clip=DEFAULTS["clip"]),
    Option("test", False, "Also report test accuracy (the final number only).", section=RUN,
           flags=("--test/--no-test",)),
]
MODEL_SECTION = ("encoder", "num_layers", "bidirectional", "widths", "pooling", "hidden_size",
                 "embedding_dim", "init", "max_len", "truncate", "dropout", "embedding_dropout",
                 "freeze_embeddings")


@train_command(app, OPTIONS)
def train(run: Resolved) -> None:
    """Train a classifier, keep the epoch of best dev accuracy, and save it.

    The defaults train a bidirectional LSTM (100 units each way) over 100-d word vectors,
    max pooling over time, dropout 0.5 on the pooled vector and 0.2 on the words, Adam at
    lr 2e-3 with the gradient norm clipped at 5, 10 epochs, the best dev epoch kept. They
    were chosen on dev accuracy across IMDB, SST-2, SST-5 and small label<TAB>text sets cut
    from them (benchmarks/results/classify_defaults.md): best on average (0.592) and never
    more than 2.7 points behind the best candidate of a set, where the former defaults
    (LSTM, last state, no dropout, 5 epochs) averaged 0.543 and fell up to 11 points behind
    (IMDB, 2,000 reviews: 0.696 against 0.806). On long texts a TDNN (--encoder tdnn
    --hidden-size 300) trains about 1.4x faster for about the same accuracy (0.587 on
    average); Kim's (2014) windows of 3, 4 and 5 words are --widths 3,4,5.
    """
    set_threads(run["threads"])
    print_configuration(run, "classify train")
    model_options = model_section(run)
    check_run_paths(run)
    _check_dev_file(run["dev"], run["output"])
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
                                       run["phrases"], dev_file=run["dev"],
                                       track=_reading_progress)
    dataset = _limit(dataset, run["train_limit"], run["seed"])
    dev = f" (from {printable(str(run['dev']))})" if run["dev"] else ""
    echo(f"data: {printable(dataset.name)}: {len(dataset.train):,} train, {len(dataset.dev):,} "
         f"dev{dev}, {len(dataset.test):,} test, {dataset.num_classes} classes "
         f"({_label_list(dataset.label_names)})")
    if not dataset.dev:
        echo("no dev split: every epoch is kept in turn and the last one is saved (no model "
             "selection; give --dev FILE or --dev-fraction to hold out a dev split)")
    printer = EpochPrinter(_epoch_line)
    result = train_classifier(dataset, model_options, trainer, max_vocab=max_vocab,
                              min_count=run["min_count"], batch_size=run["batch_size"],
                              vectors=vectors, resume=run["resume"],
                              on_start=_start(run["min_count"]), on_step=printer)
    printer.flush(result.fit.history)
    _print_training(result)
    extra = {"dev_accuracy": result.dev.get("accuracy"), "train_seconds": result.seconds,
             "train_config": stored_configuration(run, "classify train")}
    if run["test"] and dataset.test:
        extra["test_accuracy"] = _test_accuracy(result, dataset.test)
    if is_main_process():
        from seqnlp.tasks.classification import ClassificationTask

        save_trained(run["output"], ClassificationTask(dataset), result, extra)
    echo(f"trained in {result.seconds:.1f} s; model saved to {run['output']}")


LONG_READ = 5_000  # texts: tokenising fewer takes well under a second


def _reading_progress(items: Any, desc: str, total: int | None = None,
                      unit: str = "text") -> Any:
    """`progress.track` for reading and tokenising a split, shown from `LONG_READ` texts up
    (a small file is read at once, and an error in it stays the only line on stderr)."""
    from seqnlp.cli import progress

    if total is not None and total < LONG_READ:
        return items
    return progress.track(items, desc, total, unit)


def _check_dev_file(dev: Path | None, output: Path) -> None:
    """--dev names a readable file that -o does not overwrite (before any data is read)."""
    if dev is None:
        return
    if not dev.exists():
        raise SeqnlpError(f"{dev}: no such file (--dev takes a label<TAB>text file)")
    if dev.is_dir():
        raise SeqnlpError(f"{dev}: is a folder; --dev takes a label<TAB>text file")
    if output.exists() and output.samefile(dev):
        raise SeqnlpError(f"{output}: -o and --dev name the same file; writing -o would "
                          "destroy it")


def _label_list(names: tuple[str, ...], shown: int = 6) -> str:
    """The class names for a message: "neg, pos" (the first few of many)."""
    text = ", ".join(printable(name) for name in names[:shown])
    return text + (f", ... ({len(names)} in all)" if len(names) > shown else "")


def model_section(run: Resolved) -> dict[str, Any]:
    """The model table as `ClassifierConfig` fields: --max-len 0 is None, and an unset
    --bidirectional reads both ways with a recurrent encoder (DEFAULTS) and one way with a
    TDNN."""
    options = dict(run.section("model"), max_len=run["max_len"] or None)
    if options["bidirectional"] is None:
        options["bidirectional"] = DEFAULTS["bidirectional"] and options["encoder"] != "tdnn"
    return options


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


def _epoch_line(record: dict[str, Any]) -> str:
    """One finished epoch, numbered from 1 as the progress bar numbers it."""
    accuracy = record["metrics"].get("accuracy")
    dev = "" if accuracy is None else f", dev accuracy {accuracy:.4f}"
    return f"epoch {record['epoch'] + 1}: train loss {record['train_loss']:.4f}{dev}"


def _print_training(result: Any) -> None:
    """After the epoch lines: early stopping and the epoch kept."""
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
    data: str = typer.Option(..., "--data", help=DATA_HELP + " A file's labels are class "
                             "indices of MODEL or its label names."),
    split: str | None = typer.Option(None, help="train, dev or test (default: test for "
                                     "imdb, sst2 and sst5; a file is scored whole). dev and "
                                     "train of imdb or a file are the parts of the dev cut "
                                     "MODEL was trained with (its stored --dev-fraction and "
                                     "--dev-seed), so dev scores what training selected on."),
    ensemble: list[Path] | None = ENSEMBLE,
    batch_size: int = typer.Option(64, min=1, help="Examples per batch."),
    threads: int = THREADS,
    device: str = DEVICE,
) -> None:
    """Print accuracy, loss and per-class precision, recall and F1 of a saved model."""
    from seqnlp.cli import progress
    from seqnlp.tasks.classification import (
        ensemble_probabilities,
        load_examples,
        report_from_probabilities,
    )
    from seqnlp.tasks.classification_data import DATA_NAMES

    if split is not None and split not in SPLITS:
        raise SeqnlpError(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
    check_data(data, DATA_NAMES, DATA_WORDS, "classification")
    set_threads(threads)
    torch_device = common_device(device)
    paths = [model, *(ensemble or [])]
    members, label_names, stored = _load_members(paths, torch_device)
    fraction, seed = _dev_cut(model, stored, data, split)
    examples, description = load_examples(data, split, label_names, fraction, seed,
                                          _reading_progress)
    if not examples:
        raise SeqnlpError(f"{description} has no examples")
    probs = ensemble_probabilities(members, examples, batch_size, str(torch_device),
                                   progress.track, [path.name for path in paths])
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


def _dev_cut(model: Path, stored: dict[str, Any], data: str, split: str | None
             ) -> tuple[float, int]:
    """The dev cut (fraction, seed) MODEL was trained with, from its stored configuration
    (a model saved without one: the defaults, 0.1 and seed 0)."""
    tables = {name: stored.get(name) or {} for name in ("data", "trainer")}
    fraction = tables["data"].get("dev_fraction", 0.1)
    seed = tables["data"].get("dev_seed")
    seed = tables["trainer"].get("seed", 0) if seed is None else seed
    if tables["data"].get("dev") and split in ("train", "dev") and data not in ("sst2", "sst5"):
        if split == "dev":
            raise SeqnlpError(f"{model} was selected on its own dev file, "
                              f"{printable(str(tables['data']['dev']))} (--dev): score "
                              "that file with --data")
        fraction = 0.0  # with --dev, every line of the training file trained
    if not (isinstance(fraction, float) and 0.0 <= fraction < 1.0 and isinstance(seed, int)
            and seed >= 0):
        raise SeqnlpError(f"{model}: its stored training configuration is damaged (dev "
                          f"fraction {fraction!r}, seed {seed!r})")
    return fraction, seed


@app.command()
def predict(
    model: Path = MODEL,
    texts: list[str] | None = typer.Argument(None,
        help="Texts to classify; none: read stdin, one per line."),
    ensemble: list[Path] | None = ENSEMBLE,
    batch_size: int = typer.Option(64, min=1, help="Texts per batch."),
    threads: int = THREADS,
    device: str = DEVICE,
) -> None:
    """Print the predicted label and its probability, one line per text (TAB-separated); a
    blank input line gives a blank output line, so outputs line up with inputs."""
    from seqnlp.tasks.classification import ensemble_probabilities, text_examples

    set_threads(threads)
    torch_device = common_device(device)
    members, label_names, _ = _load_members([model, *(ensemble or [])], torch_device)
    if not texts:
        if sys.stdin.isatty():
            raise SeqnlpError("give texts as arguments, or pipe one text per line on stdin")
        texts = list(stdin_lines())
    real = [text for text in texts if text.strip()]
    from seqnlp.cli import progress
    from seqnlp.tasks.pipeline import untracked

    track = progress.track if len(real) >= LONG_READ else untracked  # many texts take a while
    names = [path.name for path in [model, *(ensemble or [])]]
    probs = iter(ensemble_probabilities(members, text_examples(real), batch_size,
                                        str(torch_device), track, names) if real else [])
    for text in texts:
        if not text.strip():
            typer.echo("")
            continue
        row = next(probs)
        best = int(row.argmax())
        typer.echo(f"{printable(label_names[best])}\t{row[best]:.4f}")


add_config_command(app, KIND, "classify train")


def _load_members(paths: list[Path], device: Any
                  ) -> tuple[list[tuple[Any, Any]], tuple[str, ...], dict[str, Any]]:
    """The (model, vocab) of each file, on `device`, their common label names, and the
    first one's stored training configuration."""
    from seqnlp.models import load_model

    members, label_names, stored = [], None, {}
    for path in paths:
        loaded = load_model(path, expect=KIND)
        if label_names is not None and loaded.label_names != label_names:
            raise SeqnlpError(f"{path}: labels {', '.join(loaded.label_names)} differ from "
                              f"{paths[0]}'s {', '.join(label_names)}; an ensemble needs the same labels")
        if label_names is None:
            stored = loaded.train_config
        label_names = loaded.label_names
        members.append((loaded.model.to(device), loaded.vocab))
    assert label_names is not None
    return members, label_names, stored


def _check_model_options(options: dict[str, Any], max_vocab: int) -> None:
    """Validate the architecture and its size (with the vocabulary at --max-vocab, or at
    its least when every word is kept) before any data is read: fail fast on a typo."""
    from seqnlp.models.classifier import ARTIFACT_KIND, ClassifierConfig
    from seqnlp.models.registry import check_model_size

    try:
        config = ClassifierConfig(vocab_size=max(max_vocab, 2), num_classes=2, **options)
        check_model_size(ARTIFACT_KIND, config)
    except ValueError as exc:
        message = str(exc)
        field = message.split(" ", 1)[0]
        if field in MODEL_SECTION:  # name the option as typed: "--widths must be ..."
            message = "--" + field.replace("_", "-") + message[len(field):]
        raise SeqnlpError(message) from None
