"""`seqnlp tagger`: train and evaluate sequence taggers; segment Chinese text; tag tokens.

    seqnlp tagger train --task cws|ner --data pfr1998|conll2003|PATH [options] -o MODEL
    seqnlp tagger eval MODEL --data pfr1998|conll2003|PATH [--split test|dev]
    seqnlp tagger segment [MODEL] "我爱北京天安门" [--sep " "] [--dict words.txt]
    seqnlp tagger tag MODEL < sentences.txt   (one tokenized sentence per line; --conll)
    seqnlp tagger config MODEL

torch is imported inside the commands, so `seqnlp --help` stays instant.
"""

from __future__ import annotations

import json
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
    load_vectors,
    print_configuration,
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

KIND = "tagger"
TASKS = ("cws", "ner")
ENCODERS = ("lstm", "gru", "rnn", "idcnn")
DATA_HELP = ("pfr1998 (cws; pfr1998-janfeb adds February) or conll2003 (ner), from the data "
             "home, or a file: segmented "
             "Chinese text (cws) or CoNLL columns with the tag last (ner).")
MODEL = typer.Argument(..., help="A model file written by `seqnlp tagger train`.")
ENSEMBLE = typer.Option(None, "--ensemble", "-e", help="cws: another tagger of the same tags "
                        "decoding with the model: the words of the tag path of the best mean "
                        "score (repeatable; default: the model alone).")

OPTIONS = [
    *run_options("Where to write the model."),
    Option("task", None, "cws (Chinese word segmentation, BMES tags over characters) or ner.",
           section="data", choices=TASKS, required=True),
    Option("data", None, DATA_HELP, section="data", required=True),
    Option("dev_fraction", 0.05, "Share of train held out as dev (data without a dev split).",
           section="data", low=0.0, high=0.5),
    Option("scheme", None, "ner: train on tags converted to bio or bioes (default: as stored).",
           section="data", choices=("bio", "bioes")),
    Option("max_vocab", 0, "Most token types, <pad> and <unk> included (0: all).",
           section="data", aliases=("--vocab-size",), low=0),
    Option("min_count", 1, "Drop training tokens seen fewer times.", section="data", low=1),
    Option("bigram_min_count", 2, "cws: drop character bigrams seen fewer times.",
           section="data", low=1),
    Option("bigram_max_vocab", 0, "cws: keep at most this many character bigrams, the most "
           "frequent (0: all).", section="data", low=0),
    Option("lexicon", None, "cws: a word list (one word per line) of the segmentation "
           "revision to train toward: a training word it lacks but that is a sequence of its "
           "words is cut into them (e.g. the PKU bakeoff's pku_training_words.utf8 over "
           "pfr1998; default: the data as segmented).", section="data", type=Path),
    Option("embeddings", None, "Token vectors in word2vec text or binary format (default: none, "
           "random vectors).",
           section="data", type=Path),
    Option("bigram_embeddings", None, "cws: character-bigram vectors in word2vec format (their "
           "size sets --bigram-dim; default: none, random vectors).", section="data", type=Path),
    Option("vector_words", 0, "With --embeddings: up to this many of the vectors' words (most "
           "frequent first) join the vocabulary, so that words the training data lacks keep "
           "their pretrained vectors, and unknown words are also looked up lower-cased "
           "(0: training words only).", section="data", low=0, high=10_000_000),
    Option("encoder", "lstm", "Encoder (idcnn: iterated dilated CNN, the fast one).",
           section="model", choices=ENCODERS),
    Option("embedding_dim", 100, "Token embedding size.", section="model", low=1, high=4096),
    Option("bigram_dim", None, "cws: character-bigram embedding size (default 50 for cws, "
           "0 for ner).", section="model", type=int, low=0, high=4096),
    Option("char_filters", None, "ner: character-CNN features per word (default 30 for ner, "
           "0 for cws).", section="model", type=int, low=0, high=4096),
    Option("hidden_size", 100, "Hidden units per direction (idcnn: channels).",
           section="model", low=1, high=8192),
    Option("num_layers", 1, "Recurrent layers (idcnn: dilated blocks).", section="model",
           aliases=("--layers",), low=1, high=16),
    Option("dropout", 0.2, "Dropout on inputs, outputs and between layers.", section="model",
           low=0.0, high=0.9),
    Option("word_dropout", 0.0, "In training, read each token (and bigram) as <unk> with this "
           "probability.", section="model", low=0.0, high=0.9),
    Option("output_layer", "crf", "crf (a linear-chain CRF) or softmax (one decision per "
           "position).",
           section="model", choices=("crf", "softmax")),
    Option("constrained", True, "Decode under the tag scheme's allowed transitions.",
           section="model", flags=("--constrained/--unconstrained",)),
    *trainer_options(epochs=10, batch_size=(32, "Sentences per update (per process under "
                                                "torchrun)."), clip=5.0, patience=3),
    Option("test", False, "Also report the test score (the final number only).", section=RUN,
           flags=("--test/--no-test",)),
]


@train_command(app, OPTIONS)
def train(run: Resolved) -> None:
    """Train a tagger, keep the epoch of best dev F1, and save it."""
    set_threads(run["threads"])
    print_configuration(run, "tagger train")
    check_run_paths(run)
    trainer = trainer_config(run)
    options = _model_options(run)
    vectors = load_vectors(run["embeddings"]) if run["embeddings"] else None
    bigram_vectors = (load_vectors(run["bigram_embeddings"]) if run["bigram_embeddings"]
                      else None)

    from seqnlp.tasks.pipeline import save_trained, train_task
    from seqnlp.tasks.tagging import TaggingTask
    from seqnlp.tasks.tagging_data import load_tagging_data

    data = load_tagging_data(run["task"], run["data"], run["dev_fraction"], run["seed"],
                             run["scheme"], _lexicon_words(run["lexicon"], None, run["task"]))
    echo(f"data: {data.name} ({data.task}, {data.scheme}): {len(data.train):,} train, "
         f"{len(data.dev):,} dev, {len(data.test):,} test sentences; tags "
         f"{' '.join(data.tag_names)}")
    task = TaggingTask(data, run["batch_size"], run["max_vocab"] or None, run["min_count"],
                       run["bigram_min_count"], vectors, bigrams=bool(options["bigram_dim"]),
                       chars=bool(options["char_filters"]),
                       bigram_max_vocab=run["bigram_max_vocab"] or None,
                       vector_words=run["vector_words"], bigram_vectors=bigram_vectors)
    printer = EpochPrinter(_epoch_line)
    trained = train_task(task, options, trainer, resume=run["resume"], on_start=_print_start,
                         on_step=printer)
    printer.flush(trained.fit.history)
    extra = {"dev_f1": trained.dev.get("f1"), "train_seconds": trained.seconds,
             "train_config": stored_configuration(run, "tagger train")}
    if run["test"] and data.test:
        extra["test"] = _report(trained, task, data)
    if is_main_process():
        save_trained(run["output"], task, trained, extra)
    echo(f"dev F1 {trained.dev.get('f1', float('nan')):.4f}; trained in {trained.seconds:.1f} s; "
         f"model saved to {run['output']}")


def _model_options(run: Resolved) -> dict[str, Any]:
    options = dict(run.section("model"))
    cws = run["task"] == "cws"
    if options["bigram_dim"] is None:
        options["bigram_dim"] = 50 if cws else 0
    if options["char_filters"] is None:
        options["char_filters"] = 0 if cws else 30
    if cws and options["char_filters"]:
        raise SeqnlpError("--char-filters reads the characters of words: it is for --task ner")
    if run["bigram_embeddings"] and not (cws and options["bigram_dim"]):
        raise SeqnlpError("--bigram-embeddings are for --task cws with bigrams (--bigram-dim "
                          "not 0)")
    options["bidirectional"] = options["encoder"] != "idcnn"
    return options


def _epoch_line(item: dict[str, Any]) -> str:
    f1 = item["metrics"].get("f1")
    dev = "" if f1 is None else f", dev F1 {f1:.4f}"
    return f"epoch {item['epoch'] + 1}: train loss {item['train_loss']:.4f}{dev}"


def _print_start(model: Any, vocabs: dict[str, Any], info: dict[str, Any]) -> None:
    from seqnlp.nn import count_parameters

    sizes = ", ".join(f"{name} {len(vocab):,}" for name, vocab in vocabs.items())
    echo(f"vocabularies: {sizes}; parameters: {count_parameters(model):,}")
    if info.get("coverage") is not None:
        echo(f"pretrained vectors cover {info['coverage']:.1%} of the vocabulary")
    if info.get("bigram_coverage") is not None:
        echo(f"pretrained bigram vectors cover {info['bigram_coverage']:.1%} of the bigrams")


def _report(trained: Any, task: Any, data: Any) -> dict[str, float]:
    """Score the test split once and print it."""
    from types import SimpleNamespace

    from seqnlp.tasks.tagging_eval import evaluate_tagger

    view = SimpleNamespace(model=trained.model, vocabs=trained.vocabs,
                           normalize=task.extra()["normalize"])
    scores = evaluate_tagger(view, data, "test")
    echo(scores.pop("_text"))
    return scores


@app.command("eval")
def evaluate(
    model: Path = MODEL,
    data: str = typer.Option(..., "--data", help=DATA_HELP),
    split: str = typer.Option("test", help="test or dev."),
    batch_size: int = typer.Option(64, min=1, max=4096, help="Sentences per batch."),
    ensemble: list[Path] | None = ENSEMBLE,
    lexicon: Path | None = typer.Option(None, "--lexicon", help="cws: re-cut the training "
                                        "text (its words decide OOV) and the dev split with "
                                        "this word list, as `tagger train --lexicon` does "
                                        "(default: the list the model was trained with, "
                                        "when that file is here)."),
    threads: int = THREADS,
) -> None:
    """Print a saved tagger's scores on a split: word P/R/F1 with OOV and IV recall (cws),
    entity P/R/F1 overall and per type (ner)."""
    set_threads(threads)
    from seqnlp.models import load_model
    from seqnlp.tasks.tagging_data import load_tagging_data
    from seqnlp.tasks.tagging_eval import evaluate_tagger

    if split not in ("test", "dev"):
        raise SeqnlpError(f"--split must be test or dev, got {split!r}")
    loaded = load_model(model, expect=KIND)
    if ensemble and loaded.task != "cws":
        raise SeqnlpError("--ensemble is for cws taggers")
    members = [loaded, *(_segmenter(path) for path in ensemble or ())]
    _same_tags(members)
    scheme = loaded.config.scheme if loaded.task == "ner" else None
    trained_on = loaded.train_config  # the same dev cut: OOV words are those of its train
    fraction = trained_on.get("data", {}).get("dev_fraction", 0.05)
    seed = trained_on.get("trainer", {}).get("seed", 0)
    words = _lexicon_words(lexicon, trained_on.get("data", {}).get("lexicon"), loaded.task)
    dataset = load_tagging_data(loaded.task, data, fraction, seed, scheme, words)
    if not getattr(dataset, split):
        raise SeqnlpError(f"{data} has no {split} split")
    scores = evaluate_tagger(members if len(members) > 1 else loaded, dataset, split,
                             batch_size)
    typer.echo(scores.pop("_text"))


@app.command()
def segment(
    texts: list[str] | None = typer.Argument(None, help="[MODEL] then texts: a first argument "
                                             "ending in .pt that names a file is the model; "
                                             "no texts: read --input or stdin."),
    model: Path | None = typer.Option(None, "--model", "-m", help="A tagger trained with "
                                      "--task cws (default: the segmenter shipped with seqnlp)."),
    input_file: Path | None = typer.Option(None, "--input", "-i", help="A UTF-8 file, one "
                                           "sentence or paragraph per line (default: the "
                                           "texts given, else stdin)."),
    sep: str = typer.Option(" ", "--sep", help="Written between words."),
    dictionary: Path | None = typer.Option(None, "--dict", help="A user word list, one word "
                                           "per line: these words are never cut (default: none)."),
    batch_size: int = typer.Option(256, min=1, max=65_536, help="Pieces per forward pass."),
    ensemble: list[Path] | None = ENSEMBLE,
    threads: int = THREADS,
) -> None:
    """Segment Chinese text: one output line per input line, words joined by --sep."""
    set_threads(threads)
    from seqnlp.tasks.segment import segment_lines

    texts = list(texts or [])
    if model is None and texts and texts[0].endswith(".pt") and Path(texts[0]).is_file():
        model = Path(texts.pop(0))
    loaded = _segmenter(model)
    if ensemble:
        loaded = [loaded, *(_segmenter(path) for path in ensemble)]
        _same_tags(loaded)
    words = _read_words(dictionary) if dictionary else ()
    lines = texts or _input_lines(input_file)
    for words_of_line in segment_lines(loaded, lines, batch_size, words):
        typer.echo(sep.join(words_of_line))


def _lexicon_words(given: Path | None, trained_with: str | None, task: str
                   ) -> list[str] | None:
    """The words of --lexicon, else (eval) of the list the model was trained with when it is
    here; None: the data as segmented."""
    from seqnlp.text.chinese import read_word_list

    if given is not None and task != "cws":
        raise SeqnlpError("--lexicon re-cuts Chinese words: it is for --task cws")
    path = given or (Path(trained_with) if trained_with else None)
    if path is None:
        return None
    if given is None and not path.is_file():
        echo(f"note: the model was trained with --lexicon {path}, which is not here: the "
             "data is read as segmented (give --lexicon)")
        return None
    echo(f"data re-cut with the word list {path}")
    return list(read_word_list(path))


def _same_tags(members: list[Any]) -> None:
    tags = members[0].model.config.tags
    for member in members[1:]:
        if member.model.config.tags != tags:
            raise SeqnlpError(f"--ensemble: {member.path} tags {' '.join(member.model.config.tags)}"
                              f", not {' '.join(tags)}")


def _segmenter(model: Path | None) -> Any:
    """The named cws tagger, or the one shipped with seqnlp."""
    from seqnlp.models import load_model
    from seqnlp.pretrained import default_segmenter

    if model is None:
        return default_segmenter()
    loaded = load_model(model, expect=KIND)
    if loaded.task != "cws":
        raise SeqnlpError(f"{model}: is a {loaded.task} tagger; segmenting needs a cws one")
    return loaded


@app.command()
def tag(
    model: Path = MODEL,
    input_file: Path | None = typer.Option(None, "--input", "-i", help="Tokenized text, one "
                                           "sentence per line (default: stdin)."),
    output_format: str = typer.Option("conll", "--format", help="conll (token TAB tag, a "
                                      "blank line between sentences) or json (spans)."),
    batch_size: int = typer.Option(64, min=1, max=65_536, help="Sentences per batch."),
    threads: int = THREADS,
) -> None:
    """Tag tokenized sentences with a saved tagger."""
    set_threads(threads)
    from seqnlp.models import load_model
    from seqnlp.tasks.segment import tag_sentences
    from seqnlp.text.tagging import spans_from_tags

    if output_format not in ("conll", "json"):
        raise SeqnlpError(f"--format must be conll or json, got {output_format!r}")
    loaded = load_model(model, expect=KIND)
    sentences = [line.split() for line in _input_lines(input_file)]
    for tokens, tags in zip(sentences, tag_sentences(loaded, sentences, batch_size)):
        if output_format == "conll":
            typer.echo("".join(f"{t}\t{g}\n" for t, g in zip(tokens, tags)))
        else:
            spans = spans_from_tags(tags, loaded.config.scheme)
            typer.echo(json.dumps({"tokens": tokens, "spans": [
                {"start": s.start, "end": s.end, "type": s.label,
                 "text": " ".join(tokens[s.start:s.end])} for s in spans]}, ensure_ascii=False))


add_config_command(app, KIND, "tagger train")


def _input_lines(path: Path | None) -> list[str]:
    """The lines of `path`, or of stdin (`stdin_lines`: strict UTF-8, bounded lines)."""
    from seqnlp.fileio import iter_lines

    if path is not None:
        return [text for _, text in iter_lines(path, allow_empty=True)]
    if sys.stdin.isatty():
        raise SeqnlpError("give texts as arguments, --input FILE, or pipe lines on stdin")
    return stdin_lines()


def _read_words(path: Path) -> list[str]:
    from seqnlp.fileio import iter_lines

    return [text.strip() for _, text in iter_lines(path) if text.strip()]
