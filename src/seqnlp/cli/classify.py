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

from seqnlp.errors import SeqnlpError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

DATA_HELP = (
    "imdb, sst2, sst5 (from the data home; `seqnlp data get imdb|sst`) or a label<TAB>text file."
)
MODEL = typer.Argument(..., help="A model file written by `seqnlp classify train`.")
DEVICE = typer.Option("auto", "--device", help="auto (cuda when available), cpu or cuda.")
ENSEMBLE = typer.Option(None, "--ensemble", "-e",
    help="Another model whose class probabilities are averaged with MODEL's (repeatable).")


@app.command()
def train(
    data: str = typer.Option(..., "--data", help=DATA_HELP),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the model."),
    encoder: str = typer.Option("lstm", help="rnn, lstm, gru or tdnn."),
    layers: int = typer.Option(1, "--layers", min=1, help="Stacked encoder layers."),
    bidirectional: bool = typer.Option(False, "--bidirectional/--unidirectional",
        help="Read both ways."),
    pooling: str = typer.Option("last",
        help="last, mean, max, attention or flatten (needs --max-len)."),
    hidden_size: int = typer.Option(128, min=1, help="Hidden units per direction."),
    embedding_dim: int = typer.Option(100, min=1,
        help="Embedding size (that of --embeddings when given)."),
    vocab_size: int = typer.Option(20_000, min=3,
        help="Most vocabulary entries, <pad> and <unk> included."),
    init: str = typer.Option("torch", help="Initialisation: torch or keras (their defaults)."),
    min_count: int = typer.Option(1, min=1, help="Drop training words seen fewer times."),
    max_len: int = typer.Option(0, min=0, help="Read at most N tokens of each text (0: all)."),
    truncate: str = typer.Option("head",
        help="Which N tokens of a longer text: head (the first) or tail (the last)."),
    dropout: float = typer.Option(0.0, help="Dropout on the pooled vector and between layers."),
    embedding_dropout: float = typer.Option(0.0, help="Dropout on the embedded words."),
    optimizer: str = typer.Option("adam", help="adam, adamw, sgd, adagrad or rmsprop."),
    lr: float = typer.Option(1e-3, help="Learning rate."),
    alpha: float = typer.Option(0.99,
        help="RMSprop's smoothing of the mean squared gradient (Keras calls it rho: 0.9)."),
    eps: float = typer.Option(1e-8,
        help="Added to the denominator of adam, adamw and rmsprop (Keras: 1e-7)."),
    batch_size: int = typer.Option(64, min=1, help="Examples per update."),
    epochs: int = typer.Option(5, min=1, help="Passes over the training data."),
    patience: int = typer.Option(0, min=0,
        help="Stop after N epochs without better dev accuracy (0: never)."),
    clip: float = typer.Option(0.0, min=0.0,
        help="Clip the gradient norm to this (0: no clipping)."),
    weight_decay: float = typer.Option(0.0, min=0.0, help="L2 penalty (decoupled for adamw)."),
    seed: int = typer.Option(0, min=0,
        help="Seeds the dev cut, the initialisation and the batches."),
    dev_seed: int | None = typer.Option(None, min=0,
        help="Seeds the dev cut alone (default: --seed); fix it to train ensemble members "
             "with different --seed on the same split."),
    dev_fraction: float = typer.Option(0.1,
        help="Share of train held out as dev (imdb and TSV files)."),
    phrases: bool = typer.Option(False,
        help="SST: also train on every labelled phrase of the training trees."),
    train_limit: int = typer.Option(0, min=0,
        help="Train on a random sample of N training texts, drawn with --seed (0: all)."),
    embeddings: Path | None = typer.Option(None,
        help="Word vectors in word2vec text or binary format."),
    freeze_embeddings: bool = typer.Option(False, help="Keep the embeddings fixed."),
    checkpoint_dir: Path | None = typer.Option(None, help="Write resumable checkpoints here."),
    resume: bool = typer.Option(False, help="Continue from --checkpoint-dir's last checkpoint."),
    log: Path | None = typer.Option(None, help="Write the training metrics as JSON lines here."),
    test: bool = typer.Option(False, "--test",
        help="Also report test accuracy (the final number only)."),
    device: str = DEVICE,
    threads: int = typer.Option(0, min=0, help="CPU threads for torch (0: torch's default)."),
) -> None:
    """Train a classifier, keep the epoch of best dev accuracy, and save it."""
    _set_threads(threads)
    model_options = {
        "encoder": encoder, "num_layers": layers, "bidirectional": bidirectional,
        "pooling": pooling, "hidden_size": hidden_size, "embedding_dim": embedding_dim,
        "max_len": max_len or None, "truncate": truncate, "dropout": dropout, "embedding_dropout": embedding_dropout,
        "freeze_embeddings": freeze_embeddings, "init": init,
    }
    if resume and checkpoint_dir is None:
        raise SeqnlpError("--resume needs --checkpoint-dir")
    trainer_config = _trainer_config(
        optimizer=optimizer, lr=lr, alpha=alpha, eps=eps, epochs=epochs, patience=patience or None,
        clip_norm=clip or None, weight_decay=weight_decay, seed=seed, device=device,
        checkpoint_dir=checkpoint_dir, log_path=log, metric="accuracy", mode="max",
    )
    _check_model_options(model_options)
    if not 0.0 <= dev_fraction < 1.0:
        raise SeqnlpError(f"--dev-fraction must be in [0, 1), got {dev_fraction}")
    vectors = _load_vectors(embeddings) if embeddings else None

    import numpy as np

    from seqnlp.models.classifier import save_classifier
    from seqnlp.tasks.classification import load_classification_data, train_classifier

    dataset = load_classification_data(data, dev_fraction, seed if dev_seed is None else dev_seed,
                                       phrases)
    if train_limit and train_limit < len(dataset.train):
        # A random sample, not the first N: SST's training file is partly sorted by label.
        keep = sorted(np.random.default_rng(seed).permutation(len(dataset.train))[:train_limit])
        dataset = dataclasses.replace(dataset, train=[dataset.train[i] for i in keep])
    typer.echo(f"data: {dataset.name}: {len(dataset.train):,} train, {len(dataset.dev):,} dev, "
               f"{len(dataset.test):,} test, {dataset.num_classes} classes")
    result = train_classifier(dataset, model_options, trainer_config, max_vocab=vocab_size,
                              min_count=min_count, batch_size=batch_size, vectors=vectors,
                              resume=resume)
    _print_training(result)
    extra = {"data": dataset.name, "tokenizer": "english_tokenize(lower=True)",
             "dev_accuracy": result.dev.get("accuracy"), "train_seconds": result.seconds}
    if test and dataset.test:
        extra["test_accuracy"] = _test_accuracy(result, dataset.test)
    save_classifier(output, result.model.cpu(), result.vocab, dataset.label_names, extra)
    typer.echo(f"trained in {result.seconds:.1f} s; model saved to {output}")


def _print_training(result: Any) -> None:
    from seqnlp.nn import count_parameters

    typer.echo(f"vocabulary: {len(result.vocab):,} entries; "
               f"parameters: {count_parameters(result.model):,}")
    if result.coverage is not None:
        typer.echo(f"pretrained vectors cover {result.coverage:.1%} of the vocabulary words")
    for record in result.fit.history:
        accuracy = record["metrics"].get("accuracy")
        dev = "" if accuracy is None else f", dev accuracy {accuracy:.4f}"
        typer.echo(f"epoch {record['epoch'] + 1}: train loss {record['train_loss']:.4f}{dev}")
    if result.fit.stopped_early:
        typer.echo("stopped early: dev accuracy stopped improving")
    if "accuracy" in result.dev:
        best = result.fit.best_epoch + 1
        typer.echo(f"dev accuracy {result.dev['accuracy']:.4f} (best epoch {best})")


def _test_accuracy(result: Any, examples: list) -> float:
    from seqnlp.tasks.classification import evaluate_examples

    device = str(next(result.model.parameters()).device)
    report = evaluate_examples(result.model, result.vocab, examples, device=device)
    typer.echo(f"test accuracy {report.accuracy:.4f}")
    return report.accuracy


@app.command("eval")
def evaluate(
    model: Path = MODEL,
    data: str = typer.Option(..., "--data", help=DATA_HELP + " A file is scored whole."),
    split: str = typer.Option("test", help="train, dev or test, for a named dataset."),
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

    torch_device = _device(device)
    members, label_names = _load_members([model, *(ensemble or [])], torch_device)
    examples, description = load_examples(data, split)
    if not examples:
        raise SeqnlpError(f"{description} has no examples")
    probs = ensemble_probabilities(members, examples, batch_size, str(torch_device))
    report = report_from_probabilities(probs, examples)
    models = f" ({len(members)} models, probabilities averaged)" if len(members) > 1 else ""
    typer.echo(f"{description}: {len(examples):,} examples{models}")
    typer.echo(f"accuracy {report.accuracy:.4f}  loss {report.loss:.4f}  "
               f"macro F1 {report.macro_f1:.4f}")
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
    """Print the predicted label and its probability, one line per text (TAB-separated)."""
    from seqnlp.tasks.classification import ensemble_probabilities, text_examples

    torch_device = _device(device)
    members, label_names = _load_members([model, *(ensemble or [])], torch_device)
    if not texts:
        if sys.stdin.isatty():
            raise SeqnlpError("give texts as arguments, or pipe one text per line on stdin")
        texts = [line.rstrip("\r\n") for line in sys.stdin if line.strip()]
    probs = ensemble_probabilities(members, text_examples(texts), batch_size, str(torch_device))
    for row in probs:
        best = int(row.argmax())
        typer.echo(f"{label_names[best]}\t{row[best]:.4f}")


def _load_members(paths: list[Path], device: Any) -> tuple[list[tuple[Any, Any]], tuple[str, ...]]:
    """The (model, vocab) of each file, on `device`, and their common label names."""
    from seqnlp.models.classifier import load_classifier

    members, label_names = [], None
    for path in paths:
        loaded = load_classifier(path)
        if label_names is not None and loaded.label_names != label_names:
            raise SeqnlpError(f"{path}: labels {list(loaded.label_names)} differ from "
                              f"{paths[0]}'s {list(label_names)}; an ensemble needs the same labels")
        label_names = loaded.label_names
        members.append((loaded.model.to(device), loaded.vocab))
    assert label_names is not None
    return members, label_names


def _trainer_config(**options: Any) -> Any:
    from seqnlp.training import TrainerConfig

    try:
        return TrainerConfig(**options)
    except ValueError as exc:
        raise SeqnlpError(str(exc)) from None


def _check_model_options(options: dict[str, Any]) -> None:
    """Validate the architecture before any data is read (fail fast on a typo)."""
    from seqnlp.models.classifier import ClassifierConfig

    try:
        ClassifierConfig(vocab_size=2, num_classes=2, **options)
    except ValueError as exc:
        raise SeqnlpError(str(exc)) from None


def _load_vectors(path: Path) -> Any:
    from seqnlp.word2vec import KeyedVectors

    vectors = KeyedVectors.load_word2vec_format(path)
    typer.echo(f"embeddings: {len(vectors):,} vectors of {vectors.vector_size} from {path}")
    return vectors


def _set_threads(threads: int) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)


def _device(name: str) -> Any:
    import torch

    if name not in ("auto", "cpu", "cuda"):
        raise SeqnlpError(f"--device must be auto, cpu or cuda, got {name!r}")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise SeqnlpError("--device cuda was asked for but CUDA is not available")
    return torch.device(name)
