"""What every `train` command shares, declared once: the trainer options (one naming
scheme: `--num-layers`, `--max-vocab`; old names stay as hidden aliases), `--config
FILE.toml`, the resolved configuration printed at start and stored in the saved model,
device and thread handling, and printing on rank 0 only under torchrun.

A command declares its options as `Option`s (each in the data, model or trainer table of
the configuration file, or "run" for options of this run alone: output, resume, ...) and
is registered with `train_command`, which builds the typer signature, reads the file, lets
the command line override it and hands the command one `Resolved`.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

import typer

from seqnlp.cli.config_file import SECTIONS, read_config_file, to_toml
from seqnlp.errors import SeqnlpError

RUN = "run"  # options of one run, never stored: output, config, resume, checkpoint dir, log


@dataclass(frozen=True)
class Option:
    """One command-line option that may also come from the configuration file.

    Attributes:
        name: the Python name and the key in the file (`hidden_size`).
        default: its default (None: unset; the help says what that means).
        help: what it does; the default is shown by the help screen.
        section: "data" | "model" | "trainer" | "run".
        type: int, float, str, bool or Path (from the default when None).
        flags: the option's names (default `--hidden-size`); a bool gets `--x/--no-x`.
        aliases: hidden old names (`--layers` for `--num-layers`).
        choices: the allowed strings.
        low, high: bounds of a number (inclusive).
        required: must be given on the command line or in the file.
    """

    name: str
    default: Any
    help: str
    section: str = "trainer"
    type: type | None = None
    flags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    required: bool = False

    @property
    def kind(self) -> type:
        """The value type."""
        if self.type is not None:
            return self.type
        return str if self.default is None else type(self.default)

    @property
    def flag(self) -> str:
        """The main option name as written on the command line."""
        return self.flags[0] if self.flags else "--" + self.name.replace("_", "-")


# --schedule's choices -> TrainerConfig.schedule ("zaremba" is the name `lm train` used first).
SCHEDULES = {"constant": "constant", "exponential": "exponential", "zaremba": "exponential",
             "plateau": "plateau"}
SCHEDULE_CHOICES = tuple(SCHEDULES)


def trainer_options(**defaults: Any) -> list[Option]:
    """The Trainer's options, one declaration for every `train` command.

    Args:
        defaults: per-command defaults by option name (`optimizer="sgd"`), or
            `(default, help)` pairs where the help differs.
    """
    options = [
        Option("optimizer", "adam", "Optimizer.", choices=("adam", "adamw", "sgd", "adagrad",
                                                          "rmsprop")),
        Option("lr", 1e-3, "Learning rate.", type=float, low=0.0),
        Option("epochs", 5, "Passes over the training data.", low=1),
        Option("max_steps", 0, "Stop after this many updates (0: no limit).", low=0),
        Option("batch_size", 64, "Examples per update (per process under torchrun).", low=1),
        Option("grad_accum", 1, "Batches whose gradients are summed into one update.", low=1),
        Option("clip", 0.0, "Clip the gradient norm to this (0: no clipping).", low=0.0),
        Option("weight_decay", 0.0, "L2 penalty (decoupled for adamw).", low=0.0),
        Option("alpha", 0.99, "RMSprop's smoothing of the mean squared gradient "
               "(Keras calls it rho: 0.9).", low=0.0, high=1.0),
        Option("eps", 1e-8, "Added to the denominator of adam, adamw and rmsprop (Keras: 1e-7).",
               low=0.0),
        Option("patience", 0, "Stop after N evaluations without a better dev score (0: never).",
               low=0),
        Option("schedule", "constant", "Learning-rate schedule: constant; exponential (the "
               "base lr for --decay-start epochs, then times --decay each epoch, as Zaremba et "
               "al. 2014; `zaremba` is the same); plateau (times --decay whenever the dev score "
               "stops improving).", choices=SCHEDULE_CHOICES),
        Option("decay_start", 4, "exponential: epochs at the base lr.", low=0),
        Option("decay", 0.5, "The lr factor per decay (exponential, plateau).", low=0.0,
               high=1.0),
        Option("seed", 0, "Seeds the initialisation and the batch order.", low=0),
        Option("threads", 0, "CPU threads for torch (0: torch's default).", low=0, high=1024),
        Option("device", "auto", "auto (cuda when available), cpu or cuda.",
               choices=("auto", "cpu", "cuda")),
        Option("progress", True, "Show a progress bar (on a terminal).",
               flags=("--progress/--no-progress",)),
        Option("checkpoint_dir", None, "Write resumable checkpoints here.", section=RUN,
               type=Path),
        Option("resume", False, "Continue from --checkpoint-dir's last checkpoint.",
               section=RUN, flags=("--resume/--no-resume",)),
        Option("log", None, "Write the training metrics as JSON lines here.", section=RUN,
               type=Path),
    ]
    known = {o.name for o in options}
    unknown = set(defaults) - known
    if unknown:
        raise ValueError(f"no trainer option(s) {sorted(unknown)}")
    result = []
    for option in options:
        value = defaults.get(option.name, option.default)
        if isinstance(value, tuple):
            result.append(replace(option, default=value[0], help=value[1]))
        else:
            result.append(replace(option, default=value))
    return result


def run_options(output_help: str) -> list[Option]:
    """`-o/--output` and `--config`, which every `train` command takes."""
    return [
        Option("output", None, output_help, section=RUN, type=Path, flags=("--output", "-o"),
               required=True),
    ]


# ------------------------------------------------------------------------- resolution

@dataclass
class Resolved:
    """The values of a `train` command after `--config` and the command line.

    Attributes:
        values: every option by name.
        sections: the option names of each table.
        config_path: the --config file, if any.
    """

    values: dict[str, Any]
    sections: dict[str, list[str]] = field(default_factory=dict)
    config_path: Path | None = None

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def section(self, name: str) -> dict[str, Any]:
        """The values of one table, by option name."""
        return {key: self.values[key] for key in self.sections.get(name, [])}

    def stored(self) -> dict[str, dict[str, Any]]:
        """The data, model and trainer tables: what trains the model again."""
        return {name: _plain(self.section(name)) for name in SECTIONS}

    def toml(self, header: str = "") -> str:
        """The stored tables as TOML text."""
        return to_toml(self.stored(), header)


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in values.items()}


def resolve(ctx: Any, options: Sequence[Option], given: dict[str, Any]) -> Resolved:
    """Merge defaults, the --config file and the command line (which wins).

    Raises:
        SeqnlpError: a bad file, an unknown key in it, a value of the wrong type or out of
            range, or a required option given nowhere.
    """
    config_path = given.get("config")
    tables = read_config_file(config_path) if config_path else {s: {} for s in SECTIONS}
    by_section = {s: {o.name for o in options if o.section == s} for s in SECTIONS}
    for section, keys in tables.items():
        unknown = sorted(set(keys) - by_section[section])
        if unknown:
            raise SeqnlpError(f"{config_path}: unknown key(s) in [{section}]: "
                              f"{', '.join(unknown)}; known: {', '.join(sorted(by_section[section]))}")
    values: dict[str, Any] = {}
    for option in options:
        explicit = [key for key in (option.name, *_alias_names(option))
                    if _from_command_line(ctx, key)]
        if explicit:
            value = given[explicit[-1]]
        elif option.section in tables and option.name in tables[option.section]:
            value = _from_file(option, tables[option.section][option.name], config_path)
        else:
            value = given[option.name]
        values[option.name] = _checked(option, value)
    sections = {s: [o.name for o in options if o.section == s] for s in (*SECTIONS, RUN)}
    return Resolved(values, sections, config_path)


def resolve_file(options: Sequence[Option], path: str | os.PathLike[str] | None,
                 **given: Any) -> Resolved:
    """What a `train` command resolves from a --config file alone (no command line):
    `given` fills the options without a default, such as `output`.

    Raises:
        SeqnlpError: as `resolve`.
    """
    values = {option.name: option.default for option in options}
    values.update({alias: None for option in options for alias in _alias_names(option)})
    return resolve(None, options, {**values, **given, "config": path})


def _from_command_line(ctx: Any, name: str) -> bool:
    """Whether the user typed the option (click's ParameterSource; typer vendors click, so
    the enum is compared by name); nothing is typed without a context (`resolve_file`)."""
    if ctx is None:
        return False
    return getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"


def _from_file(option: Option, value: Any, path: Any) -> Any:
    kind = option.kind
    where = f"{path}: [{option.section}] {option.name}"
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is Path and isinstance(value, str):
        return Path(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SeqnlpError(f"{where} must be a {kind.__name__}, got {value!r}")
    return value


def _checked(option: Option, value: Any) -> Any:
    flag = option.flag.split("/")[0]
    if value is None:
        if option.required:
            raise SeqnlpError(f"{flag} is required (on the command line or in --config's "
                              f"[{option.section}] table)" if option.section != RUN
                              else f"{flag} is required")
        return None
    if option.choices and value not in option.choices:
        raise SeqnlpError(f"{flag} must be one of {', '.join(option.choices)}, got {value!r}")
    if option.low is not None and value < option.low:
        raise SeqnlpError(f"{flag} must be at least {option.low:g}, got {value}")
    if option.high is not None and value > option.high:
        raise SeqnlpError(f"{flag} must be at most {option.high:g}, got {value}")
    return value


# ------------------------------------------------------------------------- the decorator

def _alias_names(option: Option) -> list[str]:
    return [f"{option.name}__alias{i}" for i in range(len(option.aliases))]


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
                          "tables; command-line options override it.")
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


def set_threads(threads: int | None) -> None:
    """torch's CPU threads (0 or None: torch's default)."""
    if threads:
        import torch

        torch.set_num_threads(threads)


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
        raise SeqnlpError(f"{shown}: cannot write in {folder} ({exc.strerror}; {option})") from None


def check_run_paths(resolved: Resolved) -> None:
    """Check -o, --checkpoint-dir and --log before training starts."""
    check_output(resolved.values.get("output"))
    check_output(resolved.values.get("log"), "--log")
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


def trainer_config(resolved: Resolved, **overrides: Any) -> Any:
    """The TrainerConfig of the common options (`overrides` add or replace fields)."""
    from seqnlp.training import TrainerConfig

    values = resolved.values
    options = {
        "optimizer": values["optimizer"], "lr": values["lr"], "epochs": values["epochs"],
        "max_steps": values["max_steps"] or None, "grad_accum_steps": values["grad_accum"],
        "clip_norm": values["clip"] or None, "weight_decay": values["weight_decay"],
        "alpha": values["alpha"], "eps": values["eps"], "patience": values["patience"] or None,
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
        typer.echo(to_toml(tables, header), nl=False)


def _toml_able(value: Any) -> bool:
    return isinstance(value, (bool, int, float, str, list, tuple))

