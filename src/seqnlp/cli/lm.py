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

from pathlib import Path
from typing import Any

import typer

from seqnlp.cli.common import (
    THREADS,
    EpochPrinter,
    Option,
    Resolved,
    add_config_command,
    check_data,
    check_run_paths,
    echo,
    is_main_process,
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
from seqnlp.cli.progress import track
from seqnlp.errors import SeqnlpError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

DATA_HELP = ("ptb, wikitext-2 (fetched with `seqnlp data get`), a text file (cut 90/5/5 "
             "into train/valid/test) or a folder with train.txt, valid.txt, test.txt.")
DATA_WORDS = "ptb, wikitext-2, a text file or a folder with train.txt, valid.txt, test.txt"
CORPUS_FILES = ("train.txt", "valid.txt", "test.txt")
LEVELS = ("word", "char")
# Bounds of `lm generate` (a test holds them equal to seqnlp.tasks.lm_generation's).
MAX_OUTPUTS, MAX_BEAM, MAX_GENERATED = 1_000, 100, 10_000
MAX_SEED = 2**63 - 1


def _epoch_line(item: dict[str, Any]) -> str:
    import math

    valid = item["metrics"].get("ppl", math.nan)
    return (f"epoch {item['epoch'] + 1:3d}  lr {item['lr']:.4g}  train ppl "
            f"{math.exp(min(item['train_loss'], 50)):9.2f}  valid ppl {valid:9.2f}")


OPTIONS = [
    *run_options("Where to save the model."),
    Option("data", None, DATA_HELP, section="data", required=True),
    Option("level", "word", "Tokens: whitespace words or characters.", section="data",
           choices=LEVELS),
    Option("min_count", 1, "Drop rarer tokens (read as <unk>).", section="data", low=1),
    Option("max_vocab", 0, "Keep at most this many types (0: all).", section="data", low=0),
    Option("bptt", 20, "Unrolled steps per window.", section="data", low=1, high=100_000),
    Option("variable_bptt", False, "Vary window lengths (AWD-LSTM).", section="data"),
    Option("eval_batch_size", 10, "Parallel streams of valid and test.", section="data",
           low=1),
    Option("cell", "lstm", "Recurrent cell.", section="model", choices=("rnn", "lstm", "gru")),
    Option("embedding_dim", 200, "Embedding size E.", section="model", low=1, high=65_536),
    Option("hidden_size", 200, "Hidden size H.", section="model", low=1, high=65_536),
    Option("num_layers", 2, "Stacked recurrent layers.", section="model", aliases=("--layers",),
           low=1, high=64),
    Option("dropout", 0.0, "Dropout on non-recurrent connections.", section="model", low=0.0,
           high=0.999),
    Option("tie_weights", False, "Tie the decoder to the embedding (E == H).", section="model"),
    Option("init_range", 0.1, "Weights from U(-r, r); 0: layer defaults.", section="model",
           low=0.0),
    Option("sampled_softmax", 0, "Train with this many samples (0: full softmax).",
           section="model", low=0),
    Option("decoder_dtype", "float32", "Precision of the decoder's products in training.",
           section="model", choices=("float32", "bfloat16")),
    *trainer_options(
        optimizer="sgd",
        lr=(None, "Learning rate (default: 20 for sgd, 0.001 otherwise)."),
        epochs=13, batch_size=(20, "Parallel streams B (per process under torchrun)."),
        clip=0.25, schedule="zaremba", patience=(0, "Stop after N epochs without better valid perplexity "
                             "(0: never)."),
    ),
]


@train_command(app, OPTIONS)
def train(run: Resolved) -> None:
    """Train a language model; print perplexities per epoch, then valid and test."""
    from seqnlp.models.language_model import ARTIFACT_KIND, LanguageModelConfig
    from seqnlp.models.registry import check_model_size
    from seqnlp.tasks.language_modeling import (
        NAMED_CORPORA,
        LMBatching,
        load_lm_corpus,
        train_language_model,
    )
    from seqnlp.tasks.pipeline import save_trained

    set_threads(run["threads"])
    print_configuration(run, "lm train")
    check_run_paths(run)
    lr = run["lr"] if run["lr"] is not None else (20.0 if run["optimizer"] == "sgd" else 1e-3)
    trainer = trainer_config(run, lr=lr)
    _config_or_exit(lambda: LanguageModelConfig(  # the architecture, before the data is read
        vocab_size=run["sampled_softmax"] + 2, **run.section("model")))
    check_data(run["data"], NAMED_CORPORA, DATA_WORDS, "language-model", CORPUS_FILES)
    corpus = load_lm_corpus(run["data"], run["level"], min_count=run["min_count"],
                            max_vocab=run["max_vocab"] or None)
    echo(f"{printable(run['data'])} ({run['level']} level): vocabulary {len(corpus.vocab):,}; tokens "
         f"train {len(corpus.train):,}, valid {len(corpus.valid):,}, test {len(corpus.test):,}")
    if len(corpus.vocab) <= len(corpus.vocab.specials):
        raise SeqnlpError(f"the vocabulary holds no token: --min-count {run['min_count']} "
                          "drops every training token")
    model_config = _config_or_exit(lambda: LanguageModelConfig(
        vocab_size=len(corpus.vocab), **run.section("model")))
    _config_or_exit(lambda: check_model_size(ARTIFACT_KIND, model_config))
    batching = _config_or_exit(lambda: LMBatching(run["batch_size"], run["bptt"],
                                                  run["variable_bptt"], run["eval_batch_size"]))
    printer = EpochPrinter(_epoch_line)
    result = train_language_model(corpus, model_config, trainer, batching,
                                  resume=run["resume"], on_step=printer,
                                  track=printer.track)
    printer.flush(result.fit.history)
    numbers = {"valid_ppl": result.valid["ppl"], "test_ppl": result.test.get("ppl"),
               "train_config": stored_configuration(run, "lm train")}
    if is_main_process():
        from seqnlp.tasks.language_modeling import LanguageModelTask

        save_trained(run["output"], LanguageModelTask(corpus, batching), result.trained, numbers)
    test = "n/a" if numbers["test_ppl"] is None else f"{numbers['test_ppl']:.2f}"
    echo(f"best valid ppl {numbers['valid_ppl']:.2f}, test ppl {test} after "
         f"{result.fit.steps:,} updates; saved {run['output']}")


def _config_or_exit(build: Any) -> Any:
    """Build a config, turning its ValueError into a usage error (one line, exit 2)."""
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
    threads: int = typer.Option(None, min=1, max=1024, help="torch CPU threads (default: as train "
                                "chooses, see `seqnlp lm train --help`)."),
) -> None:
    """Print the perplexity of MODEL on a split of DATA."""
    from seqnlp.tasks.language_modeling import (
        NAMED_CORPORA,
        evaluate_saved,
        load_language_model,
    )

    set_threads(threads)
    lm = load_language_model(model)
    check_data(data, NAMED_CORPORA, DATA_WORDS, "language-model", CORPUS_FILES)
    result = _config_or_exit(lambda: evaluate_saved(lm, data, split, batch_size, bptt, track))
    typer.echo(f"{split} perplexity {result['ppl']:.2f} (loss {result['loss']:.4f} nats) over "
               f"{int(result['tokens']):,} predicted tokens; "
               f"{100 * result['oov_rate']:.2f}% read as <unk>")
    typer.echo(token_note(int(result["stream_tokens"]), int(result["tokens"]), batch_size))


@app.command()
def generate(
    model: Path = typer.Argument(..., help="A model saved by `seqnlp lm train`."),
    prompt: str = typer.Option("", help="Text to continue (words or characters; "
                                      "default: empty, start a sentence)."),
    strategy: str = typer.Option("greedy", help="greedy | sample | beam."),
    beam: int = typer.Option(5, min=1, max=MAX_BEAM, help="Beam width."),
    temperature: float = typer.Option(1.0, help="Sampling temperature (> 0)."),
    top_k: int = typer.Option(None, min=1, help="Sample among the k most probable (default: all)."),
    top_p: float = typer.Option(None, help="Sample within the nucleus of mass p "
                                 "(default: 1, all)."),
    num_outputs: int = typer.Option(1, "-n", min=1, max=MAX_OUTPUTS, help="Outputs to print."),
    max_len: int = typer.Option(None, min=1, max=MAX_GENERATED,
                                help="Most tokens generated (default 50 words or 200 "
                                "characters)."),
    seed: int = typer.Option(0, min=0, max=MAX_SEED, help="Seed of sampling."),
    no_unk: bool = typer.Option(False, "--no-unk", help="Never generate <unk> (default: allowed)."),
    no_repeat_ngram: int = typer.Option(0, "--no-repeat-ngram", min=0, max=100, metavar="N",
                                        help="Never repeat an N-gram of the prompt and output "
                                        "(3 stops a small model's loops; 0: allow repeats)."),
    threads: int = THREADS,
) -> None:
    """Continue PROMPT; print one output per line (the prompt as read, then the rest)."""
    set_threads(threads)
    from seqnlp.tasks.language_modeling import load_language_model
    from seqnlp.tasks.lm_generation import generate_text, join_tokens

    lm = load_language_model(model)
    result = _config_or_exit(lambda: generate_text(
        lm, prompt, strategy, num_outputs, beam, temperature, top_k, top_p, max_len, seed,
        no_unk, no_repeat_ngram))
    if result.unknown:
        typer.echo(f"note: not in the vocabulary, read as <unk>: {quoted(result.unknown)}",
                   err=True)
    for continuation in result.continuations:
        typer.echo(printable(join_tokens(result.prompt_tokens + continuation, lm.level)))


@app.command()
def score(
    model: Path = typer.Argument(..., help="A model saved by `seqnlp lm train`."),
) -> None:
    """Print `log_prob<TAB>tokens<TAB>unknown<TAB>perplexity<TAB>line` for each line of stdin.

    The log-probability is in nats and counts the line's end (<eos>) as a token. `unknown`
    counts the line's tokens outside the vocabulary: each is scored as `<unk>`, one token
    standing for every rare word, so a line with unknown words scores better than its real
    words would, and its score is not comparable with lines that have none.
    """
    from seqnlp.tasks.language_modeling import load_language_model
    from seqnlp.tasks.lm_generation import score_lines

    lm = load_language_model(model)
    lines = stdin_lines()
    some_unknown = False
    for number, (line, result) in enumerate(zip(lines, score_lines(lm, lines)), start=1):
        if result.unknown:
            some_unknown = True
            typer.echo(f"note: line {number}: read as <unk>: {quoted(result.unknown)}",
                       err=True)
        typer.echo(f"{result.log_prob:.4f}\t{result.num_tokens}\t{len(result.unknown)}\t"
                   f"{result.perplexity:.2f}\t{printable(line)}")
    if some_unknown:
        typer.echo("note: unknown words are scored as <unk>, which stands for every rare "
                   "word: lines with unknown words (third column) score better than their "
                   "words deserve and are not comparable with lines without", err=True)


def quoted(tokens: list[str]) -> str:
    """Tokens as a note shows them: each quoted, so that a space or an empty token shows."""
    return ", ".join(f"'{printable(token)}'" for token in tokens)


def token_note(stream: int, predicted: int, rows: int) -> str:
    """Why the predicted tokens are fewer than the split's (what `lm train` and `data info`
    count): the first token of each row is context only, and a remainder fills no row."""
    left = stream - predicted
    rest = stream % rows
    if left != rows + rest:
        return f"({stream:,} tokens in the split, {left:,} of them not predicted)"
    tail = f" and the last {rest:,} that fill no row" if rest else ""
    return (f"({stream:,} tokens in the split: {left:,} are not predicted, the first token of "
            f"each of the {rows} parallel rows (--batch-size){tail})")


add_config_command(app, "language_model", "lm train")
