"""`seqnlp lm`: train, evaluate and sample recurrent language models.

    seqnlp lm train --data ptb|wikitext-2|PATH [--level word|char] [options] -o MODEL
    seqnlp lm eval MODEL --data ptb|wikitext-2|PATH [--split test]
    seqnlp lm generate MODEL --prompt "..." --strategy greedy|sample|beam [-n 3]
    seqnlp lm score MODEL < sentences.txt      (log-probability of each line)

The training defaults are Zaremba et al.'s (2014) small configuration. SGD uses the mean
loss per token, so lr 20 with the gradient norm clipped at 0.25 is the same update as their
lr 1 and clip 5 on a loss summed over 20 steps. torch is imported inside the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

DATA_HELP = ("ptb, wikitext-2 (fetched with `seqnlp data get`), a text file (cut 90/5/5 "
             "into train/valid/test) or a folder with train.txt, valid.txt, test.txt.")
SCHEDULES = ("zaremba", "plateau", "constant")
LEVELS = ("word", "char")


def _set_threads(threads: int | None) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)


def _trainer_config(
    optimizer: str, lr: float | None, clip: float, schedule: str, decay_start: int,
    decay: float, checkpoint_dir: Path | None, log: Path | None, **options: Any,
) -> Any:
    """The TrainerConfig of `lm train`'s options (`options`: epochs, max_steps, patience,
    seed, device)."""
    from seqnlp.training import TrainerConfig

    return TrainerConfig(
        optimizer=optimizer, lr=lr or (20.0 if optimizer == "sgd" else 1e-3),
        clip_norm=clip or None, constant_epochs=decay_start, gamma=decay,
        schedule={"zaremba": "exponential", "plateau": "plateau"}.get(schedule, "constant"),
        plateau_patience=0, metric="ppl", mode="min",
        checkpoint_dir=None if checkpoint_dir is None else str(checkpoint_dir),
        log_path=None if log is None else str(log), progress=sys.stderr.isatty(), **options,
    )


class _EpochPrinter:
    """An `on_step` callback printing each finished epoch's numbers as the next begins."""

    def __init__(self) -> None:
        self.printed = 0

    def __call__(self, trainer: Any, record: dict[str, Any]) -> None:
        self.flush(trainer.history)

    def flush(self, history: list[dict[str, Any]]) -> None:
        import math

        for item in history[self.printed:]:
            valid = item["metrics"].get("ppl", math.nan)
            typer.echo(f"epoch {item['epoch'] + 1:3d}  lr {item['lr']:.4g}  train ppl "
                       f"{math.exp(min(item['train_loss'], 50)):9.2f}  valid ppl {valid:9.2f}")
        self.printed = len(history)


@app.command()
def train(
    data: str = typer.Option(..., "--data", help=DATA_HELP),
    output: Path = typer.Option(..., "-o", "--output", help="Where to save the model."),
    level: str = typer.Option("word", help="word | char."),
    cell: str = typer.Option("lstm", help="rnn | lstm | gru."),
    embedding_dim: int = typer.Option(200, min=1, help="Embedding size E."),
    hidden_size: int = typer.Option(200, min=1, help="Hidden size H."),
    num_layers: int = typer.Option(2, min=1, help="Stacked recurrent layers."),
    dropout: float = typer.Option(0.0, help="Dropout on non-recurrent connections."),
    tie_weights: bool = typer.Option(False, help="Tie the decoder to the embedding (E == H)."),
    init_range: float = typer.Option(0.1, help="Weights from U(-r, r); 0: layer defaults."),
    sampled_softmax: int = typer.Option(0, min=0, help="Train with this many samples (0: full)."),
    decoder_dtype: str = typer.Option(
        "float32", help="float32 | bfloat16: precision of the decoder's products in training."),
    batch_size: int = typer.Option(20, min=1, help="Parallel streams B."),
    bptt: int = typer.Option(20, min=1, help="Unrolled steps per window."),
    variable_bptt: bool = typer.Option(False, help="Vary window lengths (AWD-LSTM)."),
    eval_batch_size: int = typer.Option(10, min=1, help="Streams of valid and test."),
    optimizer: str = typer.Option("sgd", help="sgd | adam | adamw | adagrad | rmsprop."),
    lr: float = typer.Option(None, help="Learning rate [default: 20 for sgd, 0.001 otherwise]."),
    clip: float = typer.Option(0.25, min=0.0, help="Clip the gradient norm (0: off)."),
    epochs: int = typer.Option(13, min=1),
    max_steps: int = typer.Option(None, min=1, help="Stop after this many updates."),
    schedule: str = typer.Option("zaremba", help="zaremba | plateau | constant."),
    decay_start: int = typer.Option(4, min=0, help="zaremba: epochs at the base lr."),
    decay: float = typer.Option(0.5, help="The lr factor per decay (zaremba, plateau)."),
    patience: int = typer.Option(None, min=1, help="Early stop after this many bad epochs."),
    min_count: int = typer.Option(1, min=1, help="Drop rarer tokens (read as <unk>)."),
    max_vocab: int = typer.Option(None, min=3, help="Keep at most this many types."),
    seed: int = typer.Option(0),
    checkpoint_dir: Path = typer.Option(None, help="Write last.pt and best.pt here."),
    resume: bool = typer.Option(False, help="Continue from CHECKPOINT_DIR/last.pt."),
    log: Path = typer.Option(None, help="JSONL metrics log."),
    device: str = typer.Option("auto", help="auto | cpu | cuda."),
    threads: int = typer.Option(None, min=1, help="torch CPU threads."),
) -> None:
    """Train a language model; print perplexities per epoch, then valid and test."""
    from seqnlp.models.language_model import LanguageModelConfig
    from seqnlp.tasks.language_modeling import (
        LMBatching, load_lm_corpus, save_language_model, train_language_model,
    )

    if schedule not in SCHEDULES:
        raise typer.BadParameter(f"schedule must be one of {', '.join(SCHEDULES)}")
    if level not in LEVELS:
        raise typer.BadParameter(f"level must be one of {', '.join(LEVELS)}")
    if resume and checkpoint_dir is None:
        raise typer.BadParameter("--resume needs --checkpoint-dir")
    _set_threads(threads)
    trainer_config = _config_or_exit(lambda: _trainer_config(
        optimizer, lr, clip, schedule, decay_start, decay, checkpoint_dir, log, epochs=epochs,
        max_steps=max_steps, patience=patience, seed=seed, device=device))
    corpus = load_lm_corpus(data, level, min_count=min_count, max_vocab=max_vocab)
    typer.echo(f"{data} ({level} level): vocabulary {len(corpus.vocab):,}; tokens train "
               f"{len(corpus.train):,}, valid {len(corpus.valid):,}, test {len(corpus.test):,}")
    model_config = _config_or_exit(lambda: LanguageModelConfig(
        vocab_size=len(corpus.vocab), embedding_dim=embedding_dim, hidden_size=hidden_size,
        num_layers=num_layers, cell=cell, dropout=dropout, tie_weights=tie_weights,
        init_range=init_range, sampled_softmax=sampled_softmax, decoder_dtype=decoder_dtype))
    batching = _config_or_exit(lambda: LMBatching(batch_size, bptt, variable_bptt, eval_batch_size))
    printer = _EpochPrinter()
    result = train_language_model(corpus, model_config, trainer_config, batching,
                                  resume=resume, on_step=printer)
    printer.flush(result.fit.history)
    numbers = {"valid_ppl": result.valid["ppl"], "test_ppl": result.test.get("ppl")}
    save_language_model(output, result.model, corpus.vocab, level, {"data": data, **numbers})
    test = "n/a" if numbers["test_ppl"] is None else f"{numbers['test_ppl']:.2f}"
    typer.echo(f"best valid ppl {numbers['valid_ppl']:.2f}, test ppl {test} after "
               f"{result.fit.steps:,} updates; saved {output}")


def _config_or_exit(build: Any) -> Any:
    """Build a config, turning its ValueError into a usage error (one line, exit 2)."""
    from seqnlp.errors import SeqnlpError

    try:
        return build()
    except ValueError as exc:
        if isinstance(exc, SeqnlpError):
            raise
        raise typer.BadParameter(str(exc)) from None


@app.command("eval")
def evaluate(
    model: Path = typer.Argument(..., help="A model saved by `seqnlp lm train`."),
    data: str = typer.Option(..., "--data", help=DATA_HELP),
    split: str = typer.Option("test", help="train | valid | test."),
    batch_size: int = typer.Option(10, min=1, help="Parallel streams."),
    bptt: int = typer.Option(35, min=1, help="Window length (the state carries over)."),
    threads: int = typer.Option(None, min=1, help="torch CPU threads."),
) -> None:
    """Print the perplexity of MODEL on a split of DATA."""
    from seqnlp.tasks.language_modeling import evaluate_saved, load_language_model

    _set_threads(threads)
    lm = load_language_model(model)
    result = _config_or_exit(lambda: evaluate_saved(lm, data, split, batch_size, bptt))
    typer.echo(f"{split} perplexity {result['ppl']:.2f} (loss {result['loss']:.4f} nats) over "
               f"{int(result['tokens']):,} tokens; {100 * result['oov_rate']:.2f}% read as <unk>")


@app.command()
def generate(
    model: Path = typer.Argument(..., help="A model saved by `seqnlp lm train`."),
    prompt: str = typer.Option("", help="Text to continue (words or characters)."),
    strategy: str = typer.Option("greedy", help="greedy | sample | beam."),
    beam: int = typer.Option(5, min=1, help="Beam width."),
    temperature: float = typer.Option(1.0, help="Sampling temperature (> 0)."),
    top_k: int = typer.Option(None, min=1, help="Sample among the k most probable."),
    top_p: float = typer.Option(None, help="Sample within the nucleus of mass p."),
    num_outputs: int = typer.Option(1, "-n", min=1, help="Outputs to print."),
    max_len: int = typer.Option(None, min=1, help="Most tokens generated."),
    seed: int = typer.Option(0, help="Seed of sampling."),
    no_unk: bool = typer.Option(False, "--no-unk", help="Never generate <unk>."),
) -> None:
    """Continue PROMPT; print one output per line (the prompt as read, then the rest)."""
    from seqnlp.tasks.language_modeling import load_language_model
    from seqnlp.tasks.lm_generation import generate_text, join_tokens

    lm = load_language_model(model)
    result = _config_or_exit(lambda: generate_text(
        lm, prompt, strategy, num_outputs, beam, temperature, top_k, top_p, max_len, seed,
        no_unk))
    if result.unknown:
        typer.echo(f"note: not in the vocabulary, read as <unk>: {' '.join(result.unknown)}",
                   err=True)
    for continuation in result.continuations:
        typer.echo(join_tokens(result.prompt_tokens + continuation, lm.level))


@app.command()
def score(
    model: Path = typer.Argument(..., help="A model saved by `seqnlp lm train`."),
) -> None:
    """Print `log_prob<TAB>tokens<TAB>perplexity<TAB>line` for each line of stdin.

    The log-probability is in nats and counts the line's end (<eos>) as a token.
    """
    from seqnlp.tasks.language_modeling import load_language_model
    from seqnlp.tasks.lm_generation import score_lines

    lm = load_language_model(model)
    lines = [line.rstrip("\r\n") for line in sys.stdin]
    for number, (line, result) in enumerate(zip(lines, score_lines(lm, lines)), start=1):
        if result.unknown:
            typer.echo(f"note: line {number}: read as <unk>: {' '.join(result.unknown)}",
                       err=True)
        typer.echo(f"{result.log_prob:.4f}\t{result.num_tokens}\t{result.perplexity:.2f}\t{line}")
