"""`seqnlp data`: list, fetch, verify and inspect the benchmark data sets of the registry.

Each command calls one function of `seqnlp.datasets` and prints its result; errors
(`DatasetError`, `ChecksumError`) reach `seqnlp.cli.main`, which prints them as one line.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False)

NAME = typer.Argument(..., help="Dataset name (see `seqnlp data list`).")


def _bytes(size: int) -> str:
    """A size for people: 1,240,199 -> "1.2 MB"."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


@app.command("list")
def list_datasets() -> None:
    """List every known dataset: whether it is in the data home, its size, what it is."""
    from seqnlp.datasets import data_home, dataset_status, iter_specs

    typer.echo(f"data home: {data_home()}")
    typer.echo(f"{'NAME':<12} {'PRESENT':<14} {'SIZE':>9}  DESCRIPTION")
    for spec in iter_specs():
        status = dataset_status(spec.name)
        present = {"complete": "yes", "absent": "no", "changed": "changed"}.get(
            status.state, f"partial {len(status.present)}/{len(spec.files)}"
        )
        size = status.size if status.present else spec.stored_size
        typer.echo(f"{spec.name:<12} {present:<14} {_bytes(size):>9}  {spec.description}")


@app.command()
def info(
    name: str = NAME,
    stats: bool = typer.Option(
        True, "--stats/--no-stats", help="Count the splits with the readers when present."
    ),
) -> None:
    """Describe a dataset: license, URLs, files, published split sizes, and its counts."""
    from seqnlp.datasets import dataset_status, get_spec

    spec = get_spec(name)
    typer.echo(f"{spec.name}: {spec.description}")
    typer.echo(f"license: {spec.license}")
    _echo_list("urls:", spec.urls)
    typer.echo("files (stored form; raw form; download):")
    for data_file in spec.files:
        for i, form in enumerate(data_file.forms):
            key = data_file.key if i == 0 else ""
            typer.echo(f"  {key:<19} {form.name:<28} {form.size:>12,} B  {form.sha256}")
        source = data_file.source
        typer.echo(f"  {'':<19} from {source.url if source else '(no download; use --from)'}")
    typer.echo("published split sizes:")
    _echo_sizes((s.split, f"{s.count:,} {s.unit}") for s in spec.splits)
    if spec.notes:
        typer.echo(f"notes: {spec.notes}")
    status = dataset_status(spec.name)
    typer.echo(f"data home: {status.folder} ({_state(status)})")
    if stats and status.complete:
        _echo_statistics(spec.name)


def _state(status: Any) -> str:
    """The state of a dataset in the data home, and what to run when it is not usable."""
    verify = f"run `seqnlp data verify {status.name}`"
    if status.changed:
        return f"changed: {'; '.join(status.changed)}; {verify}"
    if status.complete and not status.verified:
        return f"complete, not verified by this seqnlp: {verify}"
    return str(status.state)


def _echo_statistics(name: str) -> None:
    """Print the readers' counts beside the published sizes."""
    from seqnlp.datasets.stats import compare_statistics

    typer.echo("statistics (counted by the seqnlp.text readers):")
    rows = []
    for check in compare_statistics(name):
        size = check.measured
        verdict = "ok" if check.ok else (
            "unpublished" if check.expected is None else f"expected {check.expected:,}"
        )
        rows.append((size.split, f"{size.count:,} {size.unit} ({verdict})"))
    _echo_sizes(rows)


def _echo_list(label: str, items: Iterable[str]) -> None:
    for i, item in enumerate(items):
        typer.echo(f"{label if i == 0 else '':<9}{item}")


def _echo_sizes(rows: Iterable[tuple[str, str]]) -> None:
    """One line per split, its sizes joined in the order given."""
    by_split: dict[str, list[str]] = {}
    for split, text in rows:
        by_split.setdefault(split, []).append(text)
    for split, texts in by_split.items():
        typer.echo(f"  {split:<19} {', '.join(texts)}")


@app.command()
def get(
    name: str = NAME,
    from_dir: Path | None = typer.Option(
        None, "--from", help="Import from this folder instead of downloading "
        "(default: download from the URL).",
        file_okay=False,
    ),
) -> None:
    """Download a dataset (or import it with --from DIR) and verify every file's sha256."""
    from seqnlp.datasets import fetch, get_spec
    from seqnlp.errors import ChecksumError, DatasetError

    try:
        folder = fetch(name, from_dir=from_dir)
    except ChecksumError as exc:
        raise DatasetError(f"{exc}; nothing was installed: the file is damaged or not the "
                           f"version the registry knows (see `seqnlp data info {name}`)"
                           ) from None
    count = len(get_spec(name).files)
    typer.echo(f"{name}: {count} files verified in {folder}")


@app.command()
def verify(name: str = NAME) -> None:
    """Rehash a dataset's files in the data home; exit 1 on any mismatch or missing file.

    When every file matches, the files are recorded as verified again (a dataset reported
    as changed, e.g. after copying the data home, becomes usable).
    """
    from seqnlp.datasets import verify as verify_dataset
    from seqnlp.datasets.home import get_command
    from seqnlp.errors import SeqnlpError

    checks = verify_dataset(name)
    for check in checks:
        line = f"{check.status:<9} {check.key:<19} {check.name}"
        if check.status == "mismatch":
            line += f"  expected {check.expected}, got {check.actual}"
        typer.echo(line)
    failed = sum(not check.ok for check in checks)
    if failed:
        raise SeqnlpError(f"{name}: {failed} of {len(checks)} files failed; "
                          f"run `{get_command(name)}` to replace them")
    typer.echo(f"{name}: all {len(checks)} files ok")


@app.command()
def path(name: str = NAME) -> None:
    """Print the dataset's folder in the data home (an error when it is not complete)."""
    from seqnlp.datasets import split_files

    paths = split_files(name)
    typer.echo(str(next(iter(paths.values())).parent))


@app.command()
def text(
    name: str = NAME,
    output: Path = typer.Option(..., "-o", "--output", help="The text file to write."),
) -> None:
    """Write the running text of imdb, ptb or wikitext-2, one sentence or review per line
    (for `seqnlp w2v train`; IMDB as benchmarks/word2vec.py prepares it)."""
    from seqnlp.datasets.text_export import export_text
    from seqnlp.fileio import check_writable

    check_writable(output)
    lines, tokens = export_text(name, output)
    typer.echo(f"{name}: wrote {lines:,} lines, {tokens:,} tokens to {output}")
