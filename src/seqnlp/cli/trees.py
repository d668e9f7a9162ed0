"""`seqnlp trees`: recursive networks over parse trees, a sentiment label on every node.

    seqnlp trees train --model rvnn|surnn|mvrnn|rntn|treelstm --data sst|PATH [options] -o MODEL
    seqnlp trees eval MODEL [--split test|dev|train] [--data sst|PATH]
    seqnlp trees predict MODEL "(3 (2 it) (4 (2 's) (4 great)))" "a plain sentence" [--plot t.png]
    seqnlp trees config MODEL

torch and matplotlib are imported inside the commands, so `seqnlp --help` stays instant.
"""

from __future__ import annotations

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
    check_output,
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
from seqnlp.errors import SeqnlpError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

KIND = "tree-classifier"
MODELS = ("rvnn", "surnn", "mvrnn", "rntn", "treelstm")
SHAPES = ("balanced", "right", "left")
DATA_HELP = ("sst (the Stanford Sentiment Treebank, from the data home) or a file of "
             "bracketed binary trees, one per line, labels 0-4 on every node.")
MODEL = typer.Argument(..., help="A model file written by `seqnlp trees train`.")
DEFAULT_HIDDEN = {"treelstm": 150}  # the others: 30


OPTIONS = [
    *run_options("Where to write the model."),
    Option("data", None, DATA_HELP, section="data", required=True),
    Option("dev_fraction", 0.1, "A file's share of trees held out as dev (sst has its own).",
           section="data", low=0.0, high=0.5),
    Option("train_limit", 0, "Train on the first N training trees only (0: all).",
           section="data", low=0),
    Option("lowercase", True, "Lower-case words before lookup.", section="data",
           flags=("--lowercase/--keep-case",)),
    Option("min_count", 1, "Training words seen fewer times read as <unk>.", section="data",
           low=1),
    Option("max_vocab", 0, "Most word types, <unk> included (0: all).", section="data", low=0),
    Option("embeddings", None, "Word vectors in word2vec text or binary format (their size "
           "becomes --embedding-dim; default: none, random vectors).", section="data",
           type=Path),
    Option("model", "rntn", "The composition: rvnn (one W), surnn (W by the children's "
           "types: word or phrase), mvrnn (a matrix per word), rntn (tensor), treelstm "
           "(binary Tree-LSTM).", section="model", choices=MODELS),
    Option("hidden_size", None, "Size of every node's vector (default: 30; treelstm 150).",
           section="model", type=int, low=1, high=4096),
    Option("embedding_dim", None, "Word vector size (default: the hidden size; with "
           "--embeddings, the vectors' size).", section="model", type=int, low=1, high=4096),
    Option("dropout", 0.0, "Dropout on each node's vector before the softmax.",
           section="model", low=0.0, high=0.9),
    Option("embedding_init", 0.1, "Random word vectors start U(-s, s) with this s.",
           section="model", low=1e-6, high=10.0),
    Option("sparse", False, "Sparse gradients for the word vectors (and mvrnn's word "
           "matrices): each update touches only the batch's words, several times faster "
           "with a large vocabulary; adagrad or sgd only, and --weight-decay then skips "
           "them.", section="model", flags=("--sparse/--dense",)),
    *trainer_options(epochs=30, batch_size=(25, "Trees per update."), optimizer="adagrad",
                     lr=0.05, patience=5, weight_decay=(0.0, "L2 penalty on all weights.")),
    Option("test", False, "Also report the test scores (the final numbers only).", section=RUN,
           flags=("--test/--no-test",)),
]


def model_options(run: Resolved, vector_size: int | None = None) -> dict[str, Any]:
    """The TreeClassifierConfig fields of the resolved options."""
    options = dict(run.section("model"))
    options["cell"] = options.pop("model")
    if options["hidden_size"] is None:
        options["hidden_size"] = DEFAULT_HIDDEN.get(options["cell"], 30)
    if vector_size is not None:
        options["embedding_dim"] = vector_size
    elif options["embedding_dim"] is None:
        options["embedding_dim"] = options["hidden_size"]
    return options


@train_command(app, OPTIONS)
def train(run: Resolved) -> None:
    """Train a tree classifier on every labelled node, keep the epoch of best dev root
    accuracy, and save it."""
    set_threads(run["threads"])
    print_configuration(run, "trees train")
    check_data(run["data"], ("sst",), "sst or a file of bracketed trees", "tree")
    check_run_paths(run)
    trainer = trainer_config(run)
    vectors = load_vectors(run["embeddings"]) if run["embeddings"] else None
    options = model_options(run, None if vectors is None else vectors.vector_size)

    from seqnlp.tasks.pipeline import save_trained, train_task
    from seqnlp.tasks.trees import TreeTask, score_trees
    from seqnlp.tasks.trees_data import load_tree_data

    data = load_tree_data(run["data"], run["dev_fraction"], run["seed"], run["train_limit"])
    echo(f"data: {data.name}: {len(data.train):,} train, {len(data.dev):,} dev, "
         f"{len(data.test):,} test trees")
    task = TreeTask(data, run["batch_size"], run["lowercase"], run["min_count"],
                    run["max_vocab"] or None, vectors)
    printer = EpochPrinter(_epoch_line)
    trained = train_task(task, options, trainer, resume=run["resume"], on_start=_print_start,
                         on_step=printer)
    printer.flush(trained.fit.history)
    extra: dict[str, Any] = {"dev": trained.dev, "train_seconds": trained.seconds,
                             "train_config": stored_configuration(run, "trees train")}
    if run["test"] and data.test:
        extra["test"] = score_trees(trained.model, trained.vocab, data.test, task.lowercase)
        echo("test: " + _scores_line(extra["test"]))
    if is_main_process():
        save_trained(run["output"], task, trained, extra)
    echo(f"dev: {_scores_line(trained.dev)}; trained in {trained.seconds:.1f} s; model saved "
         f"to {run['output']}")


def _scores_line(scores: dict[str, float]) -> str:
    if not scores:
        return "no dev split (the last epoch is saved)"
    return (f"fine root {scores['fine_root']:.4f}, all {scores['fine_all']:.4f}; binary root "
            f"{scores['binary_root']:.4f}, all {scores['binary_all']:.4f}")


def _epoch_line(item: dict[str, Any]) -> str:
    metrics = item["metrics"]
    dev = "" if "fine_root" not in metrics else f", dev {_scores_line(metrics)}"
    return f"epoch {item['epoch'] + 1}: train loss {item['train_loss']:.4f}{dev}"


def _print_start(model: Any, vocabs: dict[str, Any], info: dict[str, Any]) -> None:
    from seqnlp.nn import count_parameters

    echo(f"words {len(vocabs['tokens']):,}; labelled training nodes {info['train_nodes']:,}; "
         f"parameters {count_parameters(model):,} ({model.config.cell})")
    if info.get("coverage") is not None:
        echo(f"pretrained vectors cover {info['coverage']:.1%} of the vocabulary")


@app.command("eval")
def evaluate(
    model: Path = MODEL,
    split: str = typer.Option("test", help="test, dev or train."),
    data: str | None = typer.Option(None, "--data", help=DATA_HELP + " Default: the data "
                                    "the model was trained on."),
    threads: int = THREADS,
) -> None:
    """Print fine-grained (5 classes) and binary (neutral nodes left out) accuracy at the
    roots and over all nodes."""
    set_threads(threads)
    from seqnlp.models import load_model
    from seqnlp.tasks.trees import score_trees
    from seqnlp.tasks.trees_data import SPLITS, load_tree_data

    if split not in SPLITS:
        raise SeqnlpError(f"--split must be test, dev or train, got {split!r}")
    loaded = load_model(model, expect=KIND)
    stored = loaded.train_config.get("data", {})
    name = data or stored.get("data") or loaded.extra.get("data")
    if not name:
        raise SeqnlpError(f"{model}: does not say what it was trained on; give --data")
    check_data(name, ("sst",), "sst or a file of bracketed trees", "tree")
    seed = loaded.train_config.get("trainer", {}).get("seed", 0)
    dataset = load_tree_data(name, stored.get("dev_fraction", 0.1), seed)
    trees = dataset.split(split)
    if not trees:
        raise SeqnlpError(f"{name} has no {split} split")
    scores = score_trees(loaded.model, loaded.vocab, trees, loaded.lowercase, loaded.node_types)
    typer.echo(f"{printable(str(name))} {split}: {len(trees):,} trees")
    for key in ("fine_root", "fine_all", "binary_root", "binary_all"):
        typer.echo(f"{key.replace('_', ' ')}\t{scores[key]:.4f}")


@app.command()
def predict(
    model: Path = MODEL,
    texts: list[str] | None = typer.Argument(None, help="Bracketed trees, or plain "
                                             "sentences of space-separated words; none: "
                                             "read stdin, one per line."),
    shape: str = typer.Option("balanced", help="The binary tree built over a plain "
                              "sentence: balanced, right or left (branching)."),
    output_format: str = typer.Option("bracket", "--format", help="bracket (one tree per "
                                      "line, predicted labels) or nodes (one line per node: "
                                      "label, class name, phrase, indented by depth)."),
    plot: Path | None = typer.Option(None, "--plot", help="Draw each tree to this PNG, nodes "
                                     "coloured by sentiment (several texts: NAME-1.png, ...; default: "
                                     "no picture)."),
    threads: int = THREADS,
) -> None:
    """Print every node's predicted sentiment (0 very negative ... 4 very positive)."""
    set_threads(threads)
    if shape not in SHAPES:
        raise SeqnlpError(f"--shape must be one of {', '.join(SHAPES)}, got {shape!r}")
    if output_format not in ("bracket", "nodes"):
        raise SeqnlpError(f"--format must be bracket or nodes, got {output_format!r}")
    check_output(plot, "--plot")
    from seqnlp.models import load_model
    from seqnlp.tasks.trees import parse_inputs, predict_trees

    loaded = load_model(model, expect=KIND)
    source = "argument" if texts else "stdin"
    if not texts:
        if sys.stdin.isatty():
            raise SeqnlpError("give trees or sentences as arguments, or pipe one per line "
                              "on stdin")
        texts = stdin_lines()
    inputs = parse_inputs(texts, shape, source)
    predicted = predict_trees(loaded, [tree for tree, _ in inputs])
    for number, ((_, how), result) in enumerate(zip(inputs, predicted), start=1):
        if output_format == "bracket":
            typer.echo(printable(str(result.tree)))
        else:
            _print_nodes(result.tree, how, loaded.label_names)
        if plot is not None:
            _plot(result.tree, plot, number, len(predicted), loaded.label_names, how)
    plain = sorted({how for _, how in inputs} - {"parsed"})
    if plain and output_format == "bracket":
        echo(f"note: plain sentences were read as {plain[0]} binary trees (--shape)", err=True)


def _print_nodes(tree: Any, how: str, names: tuple[str, ...]) -> None:
    """One line per node, pre-order, indented by depth: label, name, phrase."""
    typer.echo("# tree: " + ("as given" if how == "parsed" else f"{how} binary tree over "
                             "the words (no parse given)"))
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        phrase = printable(" ".join(node.leaves()))
        typer.echo(f"{'  ' * depth}{node.label} {names[node.label]:<13} {phrase}")
        stack.extend((child, depth + 1) for child in reversed(node.children))


def _plot(tree: Any, plot: Path, number: int, count: int, names: tuple[str, ...],
          how: str) -> None:
    from seqnlp.tasks.tree_plot import plot_tree

    path = plot if count == 1 else plot.with_name(f"{plot.stem}-{number}{plot.suffix}")
    title = None if how == "parsed" else f"{how} binary tree (no parse given)"
    plot_tree(tree, path, names, title)
    echo(f"tree drawn to {path}", err=True)


add_config_command(app, KIND, "trees train")
