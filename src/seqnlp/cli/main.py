"""The `seqnlp` command line: one typer app with a sub-app per task.

Sub-apps are registered from `SUBCOMMANDS`; each module defines `app` and imports torch,
numba or matplotlib only inside its commands, so that `seqnlp --help` stays instant.
A `SeqnlpError` is printed as one line and the exit status is 1; `--debug` shows the
traceback instead.
"""

from __future__ import annotations

import importlib
import sys

import typer

from seqnlp.errors import SeqnlpError

# (name, module, help). Each module exposes a `typer.Typer` named `app`.
SUBCOMMANDS: list[tuple[str, str, str]] = [
    ("data", "seqnlp.cli.data", "List, fetch, verify and inspect benchmark data sets."),
    ("w2v", "seqnlp.cli.w2v", "Train, query, evaluate and plot word vectors."),
    ("classify", "seqnlp.cli.classify", "Train, evaluate and apply sequence classifiers."),
    ("lm", "seqnlp.cli.lm", "Train, evaluate and sample recurrent language models."),
]

app = typer.Typer(
    name="seqnlp",
    help="Word vectors and the networks that read text as a sequence or a tree.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show a full traceback on errors."),
) -> None:
    """seqnlp: word2vec, recurrent and recursive networks, and the tasks built on them."""


@app.command()
def version() -> None:
    """Print the seqnlp version."""
    from seqnlp import __version__

    typer.echo(__version__)


def _register() -> None:
    for name, module, help_text in SUBCOMMANDS:
        sub = importlib.import_module(module).app
        app.add_typer(sub, name=name, help=help_text)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `seqnlp` console script and `python -m seqnlp`."""
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="seqnlp", standalone_mode=True)
    except SeqnlpError as exc:
        if "--debug" in args:
            raise
        typer.echo(f"seqnlp: error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("seqnlp: interrupted", err=True)
        sys.exit(130)
