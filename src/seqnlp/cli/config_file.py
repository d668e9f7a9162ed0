"""Training configurations as TOML: `--config FILE.toml` for every `train` command, the
resolved configuration printed at start and stored in the saved model, and
`seqnlp <task> config MODEL` printing it back as a file that trains the model again.

A file has up to three tables, named after what they configure; keys are the option names
with underscores (`hidden_size` for `--hidden-size`):

    [data]
    data = "sst2"
    [model]
    encoder = "gru"
    bidirectional = true
    [trainer]
    lr = 0.001
    epochs = 5

Options given on the command line override the file; the file overrides the defaults.
Paths are read relative to the working directory, as on the command line.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Mapping
from typing import Any

from seqnlp.errors import SeqnlpError

SECTIONS = ("data", "model", "trainer")
MAX_CONFIG_BYTES = 1_000_000
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def read_config_file(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """The tables of a TOML configuration file.

    Raises:
        SeqnlpError: naming the file: missing, unreadable, not TOML (with the line), or
            holding a table other than data, model and trainer.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise SeqnlpError(f"{name}: more than {MAX_CONFIG_BYTES:,} bytes; a "
                              "configuration file holds a few tables of options")
        text = data.decode("utf-8-sig")
    except FileNotFoundError:
        raise SeqnlpError(f"{name}: no such configuration file") from None
    except IsADirectoryError:
        raise SeqnlpError(f"{name}: is a folder, not a configuration file") from None
    except UnicodeDecodeError as exc:
        raise SeqnlpError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise SeqnlpError(f"{name}: cannot read ({exc.strerror})") from None
    try:
        tables = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SeqnlpError(f"{name}: not a TOML file ({exc})") from None
    for key, value in tables.items():
        if key not in SECTIONS or not isinstance(value, dict):
            raise SeqnlpError(f"{name}: unknown table [{key}]; a configuration has "
                              f"{', '.join(f'[{s}]' for s in SECTIONS)}")
    return {section: dict(tables.get(section, {})) for section in SECTIONS}


def to_toml(tables: Mapping[str, Mapping[str, Any]], header: str = "") -> str:
    """TOML text of `{table: {key: value}}` (None values are left out: they are defaults)."""
    lines = [f"# {line}" for line in header.splitlines()]
    for section in SECTIONS:
        values = {k: v for k, v in tables.get(section, {}).items() if v is not None}
        if not values:
            continue
        if lines:
            lines.append("")
        lines.append(f"[{section}]")
        lines.extend(f"{toml_key(key)} = {toml_value(value)}" for key, value in values.items())
    return "\n".join(lines) + "\n"


def toml_value(value: Any) -> str:
    """One TOML value: a string, bool, int, float, path or list of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        return _quoted(value)
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def toml_key(key: Any) -> str:
    """A key as TOML writes it: bare when it is letters, digits, `_` and `-`, else quoted."""
    if not isinstance(key, str):
        raise TypeError(f"a key must be a string, got {type(key).__name__}")
    return key if _BARE_KEY.fullmatch(key) else _quoted(key)


def _quoted(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's; every other control character
    (DEL, the C1 range, ...) is escaped too, so that printing it cannot drive a terminal."""
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" if ord(ch) < 0x10000
                   else f"\\U{ord(ch):08x}" for ch in json.dumps(text, ensure_ascii=False))
