"""`seqnlp w2v train CORPUS -o vectors.bin`: train word2vec vectors on a text file.

    seqnlp w2v train corpus.txt -o vectors.bin [--architecture skipgram|cbow]
        [--loss negative|hierarchical] [--size 100] [--window 5] [--min-count 5] ...

The corpus holds one sentence per line (whitespace-separated tokens; `.xz`/`.gz` read
transparently; a single huge line, as text8, is cut into 10,000-word pieces). The vectors
are written in word2vec format, binary or text (by default: binary for a `.bin` name),
and, with `--model`, the whole model (config, vocabulary, both matrices) as `.npz`.
`train_command` is registered by `seqnlp.cli.w2v`; Numba is imported only when it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def train_command(
    corpus: Path = typer.Argument(..., help="Text file, one sentence per line (.xz/.gz ok)."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the vectors."),
    architecture: str = typer.Option("skipgram", help="skipgram or cbow."),
    loss: str = typer.Option("negative", help="negative (sampling) or hierarchical (softmax)."),
    size: int = typer.Option(100, "--size", "--vector-size", help="Vector dimension E."),
    window: int = typer.Option(5, help="Largest context distance (shrunk at random)."),
    min_count: int = typer.Option(5, help="Drop words seen fewer times."),
    max_vocab_size: Optional[int] = typer.Option(  # noqa: UP007 (typer needs Optional)
        None, help="Prune the rarest words while counting beyond this many (default: no limit)."),
    sample: float = typer.Option(1e-3, help="Subsampling threshold; 0 disables."),
    negative: int = typer.Option(5, help="Noise words per prediction."),
    ns_exponent: float = typer.Option(0.75, help="Noise distribution: unigram ** this."),
    alpha: Optional[float] = typer.Option(  # noqa: UP007
        None, help="Initial learning rate [default: 0.025 skip-gram, 0.05 CBOW]."),
    min_alpha: float = typer.Option(0.0001, help="Final learning rate (linear decay)."),
    epochs: int = typer.Option(5, help="Passes over the corpus."),
    workers: int = typer.Option(2, help="Training threads (1 is bit-reproducible)."),
    seed: int = typer.Option(1, help="Seed of the initial vectors and every draw."),
    cbow_mean: bool = typer.Option(True, "--cbow-mean/--cbow-sum",
                                   help="CBOW averages or sums the context vectors."),
    binary: Optional[bool] = typer.Option(  # noqa: UP007
        None, "--binary/--text", help="Output format; default: binary for a .bin name."),
    model_path: Optional[Path] = typer.Option(  # noqa: UP007
        None, "--model", help="Also save the whole model (.npz) here (default: vectors only)."),
    progress: Optional[bool] = typer.Option(  # noqa: UP007
        None, "--progress/--no-progress", help="Progress bar; default: on a terminal."),
) -> None:
    """Train word2vec (skip-gram or CBOW) on CORPUS and write the vectors."""
    from seqnlp.fileio import check_writable
    from seqnlp.word2vec.config import Word2VecConfig
    from seqnlp.word2vec.model import EpochReport, Word2Vec

    for path in (output, model_path):  # refused now, not after the training run
        if path is not None:
            check_writable(path)
    try:
        config = Word2VecConfig(
            architecture=architecture, loss=loss, vector_size=size, window=window,
            min_count=min_count, max_vocab_size=max_vocab_size, sample=sample,
            negative=negative, ns_exponent=ns_exponent, alpha=alpha, min_alpha=min_alpha,
            epochs=epochs, workers=workers, seed=seed, cbow_mean=cbow_mean)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    model = Word2Vec(config)
    vocab = model.build_vocab(corpus)
    typer.echo(f"vocabulary: {len(vocab):,} words, corpus {vocab.total_words:,} tokens", err=True)
    def epoch_line(r: EpochReport) -> None:
        # the first epoch also reads and encodes the text (later ones read the cached ids)
        first = " (reading the text included)" if r.epoch == 1 and epochs > 1 else ""
        typer.echo(f"epoch {r.epoch}: loss {r.mean_loss:.4f}, {r.words_per_sec:,.0f} words/s, "
                   f"{r.seconds:.1f} s{first}", err=True)

    model.train(corpus, progress=progress, on_epoch=epoch_line)
    use_binary = output.suffix == ".bin" if binary is None else binary
    model.wv.save_word2vec_format(output, binary=use_binary)
    typer.echo(f"wrote {len(vocab):,} vectors of size {size} to {output}")
    if model_path is not None:
        model.save(model_path)
        typer.echo(f"wrote the model to {model_path}")
