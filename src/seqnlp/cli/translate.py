"""`seqnlp translate`: train, evaluate and run encoder-decoder translation models.

    seqnlp translate train --data multi30k --src de --tgt en [options] -o MODEL
    seqnlp translate train --data SRC_FILE,TGT_FILE [options] -o MODEL
    seqnlp translate eval MODEL [--split test2016|val | --data SRC_FILE,TGT_FILE] [--beam K]
    seqnlp translate run MODEL "ein mann fährt fahrrad ." [--beam K] [--attention-plot a.png]
    seqnlp translate run MODEL < sentences.txt      (one sentence per line, batched)
    seqnlp translate config MODEL

torch is imported inside the commands, so `seqnlp --help` stays instant.
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
from seqnlp.errors import SeqnlpError, one_of

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

KIND = "seq2seq"
SCORES = ("dot", "scaled_dot", "general", "scaled_general", "additive", "concat")
DATA_HELP = ("multi30k (from the data home: seqnlp data get multi30k) or two parallel text "
             "files as SRC_FILE,TGT_FILE (line i of one translates line i of the other).")
MODEL = typer.Argument(..., help="A model file written by `seqnlp translate train`.")

OPTIONS = [
    *run_options("Where to write the model."),
    Option("data", None, DATA_HELP, section="data", required=True),
    Option("src", "de", "Source language (multi30k: de or en).", section="data"),
    Option("tgt", "en", "Target language (multi30k: en or de).", section="data"),
    Option("dev_fraction", 0.05, "Share of the pairs held out as dev (files only; multi30k "
           "has val).", section="data", low=0.0, high=0.5),
    Option("tokenizer", "sentencepiece", "sentencepiece (subword units learnt on the "
           "training side, stored in the model) or words (punctuation split off).",
           section="data", choices=("sentencepiece", "words")),
    Option("vocab_size", 8000, "sentencepiece: pieces per language; words: the most tokens "
           "per language, specials included (0: all).", section="data", low=0,
           high=1_000_000),
    Option("subword_type", "bpe", "sentencepiece model: bpe or unigram.", section="data",
           choices=("bpe", "unigram")),
    Option("min_count", 1, "words: drop training tokens seen fewer times.", section="data",
           low=1),
    Option("lowercase", False, "words: lowercase all text.", section="data",
           flags=("--lowercase/--no-lowercase",)),
    Option("max_length", 100, "Leave out training pairs with more tokens on either side.",
           section="data", low=1, high=10_000),
    Option("embedding_dim", 256, "Source and target embedding size.", section="model", low=1,
           high=4096),
    Option("hidden_size", 256, "Encoder hidden units per direction.", section="model", low=1,
           high=8192),
    Option("decoder_hidden_size", 0, "Decoder hidden units (0: the encoder's output size, "
           "directions included).", section="model", low=0, high=8192),
    Option("num_layers", 1, "Encoder layers.", section="model", low=1, high=16),
    Option("cell", "gru", "Recurrent cell of encoder and decoder.", section="model",
           choices=("gru", "lstm")),
    Option("bidirectional", True, "The encoder reads both ways.", section="model",
           flags=("--bidirectional/--unidirectional",)),
    Option("attention", "luong", "luong (attend after the decoder step, input feeding), "
           "bahdanau (attend before it) or none (no attention, the baseline).",
           section="model", choices=("luong", "bahdanau", "none")),
    Option("score", None, "Attention score (default: scaled_general for luong, additive "
           "for bahdanau).", section="model", choices=SCORES),
    Option("input_feeding", True, "luong: feed the previous attentional state to the decoder.",
           section="model", flags=("--input-feeding/--no-input-feeding",)),
    Option("dropout", 0.3, "Dropout on embeddings, encoder states and decoder outputs.",
           section="model", low=0.0, high=0.9),
    Option("teacher_forcing", 1.0, "Share of training steps fed the gold previous word (the "
           "rest get the model's own).", section="model", low=0.0, high=1.0),
    Option("label_smoothing", 0.1, "Target probability spread over the vocabulary (0 uses "
           "the fused output layer and loss).", section="model", low=0.0, high=0.9),
    Option("tie_embeddings", False, "Share the output layer's weight with the target "
           "embedding (needs --embedding-dim equal to the decoder size).", section="model",
           flags=("--tie-embeddings/--no-tie-embeddings",)),
    *trainer_options(epochs=10, lr=2e-3, clip=1.0, patience=3,
                     batch_size=(64, "Sentence pairs per update.")),
    Option("test", False, "Also report test scores (greedy) after training.", section=RUN,
           flags=("--test/--no-test",)),
]


@train_command(app, OPTIONS)
def train(run: Resolved) -> None:
    """Train a translation model, keep the epoch of best dev BLEU (greedy), and save it."""
    set_threads(run["threads"])
    print_configuration(run, "translate train")
    check_run_paths(run)
    trainer = trainer_config(run)

    import seqnlp.models.seq2seq  # noqa: F401  (registers the seq2seq kind)
    from seqnlp.tasks.pipeline import save_trained, train_task
    from seqnlp.tasks.translation import TranslationTask, evaluate_translator
    from seqnlp.tasks.translation_data import load_parallel_data

    options = _model_options(run)
    data = load_parallel_data(run["data"], run["src"], run["tgt"], run["dev_fraction"],
                              run["seed"])
    echo(f"data: {data.name} ({data.source_lang} -> {data.target_lang}): {len(data.train):,} "
         f"train, {len(data.dev):,} dev, {len(data.test):,} test pairs"
         + (f" ({data.dropped:,} training pairs with an empty side left out)"
            if data.dropped else ""))
    task = TranslationTask(data, run["tokenizer"], run["vocab_size"], run["subword_type"],
                           run["min_count"], run["lowercase"], run["batch_size"],
                           run["max_length"])
    printer = EpochPrinter(_epoch_line)
    trained = train_task(task, options, trainer, resume=run["resume"], on_start=_print_start,
                         on_step=printer)
    printer.flush(trained.fit.history)
    extra: dict[str, Any] = {"dev_bleu": trained.dev.get("bleu"),
                             "train_seconds": trained.seconds,
                             "train_config": stored_configuration(run, "translate train")}
    if run["test"] and data.test:
        translator = task.translator(trained.model, trained.vocabs)
        scores = evaluate_translator(translator, data.test)
        extra["test_bleu"] = scores["bleu"]
        echo(f"test: BLEU {scores['bleu']:.2f} ({scores['bleu_signature']}), chrF "
             f"{scores['chrf']:.2f}")
    if is_main_process():
        save_trained(run["output"], task, trained, extra)
    echo(f"dev BLEU {trained.dev.get('bleu', float('nan')):.2f}; trained in "
         f"{trained.seconds:.1f} s; model saved to {run['output']}")


def _model_options(run: Resolved) -> dict[str, Any]:
    """The model options, checked together before any data is read (vocabulary sizes
    are placeholders here)."""
    from seqnlp.models.seq2seq import Seq2SeqConfig

    options = {k: v for k, v in run.section("model").items() if v is not None}
    try:
        Seq2SeqConfig(source_vocab_size=5, target_vocab_size=5, **options)
    except ValueError as exc:
        raise SeqnlpError(_option_message(str(exc))) from None
    return options


def _option_message(message: str) -> str:
    """A config message in the command line's option names (`--decoder-hidden-size`)."""
    import re

    return re.sub(r"\b(decoder_hidden_size|embedding_dim|tie_embeddings|hidden_size|score)\b",
                  lambda m: "--" + m.group(1).replace("_", "-"), message)


def _epoch_line(item: dict[str, Any]) -> str:
    metrics = item["metrics"]
    dev = "" if "bleu" not in metrics else (f", dev BLEU {metrics['bleu']:.2f}, chrF "
                                            f"{metrics['chrf']:.2f}, loss {metrics['loss']:.3f}")
    return f"epoch {item['epoch'] + 1}: train loss {item['train_loss']:.4f}{dev}"


def _print_start(model: Any, vocabs: dict[str, Any], info: dict[str, Any]) -> None:
    from seqnlp.nn import count_parameters

    sizes = ", ".join(f"{name} {len(vocab):,}" for name, vocab in vocabs.items())
    echo(f"vocabularies: {sizes}; parameters: {count_parameters(model):,}; training pairs "
         f"{info.get('train_pairs', 0):,} ({info.get('left_out', 0):,} longer than "
         "--max-length left out)")


def _load(model: Path) -> tuple[Any, list[str]]:
    """The translator of a saved model, and its [source, target] languages."""
    import seqnlp.models.seq2seq  # noqa: F401  (registers the seq2seq kind)
    from seqnlp.models import load_model
    from seqnlp.tasks.translation import Translator

    loaded = load_model(model, expect=KIND)
    try:
        translator = Translator.from_loaded(loaded)
    except ValueError as exc:
        raise SeqnlpError(f"{model}: damaged tokenizer ({exc})") from None
    return translator, list(loaded.languages or ["de", "en"])


BEAM = typer.Option(1, "--beam", min=1, max=100, help="Beam size (1: greedy search).")
ALPHA = typer.Option(1.0, "--alpha", min=0.0, max=10.0, help="Beam search's GNMT "
                     "length-penalty exponent (0: raw log-probability).")
STOPPING = typer.Option("heuristic", "--stopping", help="Beam search's stopping rule: "
                        "heuristic (a sentence closes once no alive prefix would beat its "
                        "--beam finished ones by ending now) or exact (while any could, by the "
                        "length penalty's bound; slower).")
BATCH = typer.Option(64, "--batch-size", min=1, max=4096, help="Sentences decoded together.")
REPLACE_UNK = typer.Option(False, "--replace-unk/--no-replace-unk", help="Replace each "
                           "unknown output word by the source token it attends to most.")


def _stopping(value: str) -> str:
    from seqnlp.decoding.beam import STOPPING as RULES

    if value not in RULES:
        raise SeqnlpError(f"--stopping must be one of {one_of(RULES)}, got {value!r}")
    return value


@app.command("eval")
def evaluate(
    model: Path = MODEL,
    split: str = typer.Option("test2016", "--split", help="multi30k: test2016 or val."),
    data: str = typer.Option("multi30k", "--data", help="multi30k, or two parallel files "
                             "SRC_FILE,TGT_FILE to score instead of a split."),
    beam: int = BEAM,
    alpha: float = ALPHA,
    stopping: str = STOPPING,
    batch_size: int = BATCH,
    replace_unk: bool = REPLACE_UNK,
    threads: int = THREADS,
) -> None:
    """Print sacreBLEU (cased, detokenized, with its signature), chrF and tokenized
    lowercased BLEU of a saved model, and its decoding speed."""
    set_threads(threads)
    from seqnlp.tasks.translation import evaluate_translator
    from seqnlp.tasks.translation_data import eval_pairs
    from seqnlp.tasks.translation_eval import format_scores

    translator, languages = _load(model)
    name, pairs = eval_pairs(data, split, languages[0], languages[1])
    if not pairs:
        raise SeqnlpError(f"{name}: holds no sentence pairs to score")
    scores = evaluate_translator(translator, pairs, beam, batch_size,
                                 alpha if beam > 1 else 0.0, replace_unk,
                                 _stopping(stopping))
    typer.echo(format_scores(scores, name))


@app.command()
def run(
    model: Path = MODEL,
    texts: list[str] | None = typer.Argument(None, help="Sentences to translate (none: one "
                                             "per line from --input or stdin)."),
    input_file: Path | None = typer.Option(None, "--input", "-i", help="A UTF-8 file, one "
                                           "sentence per line (default: stdin)."),
    beam: int = BEAM,
    alpha: float = ALPHA,
    stopping: str = STOPPING,
    n_best: int = typer.Option(1, "--n-best", min=1, max=100, help="Translations per "
                               "sentence, best first, tab-separated with their "
                               "log-probabilities when above 1 (at most --beam)."),
    batch_size: int = BATCH,
    replace_unk: bool = REPLACE_UNK,
    attention_plot: Path | None = typer.Option(None, "--attention-plot", help="Draw the "
                                               "attention matrix of the first sentence as a "
                                               "labelled heatmap (PNG; default: no picture)."),
    threads: int = THREADS,
) -> None:
    """Translate sentences: one output line per input line."""
    set_threads(threads)
    from seqnlp.cli.common import check_output

    if n_best > beam:
        raise SeqnlpError(f"--n-best {n_best} needs --beam of at least {n_best}")
    check_output(attention_plot, "--attention-plot")
    translator, _ = _load(model)
    if attention_plot is not None and translator.model.config.attention == "none":
        raise SeqnlpError(f"{model}: has no attention (trained with --attention none); "
                          "drop --attention-plot")
    lines = list(texts or []) or _input_lines(input_file)
    outputs = translator.translate(lines, beam, batch_size, alpha if beam > 1 else 0.0,
                                   n_best, replace_unk, attention=attention_plot is not None,
                                   stopping=_stopping(stopping))
    for output in outputs:
        if n_best == 1:
            typer.echo(printable(output.text))
        else:
            for text, log_prob in [(output.text, output.log_prob), *output.alternatives]:
                typer.echo(f"{printable(text)}\t{log_prob:.4f}")
    if attention_plot is not None and outputs and outputs[0].attention is not None:
        from seqnlp.tasks.attention_plot import plot_attention

        first = outputs[0]
        plot_attention(first.attention, first.source_tokens, [*first.tokens, "</s>"],
                       attention_plot, title=printable(lines[0])[:80])
        typer.echo(f"attention of sentence 1 drawn to {attention_plot}", err=True)


def _input_lines(path: Path | None) -> list[str]:
    from seqnlp.fileio import iter_lines

    if path is not None:
        return [text for _, text in iter_lines(path, allow_empty=True)]
    if sys.stdin.isatty():
        raise SeqnlpError("give sentences as arguments, --input FILE, or pipe lines on stdin")
    return stdin_lines()


add_config_command(app, KIND, "translate train")
