"""What every `train` command shares, declared once: the trainer options (one naming
scheme: `--num-layers`, `--max-vocab`; old names stay as hidden aliases), `--config
FILE.toml`, the resolved configuration printed at start and stored in the saved model,
device and thread handling, and printing on rank 0 only under torchrun.

A command declares its options as `Option`s (each in the data, model or trainer table of
the configuration file, or "run" for options of this run alone: output, resume, ...) and
is registered with `train_command`, which builds the typer signature, reads the file, lets
the command line override it and hands the command one `Resolved`. The options and their
resolution live in `seqnlp.cli.options`; this module re-exports them.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Optional

import typer

from seqnlp.cli.config_file import SECTIONS, to_toml
from seqnlp.cli.options import (  # noqa: F401  (re-exported: commands import them from here)
    RUN,
    SCHEDULE_CHOICES,
    SCHEDULES,
    Option,
    Resolved,
    _alias_names,
    resolve,
    resolve_file,
    run_options,
    trainer_options,
)
from seqnlp.errors import SeqnlpError

# --threads of the commands that load a model and use it (eval, run, segment, ...).
THREADS = typer.Option(0, "--threads", min=0, max=1024,
                       help="CPU threads for torch, as for train (0: the idle cores).")


# ------------------------------------------------------------------------- the decorator

def _annotation(option: Option) -> Any:
    return option.kind if option.default is not None else Optional[option.kind]  # noqa: UP045


def _help(option: Option) -> str:
    """The option's help, with its choices and whether it is required."""
    text = option.help
    if option.choices:
        text += f" One of: {', '.join(option.choices)}."
    if option.required:
        text += " Required" + ("." if option.section == RUN else
                               f" (here or in the {option.section} table of --config).")
    return text


def _parameters(options: Sequence[Option]) -> list[inspect.Parameter]:
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("ctx", keyword, annotation=typer.Context)]
    for option in options:
        decls = list(option.flags) or [option.flag]
        if option.kind is bool and "/" not in decls[0]:
            name = option.flag[2:]
            decls = [f"--{name}/--no-{name}"]
        show_default = option.default is not None and option.kind is not Path
        info = typer.Option(option.default, *decls, help=_help(option),
                            show_default=show_default)
        params.append(inspect.Parameter(option.name, keyword, default=info,
                                        annotation=_annotation(option)))
        for alias, key in zip(option.aliases, _alias_names(option)):
            hidden = typer.Option(None, alias, hidden=True)
            params.append(inspect.Parameter(key, keyword, default=hidden,
                                            annotation=Optional[option.kind]))  # noqa: UP045
    config = typer.Option(None, "--config", help="A TOML file with data, model and trainer "
                          "tables; command-line options override it (default: none).")
    params.append(inspect.Parameter("config", keyword, default=config,
                                    annotation=Optional[Path]))  # noqa: UP045
    return params


def train_command(app: typer.Typer, options: Sequence[Option],
                  name: str = "train") -> Callable[[Callable[[Resolved], None]],
                                                    Callable[[Resolved], None]]:
    """Register `func(resolved)` as `app`'s `name` command with `options` and `--config`."""
    names = [o.name for o in options]
    if len(set(names)) != len(names):
        raise ValueError(f"options declared twice: {sorted({n for n in names if names.count(n) > 1})}")

    def decorate(func: Callable[[Resolved], None]) -> Callable[[Resolved], None]:
        def command(ctx: Any, **given: Any) -> None:
            func(resolve(ctx, options, given))

        params = _parameters(options)
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        command.__doc__ = func.__doc__
        command.__name__ = func.__name__
        app.command(name)(command)
        return func

    return decorate


# ------------------------------------------------------------------------- run helpers

def is_main_process() -> bool:
    """False on the ranks other than 0 under torchrun (they print nothing)."""
    return os.environ.get("RANK", "0") == "0"


def echo(message: str = "", err: bool = False) -> None:
    """typer.echo on rank 0 only."""
    if is_main_process():
        typer.echo(message, err=err)


def set_threads(threads: int | None) -> int:
    """Set torch's CPU threads and return the number: `threads`, or with 0 or None the
    cores that other work leaves idle (`auto_threads`). Under torchrun, torch's own
    per-process default is kept for 0 or None."""
    import torch

    if not threads:
        if "LOCAL_WORLD_SIZE" in os.environ:
            return torch.get_num_threads()
        threads = auto_threads()
    torch.set_num_threads(threads)
    return threads


def auto_threads() -> int:
    """The cores not already busy: the core count minus the 1-minute load average (what
    other processes use), rounded, at least 1. On a shared machine a thread team larger
    than the idle cores spin-waits on descheduled threads and runs 2-36x slower than one
    thread; on an idle one two threads beat one by 1.3x (benchmarks/results/
    threads_under_load_*.md). Passive waiting (OMP_WAIT_POLICY=PASSIVE) would soften the
    first case but costs 1.8x on an idle machine, so it is left to the user."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:
        return cores
    return max(1, min(cores, cores - round(busy)))


def device(name: str) -> Any:
    """The torch device for "auto", "cpu" or "cuda" (under torchrun: CUDA LOCAL_RANK)."""
    if name not in ("auto", "cpu", "cuda"):
        raise SeqnlpError(f"--device must be auto, cpu or cuda, got {name!r}")
    from seqnlp.training.distributed import dist_info_from_env, resolve_device

    return resolve_device(name, dist_info_from_env())


def check_output(path: Path | None, option: str = "-o") -> None:
    """Refuse, before any work, an output path that cannot be written: a folder, a missing
    folder, or a place without write permission (read-only file system included)."""
    if path is None:
        return
    path = Path(path)
    if path.is_dir():
        raise SeqnlpError(f"{path}: is a folder; {option} needs a file name")
    check_writable_folder(path.parent if str(path.parent) else Path("."), option, path)


def check_writable_folder(folder: Path, option: str, shown: Path | None = None) -> None:
    """Raise unless a file can be created in `folder` (tried with a temporary file)."""
    import tempfile

    shown = folder if shown is None else shown
    if not folder.exists():
        raise SeqnlpError(f"{shown}: folder {folder} does not exist ({option})")
    if not folder.is_dir():
        raise SeqnlpError(f"{shown}: {folder} is not a folder ({option})")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".seqnlp-probe-"):
            pass
    except OSError as exc:
        from seqnlp.fileio import os_error_reason

        raise SeqnlpError(f"{shown}: cannot write in {folder} ({os_error_reason(exc)}; "
                          f"{option})") from None


def check_run_paths(resolved: Resolved) -> None:
    """Check -o, --checkpoint-dir and --log before training starts: each can be written,
    and neither -o nor --log names a file the run reads (or each other)."""
    check_output(resolved.values.get("output"))
    check_output(resolved.values.get("log"), "--log")
    _check_not_overwritten(resolved)
    folder = resolved.values.get("checkpoint_dir")
    if folder is not None:
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise SeqnlpError(f"{folder}: is a file; --checkpoint-dir needs a folder")
        if not folder.exists():
            check_writable_folder(folder.parent if str(folder.parent) else Path("."),
                                  "--checkpoint-dir", folder)
        else:
            check_writable_folder(folder, "--checkpoint-dir")


def _check_not_overwritten(resolved: Resolved) -> None:
    """Refuse `-o good.tsv --data good.tsv` (the model would replace the data), and the
    same for --log, --config, --embeddings and --dev."""
    values = resolved.values
    reads = [("--data", values.get("data")), ("--config", resolved.config_path),
             ("--embeddings", values.get("embeddings")), ("--dev", values.get("dev"))]
    for option, written in (("-o", values.get("output")), ("--log", values.get("log"))):
        others = reads + ([("--log", values.get("log"))] if option == "-o" else [])
        for other, read in others:
            if written is None or not read:
                continue
            path = Path(read)
            if (path.exists() or other == "--log") and _same_file(Path(written), path):
                raise SeqnlpError(f"{written}: {option} and {other} name the same file; "
                                  f"writing {option} would destroy it")


def _same_file(written: Path, other: Path) -> bool:
    """Whether `written` is `other`: the same existing file, or (neither written yet)
    the same path."""
    try:
        if written.exists() and other.exists():
            return written.samefile(other)
        return not other.exists() and written.resolve() == other.resolve()
    except (OSError, ValueError):
        return False


def check_data(data: str, names: Sequence[str], accepts: str, what: str,
               folder_files: Sequence[str] = ()) -> None:
    """Refuse, before any work, a --data that is neither a dataset name nor a readable file
    ("nosuch.tsv: no such file (--data takes ...)"; a bare word that is no file either is
    an unknown name), so that an unreadable file is found before training.

    Args:
        data: the --data value.
        names: the dataset names it may be.
        accepts: what --data takes, in words, for the message.
        what: the kind of data ("classification"), for the message.
        folder_files: the files a folder may hold in place of one file (none: a folder is
            refused); their presence is left to the reader, which names the missing ones.
    """
    if data in names:
        return
    if not data:
        raise SeqnlpError(f"--data is empty; it takes {accepts}")
    path = Path(data)
    if not path.exists():
        if "." in data or os.sep in data:
            raise SeqnlpError(f"{data}: no such file (--data takes {accepts})")
        raise SeqnlpError(f"unknown {what} data {data!r}: no such file or dataset name "
                          f"(--data takes {accepts})")
    if not path.is_dir():
        _check_readable(path)
    elif not folder_files:
        raise SeqnlpError(f"{data}: is a folder; --data takes {accepts}")
    else:
        for name in folder_files:
            if (path / name).exists():
                _check_readable(path / name)


def _check_readable(path: Path) -> None:
    from seqnlp.fileio import os_error_reason

    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise SeqnlpError(f"{path}: cannot read: {os_error_reason(exc)}") from None


def load_vectors(path: Path) -> Any:
    """Word vectors for `--embeddings` (word2vec text or binary), reported in one line."""
    from seqnlp.word2vec import KeyedVectors

    vectors = KeyedVectors.load_word2vec_format(path)
    echo(f"embeddings: {len(vectors):,} vectors of {vectors.vector_size} from {path}")
    return vectors


def stdin_lines() -> list[str]:
    """The lines of standard input without their line ends, decoded as UTF-8 here (not by
    the locale), a byte-order mark dropped.

    Raises:
        DataFormatError: "stdin, line 3: invalid UTF-8 at byte 7 of the line".
        SeqnlpError: a line longer than `MAX_LINE_BYTES`.
    """
    from seqnlp.fileio import decode_line

    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:  # an already decoded text stream (an embedding program, a test)
        return [line.rstrip("\r\n") for line in sys.stdin]
    lines = []
    while line := raw.readline(MAX_LINE_BYTES + 1):
        if len(line) > MAX_LINE_BYTES:  # `< /dev/zero` or a binary file: no line ends
            raise SeqnlpError(f"stdin, line {len(lines) + 1}: longer than "
                              f"{MAX_LINE_BYTES:,} bytes; give one text per line")
        lines.append(decode_line(line, "stdin", len(lines) + 1))
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    return lines


MAX_LINE_BYTES = 10_000_000  # one text of stdin


def printable(text: str) -> str:
    """`text` with its control characters escaped (`\\x1b`, `\\n`, `\\t`, ...), for
    anything read from a file, the command line or stdin that is printed back: it cannot
    drive the terminal or split one output line into two."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


class EpochPrinter:
    """An `on_step` callback printing each finished epoch's line as the next one begins;
    `flush(history)` after training prints the rest. When stderr is not a terminal (no
    bar), it also prints a line within a long epoch every `every` seconds, on stderr.

    Args:
        line: the text of one epoch's record of `Trainer.history`.
        every: seconds between the lines within an epoch.
    """

    def __init__(self, line: Callable[[dict[str, Any]], str], every: float = 60.0) -> None:
        import time

        self.line = line
        self.printed = 0
        self.every = every
        self._clock = time.perf_counter
        self._last = self._start = self._clock()
        self._quiet = sys.stderr.isatty() or not is_main_process()

    def __call__(self, trainer: Any, record: dict[str, Any]) -> None:
        self._trainer = trainer
        self.flush(trainer.history)
        now = self._clock()
        if not self._quiet and now - self._last >= self.every:
            self._last = now
            minutes = (now - self._start) / 60
            echo(f"epoch {record['epoch'] + 1}: {record['step']:,} updates, loss "
                 f"{record['loss']:.4f}, {minutes:.1f} min so far", err=True)

    def flush_pending(self) -> None:
        """Print the epochs finished since the last step (the last epoch, once `fit` has
        returned), before what follows training prints anything."""
        trainer = getattr(self, "_trainer", None)
        if trainer is not None:
            self.flush(trainer.history)

    def track(self, items: Any, desc: str, total: int | None = None,
              unit: str = "batch") -> Any:
        """`progress.track` for the evaluations after training, the last epoch printed first."""
        from seqnlp.cli.progress import track

        self.flush_pending()
        return track(items, desc, total, unit)

    def flush(self, history: list[dict[str, Any]]) -> None:
        for item in history[self.printed:]:
            echo(self.line(item))
        self.printed = len(history)


def trainer_config(resolved: Resolved, **overrides: Any) -> Any:
    """The TrainerConfig of the common options (`overrides` add or replace fields)."""
    from seqnlp.training import TrainerConfig

    values = resolved.values
    options = {
        "optimizer": values["optimizer"], "lr": values["lr"], "epochs": values["epochs"],
        "max_steps": values["max_steps"] or None, "max_minutes": values["max_minutes"] or None,
        "grad_accum_steps": values["grad_accum"],
        "clip_norm": values["clip"] or None, "weight_decay": values["weight_decay"],
        "alpha": values["alpha"], "eps": values["eps"], "momentum": values["momentum"],
        "ema_decay": values["ema"], "patience": values["patience"] or None,
        "seed": values["seed"], "device": values["device"],
        "checkpoint_dir": None if values["checkpoint_dir"] is None else str(values["checkpoint_dir"]),
        "log_path": None if values["log"] is None else str(values["log"]),
        "progress": bool(values["progress"]) and sys.stderr.isatty() and is_main_process(),
        "schedule": SCHEDULES[values["schedule"]], "constant_epochs": values["decay_start"],
        "gamma": values["decay"], "plateau_patience": 0,
        **overrides,
    }
    if values["resume"] and options["checkpoint_dir"] is None:
        raise SeqnlpError("--resume needs --checkpoint-dir")
    device(values["device"])  # before any work: cuda asked for where there is none
    try:
        return TrainerConfig(**options)
    except ValueError as exc:
        raise SeqnlpError(str(exc)) from None


def print_configuration(resolved: Resolved, command: str) -> None:
    """Print the resolved configuration as TOML (what `--config` would read)."""
    echo(resolved.toml(f"configuration of `seqnlp {command}` (a --config file):").rstrip())


def stored_configuration(resolved: Resolved, command: str) -> dict[str, Any]:
    """The configuration to keep in the saved model (`extra["train_config"]`)."""
    return {"command": command, **resolved.stored()}


def add_config_command(app: typer.Typer, kind: str, command: str) -> None:
    """`seqnlp <command> config MODEL`: print a saved model's training configuration."""

    @app.command("config")
    def config(model: Path = typer.Argument(..., help="A saved model of this command.")) -> None:
        """Print the TOML configuration that trains MODEL again (use it with --config)."""
        from seqnlp.models import load_model

        loaded = load_model(model, expect=kind)
        stored = loaded.train_config
        if stored:
            tables = {s: stored.get(s, {}) for s in SECTIONS}
            header = f"trained by `seqnlp {command}` (train it again with --config)"
        else:
            fields = {k: v for k, v in vars(loaded.config).items()}
            tables = {"model": {k: v for k, v in fields.items() if _toml_able(v)}}
            header = ("this model was saved before configurations were stored: [model] holds "
                      "its architecture (config field names), data and trainer are unknown")
        try:
            text = to_toml(tables, header)
        except TypeError as exc:
            raise SeqnlpError(f"{model}: its stored training configuration is damaged "
                              f"({exc})") from None
        typer.echo(text, nl=False)


def _toml_able(value: Any) -> bool:
    return isinstance(value, (bool, int, float, str, list, tuple))

