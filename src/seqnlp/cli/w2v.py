"""`seqnlp w2v`: train, query, evaluate and plot word vectors (word2vec text/binary or native).

    seqnlp w2v train CORPUS -o vectors.bin [...]     (seqnlp.cli.w2v_train)
    seqnlp w2v similar VECTORS WORD [-n 10]
    seqnlp w2v analogy VECTORS A B C [-n 5]          A is to B as C is to ?
    seqnlp w2v eval VECTORS [--restrict-vocab 30000] [--method 3cosadd|3cosmul]
    seqnlp w2v plot VECTORS --kind heatmap|tsne|pca --words w1,w2 | --top N -o fig.png

NumPy and matplotlib are imported inside the commands, so `seqnlp --help` stays instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from seqnlp.cli.common import printable
from seqnlp.cli.progress import phase
from seqnlp.cli.w2v_train import train_command
from seqnlp.errors import SeqnlpError

if TYPE_CHECKING:
    from seqnlp.embeddings.evaluate import AnalogyResult
    from seqnlp.word2vec.keyedvectors import KeyedVectors

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.command("train")(train_command)

VECTORS_HELP = "Word vectors: a word2vec text or binary file (detected), or a native directory."


def _load(path: Path) -> KeyedVectors:
    from seqnlp.word2vec.keyedvectors import load_vectors

    return load_vectors(path)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns padded to their widest cell; text left-aligned, numbers right-aligned."""
    cells = [[str(c) for c in headers]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    body = cells[1:]
    numeric = [bool(body) and all(_is_number(row[i]) for row in body) for i in range(len(widths))]

    def line(row: Sequence[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(row) for row in cells[1:]])


def _ranking(pairs: Sequence[tuple[str, float]]) -> str:
    return _table(["rank", "word", "cosine"], [(i, w, s) for i, (w, s) in enumerate(pairs, 1)])


def _cell(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@app.command()
def similar(
    vectors: Path = typer.Argument(..., help=VECTORS_HELP),
    word: str = typer.Argument(..., help="The query word."),
    topn: int = typer.Option(10, "-n", "--topn", min=1, help="How many neighbours."),
) -> None:
    """Print the nearest neighbours of WORD by cosine similarity."""
    kv = _load(vectors)
    neighbours = kv.most_similar(word, topn=topn)
    typer.echo(_ranking(neighbours))


@app.command()
def analogy(
    vectors: Path = typer.Argument(..., help=VECTORS_HELP),
    a: str = typer.Argument(..., help="A, in 'A is to B as C is to ?'."),
    b: str = typer.Argument(..., help="B."),
    c: str = typer.Argument(..., help="C."),
    topn: int = typer.Option(5, "-n", "--topn", min=1, help="How many answers."),
) -> None:
    """Answer 'A is to B as C is to ?' by 3CosAdd: most_similar(positive=[B, C], negative=[A])."""
    kv = _load(vectors)
    answers = kv.most_similar(positive=[b, c], negative=[a], topn=topn)
    typer.echo(f"{a} : {b} :: {c} : ?")
    typer.echo(_ranking(answers))


@app.command("eval")
def evaluate(
    vectors: Path = typer.Argument(..., help=VECTORS_HELP),
    restrict_vocab: int = typer.Option(
        30_000, "--restrict-vocab", min=1,
        help="Only the most frequent N words are known (questions with others count as OOV).",
    ),
    method: str = typer.Option("3cosadd", "--method", help="Analogy rule: 3cosadd or 3cosmul."),
    analogies: Path | None = typer.Option(None, "--analogies", help="An analogy file in "
                                            "questions-words.txt format (default: none)."),
    pairs: list[Path] | None = typer.Option(
        None, "--pairs", help="A word-pair file (word1 word2 score per line: WordSim-353, "
        "SimLex-999, MEN, ...); repeatable; each row is named after its file (default: none)."),
    wordsim: Path | None = typer.Option(None, "--wordsim", hidden=True),  # older spellings
    simlex: Path | None = typer.Option(None, "--simlex", hidden=True),  # of --pairs
) -> None:
    """Analogy accuracy per section and word-similarity correlations.

    Without --analogies/--pairs, the analogies, WordSim-353 and SimLex-999 come from the
    `wordsim` dataset in the data home (`seqnlp data get wordsim`); with either option,
    only the files given are evaluated.
    """
    from seqnlp.embeddings.evaluate import METHODS, evaluate_analogies, evaluate_word_pairs
    from seqnlp.fileio import open_binary

    if method not in METHODS:
        raise typer.BadParameter(f"must be one of {', '.join(METHODS)}", param_hint="--method")
    pair_files = [*(pairs or []), *(p for p in (wordsim, simlex) if p is not None)]
    if analogies is None and not pair_files:
        analogies, *pair_files = _default_eval_files()
    for path in (analogies, *pair_files):  # a missing file is found before the vectors load
        if path is not None:
            open_binary(path).close()
    kv = _load(vectors)
    if analogies is not None:
        result = evaluate_analogies(kv, analogies, restrict_vocab=restrict_vocab, method=method)
        typer.echo(f"analogies ({method}, top {restrict_vocab} words): {analogies}")
        typer.echo(_analogy_table(result) + "\n")
    pair_rows = []
    for name, path in zip(row_names(pair_files), pair_files):
        r = evaluate_word_pairs(kv, path)
        pair_rows.append((name, r.pairs, r.oov, r.spearman, r.pearson))
    if pair_rows:
        typer.echo(_table(["dataset", "pairs", "oov", "spearman", "pearson"], pair_rows))


def row_names(paths: list[Path]) -> list[str]:
    """Each file's table row name: its name without compression and type suffixes
    ("wordsim353" for wordsim353.tsv.xz), the whole name where two would read the same."""
    def stem(path: Path) -> str:
        name = path.name
        for suffix in (".xz", ".gz"):
            name = name.removesuffix(suffix)
        return name.rsplit(".", 1)[0] if "." in name.strip(".") else name

    stems = [stem(path) for path in paths]
    return [printable(s if stems.count(s) == 1 else str(path)) for s, path in zip(stems, paths)]


def _default_eval_files() -> tuple[Path, Path, Path]:
    from seqnlp.datasets import split_files

    files = split_files("wordsim")
    return files["analogies"], files["wordsim353"], files["simlex999"]


def _analogy_table(result: AnalogyResult) -> str:
    scores = [*result.sections, result.semantic, result.syntactic, result.total]
    rows = [(s.section, s.correct, s.answered, f"{100.0 * s.accuracy:.2f}", s.oov) for s in scores]
    return _table(["section", "correct", "answered", "accuracy %", "oov"], rows)


@app.command()
def plot(
    vectors: Path = typer.Argument(..., help=VECTORS_HELP),
    kind: str = typer.Option("pca", "--kind", help="heatmap, tsne or pca."),
    words: str | None = typer.Option(None, "--words", help="Comma-separated words to show "
                                     "(either --words or --top is required)."),
    top: int | None = typer.Option(None, "--top", min=1, help="Show the N most frequent words "
                                   "(either --words or --top is required)."),
    output: Path = typer.Option(..., "-o", "--output", help="The PNG file to write."),
    seed: int = typer.Option(0, "--seed", help="t-SNE seed."),
) -> None:
    """Draw a heatmap of raw vectors, or a labelled PCA or t-SNE scatter, as a PNG."""
    from seqnlp.embeddings.plots import KINDS, plot_vectors
    from seqnlp.fileio import check_writable

    if kind not in KINDS:
        raise typer.BadParameter(f"must be one of {', '.join(KINDS)}", param_hint="--kind")
    if (words is None) == (top is None):
        raise typer.BadParameter(
            "give exactly one of --words and --top", param_hint="--words/--top"
        )
    chosen = None if words is None else [w.strip() for w in words.split(",") if w.strip()]
    check_writable(output)
    kv = _load(vectors)
    shown = f"{len(chosen):,} chosen" if chosen is not None else f"the {top:,} most frequent"
    try:
        with phase(f"t-SNE of {shown} words") if kind == "tsne" else nullcontext():
            path = plot_vectors(kv, output, kind, words=chosen, top=top, seed=seed)
    except SeqnlpError:  # a file error is no usage error, though it is a ValueError too
        raise
    except ValueError as exc:  # too few words for t-SNE, an empty --words list
        raise typer.BadParameter(str(exc), param_hint="--words/--top") from None
    typer.echo(f"wrote {path}")
