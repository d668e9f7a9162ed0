"""The `seqnlp` command line: one typer app with a sub-app per task.

Sub-apps are registered from `SUBCOMMANDS`; each module defines `app` and imports torch,
numba or matplotlib only inside its commands, so that `seqnlp --help` stays instant.
A `SeqnlpError` is printed as one line and the exit status is 1; `--debug` shows the
traceback instead.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

from seqnlp.cli.help import plain_help, polish
from seqnlp.errors import SeqnlpError

# (name, module, help). Each module exposes a `typer.Typer` named `app`.
SUBCOMMANDS: list[tuple[str, str, str]] = [
    ("data", "seqnlp.cli.data", "List, fetch, verify and inspect benchmark data sets."),
    ("w2v", "seqnlp.cli.w2v", "Train, query, evaluate and plot word vectors."),
    ("classify", "seqnlp.cli.classify", "Train, evaluate and apply sequence classifiers."),
    ("lm", "seqnlp.cli.lm", "Train, evaluate and sample recurrent language models."),
    ("tagger", "seqnlp.cli.tagger", "Train and evaluate sequence taggers (word segmentation, "
     "named entities)."),
    ("trees", "seqnlp.cli.trees", "Train, evaluate and apply recursive networks over parse "
     "trees (RvNN, SU-RNN, MV-RNN, RNTN, Tree-LSTM)."),
    ("translate", "seqnlp.cli.translate", "Train, evaluate and run translation models "
     "(encoder-decoder with attention, beam search)."),
    ("caption", "seqnlp.cli.caption", "Caption images of handwritten digits with the attention "
     "decoder (show, attend and tell)."),
]
# Commands of a sub-app that are also top-level commands: `seqnlp segment`, `seqnlp tag`.
SHORTCUTS: list[tuple[str, str, str]] = [
    ("segment", "seqnlp.cli.tagger", "segment"),
    ("tag", "seqnlp.cli.tagger", "tag"),
]

app = typer.Typer(
    name="seqnlp",
    help="Word vectors and the networks that read text as a sequence or a tree.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
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
        plain_help(sub)
        app.add_typer(sub, name=name, help=help_text)
    for name, module, function in SHORTCUTS:
        app.command(name)(getattr(importlib.import_module(module), function))


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `seqnlp` console script and `python -m seqnlp`.

    Every error reaches the terminal as one line on stderr starting with `seqnlp: error:`:
    a `SeqnlpError` (exit 1), a usage error such as an unknown option or a bad value (exit
    2, with the command whose --help explains it), what the operating system refuses (exit
    1, naming the file) and memory running out (exit 1). `--debug` re-raises instead.
    """
    click = _click_exceptions()
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        result = _invoke(args)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        _fail("interrupted", 130)
    except click.NoArgsIsHelpError as exc:  # a bare `seqnlp lm`: its help, as before
        exc.show()
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        if debug:
            raise
        _fail(_usage_message(exc), exc.exit_code)
    except SeqnlpError as exc:
        if debug:
            raise
        _fail(str(exc), getattr(exc, "exit_code", 1))
    except OSError as exc:
        if debug:
            raise
        _fail(_os_message(exc), 1)
    except MemoryError:
        if debug:
            raise
        _fail(OUT_OF_MEMORY.format(where=""), 1)
    except RuntimeError as exc:  # torch reports memory running out as a RuntimeError
        if debug or not _out_of_memory(exc):
            raise
        _fail(OUT_OF_MEMORY.format(where=" on the GPU" if "CUDA" in str(exc) else ""), 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    # as click's standalone mode: always a SystemExit, with a command's own status if any
    sys.exit(result if isinstance(result, int) else 0)


def _invoke(args: list[str]) -> Any:
    """Run the command line `args` through the app, built once per call with the help
    conventions of `seqnlp.cli.help` applied."""
    command = polish(typer.main.get_command(app))
    return command.main(args=args, prog_name="seqnlp", standalone_mode=False)


OUT_OF_MEMORY = ("out of memory{where}: the input or the options ask for more memory than "
                 "this machine has (lower --batch-size, the model's sizes or the input's "
                 "length)")
MAX_MESSAGE = 2000  # characters of one error line; one quoting a huge input is cut


def _out_of_memory(exc: RuntimeError) -> bool:
    """Whether torch ran out of memory (its OutOfMemoryError, or the CPU allocator's
    "can't allocate memory"), read from the class name and text: torch is not imported."""
    text = str(exc)
    return (type(exc).__name__ == "OutOfMemoryError" or "can't allocate memory" in text
            or "CUDA out of memory" in text)


def _click_exceptions() -> Any:
    """click's exceptions module: vendored inside typer since 0.20, click itself before."""
    try:
        from typer._click import exceptions
    except ImportError:
        from click import exceptions  # type: ignore[no-redef]
    return exceptions


def _fail(message: str, code: int) -> None:
    """Print `seqnlp: error: MESSAGE` as one line (control characters escaped) and exit."""
    text = one_line(message)
    if len(text) > MAX_MESSAGE:  # cut in the middle: the reason is at the end
        half = MAX_MESSAGE // 2
        text = f"{text[:half]} ... {text[-half:]}"
    typer.echo(f"seqnlp: error: {text}", err=True)
    sys.exit(code)


def one_line(text: str) -> str:
    """`text` on one line: line breaks become "; " and other control characters are
    escaped, so that nothing read from a file or stdin can drive the terminal."""
    parts = [part.strip() for part in str(text).splitlines() if part.strip()]
    joined = "; ".join(parts)
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in joined)


def _usage_message(exc: Any) -> str:
    message = exc.format_message()
    context = getattr(exc, "ctx", None)
    if context is not None:
        return f"{message} (see `{context.command_path} --help`)"
    return message


def _os_message(exc: OSError) -> str:
    from seqnlp.fileio import os_error_reason

    reason = os_error_reason(exc)
    name = exc.filename if exc.filename is not None else None
    return f"{name}: {reason}" if name is not None else reason
