"""`seqnlp caption`: the image-captioning pattern on real handwriting (scikit-learn's 8x8
digits placed side by side, captioned with their English names).

    seqnlp caption train [options] -o MODEL
    seqnlp caption eval MODEL [--examples 2000] [--beam K]
    seqnlp caption run MODEL "3 1 4" [--attention-plot out.png]
    seqnlp caption config MODEL

The digit images are split into train / dev / test before any composite is made, so eval
and run read handwriting the model never saw. torch is imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from seqnlp.cli.common import (
    THREADS,
    EpochPrinter,
    Option,
    Resolved,
    add_config_command,
    check_output,
    check_run_paths,
    echo,
    is_main_process,
    print_configuration,
    run_options,
    set_threads,
    stored_configuration,
    train_command,
    trainer_config,
    trainer_options,
)
from seqnlp.errors import SeqnlpError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

KIND = "captioner"
MODEL = typer.Argument(..., help="A model file written by `seqnlp caption train`.")


OPTIONS = [
    *run_options("Where to write the model."),
    Option("examples", 20_000, "Training composites (drawn from the training images).",
           section="data", low=100, high=10_000_000),
    Option("dev_examples", 1_000, "Dev composites (from the dev images).", section="data",
           low=10, high=1_000_000),
    Option("max_digits", 4, "The most digits per image.", section="data", low=1, high=16),
    Option("shift", 1, "Move each digit of a training composite by up to this many pixels "
           "(augmentation; 0: as drawn).", section="data", low=0, high=7),
    Option("fresh", True, "Draw new training composites every epoch.", section="data"),
    Option("split_seed", 0, "Seeds the train / dev / test split of the digit images.",
           section="data", low=0, high=2**31 - 1),
    Option("channels", 128, "CNN feature-column width.", section="model", low=2, high=4096),
    Option("hidden_size", 128, "Column GRU (per direction) and decoder hidden units.",
           section="model", low=1, high=4096),
    Option("embedding_dim", 32, "Word embedding size.", section="model", low=1, high=4096),
    Option("cell", "gru", "Decoder cell.", section="model", choices=("gru", "lstm")),
    Option("attention", "luong", "luong, bahdanau or none (the decoder reads the mean "
           "column only).", section="model", choices=("luong", "bahdanau", "none")),
    Option("dropout", 0.1, "Dropout on columns, embeddings and decoder outputs.",
           section="model", low=0.0, high=0.9),
    Option("label_smoothing", 0.0, "Target probability spread over the vocabulary.",
           section="model", low=0.0, high=0.9),
    *trainer_options(epochs=8, lr=3e-3, clip=1.0, batch_size=(64, "Images per update.")),
]


@train_command(app, OPTIONS)
def train(run: Resolved) -> None:
    """Train a captioner on digit composites, keep the epoch of best dev exact match."""
    set_threads(run["threads"])
    print_configuration(run, "caption train")
    check_run_paths(run)
    trainer = trainer_config(run)
    options = dict(run.section("model"))
    _check_options(options)

    from seqnlp.tasks.captioning import CaptioningTask
    from seqnlp.tasks.captioning_data import load_digit_pools
    from seqnlp.tasks.pipeline import save_trained, train_task

    pools = load_digit_pools(run["split_seed"])
    task = CaptioningTask(pools, run["examples"], run["dev_examples"], run["batch_size"],
                          run["seed"], run["max_digits"], run["shift"], run["fresh"])
    echo(f"data: {len(task.train):,} train and {len(task.dev):,} dev composites of 1-"
         f"{run['max_digits']} digits, from {_count(pools, 'train'):,} and "
         f"{_count(pools, 'dev'):,} digit images ({_count(pools, 'test'):,} held out for test)")
    printer = EpochPrinter(_epoch_line)
    trained = train_task(task, options, trainer, resume=run["resume"], on_step=printer)
    printer.flush(trained.fit.history)
    extra = {"dev_exact": trained.dev.get("exact"), "train_seconds": trained.seconds,
             "train_config": stored_configuration(run, "caption train")}
    if is_main_process():
        save_trained(run["output"], task, trained, extra)
    echo(f"dev exact match {trained.dev.get('exact', float('nan')):.4f}; trained in "
         f"{trained.seconds:.1f} s; model saved to {run['output']}")


def _check_options(options: dict[str, Any]) -> None:
    from seqnlp.models.captioner import CaptionerConfig

    try:
        CaptionerConfig(vocab_size=14, **options)
    except ValueError as exc:
        raise SeqnlpError(str(exc)) from None


def _count(pools: Any, split: str) -> int:
    return sum(len(images) for images in pools.pools[split])


def _epoch_line(item: dict[str, Any]) -> str:
    metrics = item["metrics"]
    dev = "" if "exact" not in metrics else (f", dev exact {metrics['exact']:.4f}, token "
                                             f"accuracy {metrics['token_accuracy']:.4f}")
    return f"epoch {item['epoch'] + 1}: train loss {item['train_loss']:.4f}{dev}"


def _load(model: Path) -> tuple[Any, Any]:
    """The loaded captioner and the digit-image pools it was trained with."""
    from seqnlp.models import load_model
    from seqnlp.tasks.captioning_data import load_digit_pools

    loaded = load_model(model, expect=KIND)
    seed = loaded.extra.get("split_seed", 0)
    if not isinstance(seed, int) or seed < 0:
        raise SeqnlpError(f"{model}: damaged split_seed {seed!r}")
    return loaded, load_digit_pools(seed)


BEAM = typer.Option(1, "--beam", min=1, max=100, help="Beam size (1: greedy search).")


@app.command("eval")
def evaluate(
    model: Path = MODEL,
    examples: int = typer.Option(2_000, "--examples", min=1, max=1_000_000, help="Test "
                                 "composites, from held-out digit images."),
    digits: int = typer.Option(0, "--digits", min=0, max=16, help="Only composites of this "
                               "many digits (0: 1 to the model's --max-digits)."),
    beam: int = BEAM,
    seed: int = typer.Option(1, "--seed", min=0, max=2**31 - 1, help="Seeds the test "
                             "composites."),
    threads: int = THREADS,
) -> None:
    """Print exact match and token accuracy on held-out digit images, overall and by the
    number of digits."""
    set_threads(threads)
    from seqnlp.tasks.captioning import caption_images, caption_scores
    from seqnlp.tasks.captioning_data import make_split

    loaded, pools = _load(model)
    most = int(loaded.extra.get("max_digits", 4))
    low, high = (digits, digits) if digits else (1, most)
    test = make_split(pools, "test", examples, seed, min_digits=low, max_digits=high)
    found = caption_images(loaded.model, loaded.vocab, test.images, beam)
    scores = caption_scores([c.words for c in found], test.captions)
    typer.echo(f"{len(test):,} test composites of {low}-{high} digits (held-out images), "
               f"beam {beam}")
    typer.echo(f"exact match {scores['exact']:.4f}, token accuracy "
               f"{scores['token_accuracy']:.4f}")
    for n in range(low, high + 1):
        if f"exact_{n}" in scores:
            typer.echo(f"  {n} digit(s): exact {scores[f'exact_{n}']:.4f}, token accuracy "
                       f"{scores[f'token_accuracy_{n}']:.4f}")


@app.command()
def run(
    model: Path = MODEL,
    digits: list[str] = typer.Argument(..., help="Digits to compose from held-out images, "
                                       "e.g. \"3 1 4\" (each argument one image)."),
    beam: int = BEAM,
    seed: int = typer.Option(0, "--seed", min=0, max=2**31 - 1, help="Picks the images."),
    attention_plot: Path | None = typer.Option(None, "--attention-plot", help="Draw the "
                                               "first image with the attention over its "
                                               "columns at each generated word (PNG; default: "
                                               "no picture)."),
    threads: int = THREADS,
) -> None:
    """Compose images of the given digits from held-out handwriting and caption them."""
    set_threads(threads)
    import numpy as np

    from seqnlp.tasks.captioning import caption_images
    from seqnlp.tasks.captioning_data import compose, parse_digits

    check_output(attention_plot, "--attention-plot")
    try:
        wanted = [parse_digits(text) for text in digits]
    except ValueError as exc:
        raise SeqnlpError(str(exc)) from None
    loaded, pools = _load(model)
    if attention_plot is not None and loaded.config.attention == "none":
        raise SeqnlpError(f"{model}: has no attention (trained with --attention none); "
                          "drop --attention-plot")
    rng = np.random.default_rng(seed)
    images = [compose(pools.pools["test"], d, rng) for d in wanted]
    found = caption_images(loaded.model, loaded.vocab, images, beam,
                           attention=attention_plot is not None)
    for d, caption in zip(wanted, found):
        typer.echo(f"{''.join(map(str, d))}\t{' '.join(caption.words)}")
    if attention_plot is not None and found[0].attention is not None:
        from seqnlp.tasks.attention_plot import plot_image_attention

        plot_image_attention(images[0], found[0].attention, [*found[0].words, "</s>"],
                             attention_plot)
        typer.echo(f"attention of image 1 drawn to {attention_plot}", err=True)


add_config_command(app, KIND, "caption train")
