"""The options of `train` commands and how they resolve: an `Option` per flag (each in the
data, model or trainer table of a configuration file, or "run" for what belongs to one run
alone), the Trainer's options declared once (`trainer_options`), and `resolve`, which merges
the defaults, a `--config` file and the command line (which wins) into one `Resolved`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from seqnlp.cli.config_file import SECTIONS, read_config_file, to_toml
from seqnlp.errors import SeqnlpError

MAX_SEED = 2**63 - 1  # torch.manual_seed takes a signed 64-bit seed
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
        Option("epochs", 5, "Passes over the training data.", low=1, high=1_000_000),
        Option("max_steps", 0, "Stop after this many updates (0: no limit).", low=0),
        Option("max_minutes", 0.0, "A time budget: once training has run this many minutes, "
               "the epoch in progress ends, is evaluated, and training stops (0: no limit).",
               low=0.0, high=1e7),
        Option("batch_size", 64, "Examples per update (per process under torchrun).", low=1),
        Option("grad_accum", 1, "Batches whose gradients are summed into one update.", low=1),
        Option("clip", 0.0, "Clip the gradient norm to this (0: no clipping).", low=0.0),
        Option("weight_decay", 0.0, "L2 penalty (decoupled for adamw).", low=0.0),
        Option("momentum", 0.0, "SGD and RMSprop momentum (0: none).", low=0.0, high=0.999),
        Option("ema", 0.0, "Score, keep and save an exponential moving average of the weights "
               "with this decay per update (0: off; 0.999: about the last thousand updates).",
               low=0.0, high=0.9999),
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
        Option("seed", 0, "Seeds the initialisation and the batch order.", low=0,
               high=MAX_SEED),
        Option("threads", 0, "CPU threads for torch (0: the cores that other work leaves idle "
               "at start, from the load average; a team larger than the idle cores runs "
               "several times slower than one thread).", low=0, high=1024),
        Option("device", "auto", "auto (cuda when available), cpu or cuda.",
               choices=("auto", "cpu", "cuda")),
        Option("progress", True, "Show a progress bar (on a terminal).",
               flags=("--progress/--no-progress",)),
        Option("checkpoint_dir", None, "Write resumable checkpoints here (default: none written).",
               section=RUN,
               type=Path),
        Option("resume", False, "Continue from --checkpoint-dir's last checkpoint.",
               section=RUN, flags=("--resume/--no-resume",)),
        Option("log", None, "Write the training metrics as JSON lines here (default: none).",
               section=RUN,
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
    if isinstance(value, float) and not math.isfinite(value):
        raise SeqnlpError(f"{flag} must be a finite number, got {value}")
    if option.choices and value not in option.choices:
        raise SeqnlpError(f"{flag} must be one of {', '.join(option.choices)}, got {value!r}")
    if option.low is not None and value < option.low:
        raise SeqnlpError(f"{flag} must be at least {_number(option.low)}, got {value}")
    if option.high is not None and value > option.high:
        raise SeqnlpError(f"{flag} must be at most {_number(option.high)}, got {value}")
    return value


def _number(bound: float) -> str:
    """A bound as the user would type it (`1024`, `0.999`, never `9.2e+18` for an int)."""
    return str(bound) if isinstance(bound, int) else f"{bound:g}"


def _alias_names(option: Option) -> list[str]:
    return [f"{option.name}__alias{i}" for i in range(len(option.aliases))]
