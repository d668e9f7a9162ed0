"""The saved-model file: `{format_version, kind, config, state_dict, vocabs, extra}`.

One format for every model kind. `config` is the model's frozen config dataclass as a dict,
`vocabs` maps a name ("tokens", "labels", "source", ...) to a `Vocab.to_dict()`, `extra`
holds JSON-able facts (label names, training configuration, scores). Files are read with
`torch.load(weights_only=True)`: no pickled Python objects, so a file from anywhere is safe
to open. The write is atomic. Format 1 (one `vocab` instead of `vocabs`) still loads.

`seqnlp.models.registry` turns a payload back into a model; this module only reads, writes
and checks the file's outer shape.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
import warnings
from pathlib import Path
from typing import Any

import torch

from seqnlp.errors import SeqnlpError
from seqnlp.fileio import atomic_write

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
MAIN_VOCAB = "tokens"


class ArtifactError(SeqnlpError):
    """A saved model cannot be used: missing, damaged, foreign, or of another kind."""


class IncompatibleModelError(ArtifactError):
    """A saved model or checkpoint does not fit the model or data it is used with."""


def save_artifact(
    path: str | os.PathLike[str],
    kind: str,
    config: Any,
    model: torch.nn.Module,
    vocab: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    vocabs: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Write a model with its config (a dataclass) and vocabularies (JSON-able dicts).

    Args:
        path: the model file (written atomically).
        kind: the registry's name of the model kind.
        config: the model's config dataclass.
        model: the module; its state_dict is saved on the CPU.
        vocab: the main vocabulary (stored as `vocabs["tokens"]`).
        extra: other JSON-able facts.
        vocabs: further named vocabularies.
    """
    named = dict(vocabs or {})
    if vocab is not None:
        named[MAIN_VOCAB] = vocab
    payload = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "config": dataclasses.asdict(config),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "vocabs": named,
        "extra": extra or {},
    }
    with atomic_write(path) as handle:
        torch.save(payload, handle)


def read_artifact(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The payload of a seqnlp model file, its version and kind checked (any kind; see
    `check_parts` for the rest).

    Format 1's `vocab` comes back as `vocabs["tokens"]`.

    Raises:
        ArtifactError: naming the file: missing, a folder, unreadable, not a seqnlp model,
            a format this seqnlp cannot read, or parts of the wrong type.
    """
    name = os.fspath(path)
    if Path(name).is_dir():
        raise ArtifactError(f"{name}: is a folder, not a model file")
    if not Path(name).exists():
        raise ArtifactError(f"{name}: no such model file")
    if not Path(name).is_file():
        raise ArtifactError(f"{name}: not a regular file (a device or a pipe), not a model file")
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickles: we refuse them
            warnings.simplefilter("ignore")
            payload = torch.load(name, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for damaged or foreign files
        raise ArtifactError(f"{name}: not a readable seqnlp model: {_load_failure(exc)}") from None
    if not isinstance(payload, dict) or "format_version" not in payload:
        raise ArtifactError(f"{name}: not a seqnlp model file")
    version = payload["format_version"]
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise ArtifactError(f"{name}: format version {version!r}, this seqnlp reads "
                            f"{', '.join(map(str, READABLE_VERSIONS))}")
    if version == 1:
        payload = {**payload, "vocabs": {MAIN_VOCAB: payload.get("vocab") or {}}}
        payload.pop("vocab", None)
    if not isinstance(payload.get("kind"), str):
        raise ArtifactError(f"{name}: damaged model file (no kind)")
    return payload


def check_parts(payload: dict[str, Any], name: str) -> None:
    """Raise unless config, state_dict, vocabs and extra have the types they must have."""
    for part, kind in (("config", dict), ("state_dict", dict), ("vocabs", dict),
                       ("extra", dict)):
        if not isinstance(payload.get(part), kind):
            got = type(payload.get(part)).__name__ if part in payload else "missing"
            raise ArtifactError(f"{name}: damaged model file ({part} is {got}, "
                                f"expected a {kind.__name__})")
    for key, value in payload["state_dict"].items():
        if not isinstance(key, str):
            raise ArtifactError(f"{name}: damaged model file (state_dict has a key {key!r} "
                                "that is not a name)")
        if not isinstance(value, torch.Tensor):
            raise ArtifactError(f"{name}: damaged model file (state_dict holds non-tensors: "
                                f"{key} is a {type(value).__name__})")
        if value.layout != torch.strided:
            raise ArtifactError(f"{name}: damaged model file ({key} is a {value.layout} "
                                "tensor; a model's weights are dense)")
    stored = payload["extra"].get("train_config")
    if stored is not None and not (isinstance(stored, dict) and all(
            isinstance(stored.get(table, {}), dict) for table in ("data", "model", "trainer"))):
        raise ArtifactError(f"{name}: damaged model file (its training configuration is not "
                            "a table of data, model and trainer tables)")


def config_from_dict(config_class: type, data: dict[str, Any], where: str) -> Any:
    """Rebuild a frozen config dataclass from its saved (or TOML) dict.

    Every value must have its field's type (an int for `int`, a finite number for
    `float`, a list of ints for `tuple[int, ...]`, ...): a file's config is not trusted.
    Lists become tuples where the field is a tuple; an unknown or missing field, a value
    of the wrong type, or one its `__post_init__` refuses raises an error naming `where`.

    Raises:
        ArtifactError: naming `where` and the field.
    """
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    unknown = sorted(str(key) for key in set(data) - set(fields))
    if unknown:
        raise ArtifactError(f"{where}: unknown {config_class.__name__} field(s): "
                            f"{', '.join(unknown)}")
    hints = typing.get_type_hints(config_class)
    values = {}
    for key, value in data.items():
        wrong = _type_error(value, hints[key])
        if wrong:
            raise ArtifactError(f"{where}: {key} must be {wrong}, got {_short(value)}")
        if isinstance(value, list):
            value = tuple(value)
        values[key] = value
    try:
        return config_class(**values)
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"{where}: bad {config_class.__name__} ({first_line(exc)})") from None


MAX_CONFIG_ITEMS = 65_536  # the longest tuple a config field holds (TDNN offsets, tag names)
_PLURALS = {int: "integers", float: "finite numbers", str: "strings", bool: "booleans"}


def _type_error(value: Any, hint: Any) -> str:
    """What `value` must be to have the type `hint`, or "" when it has it."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return ""
        wanted = [a for a in args if a is not type(None)]
        return _type_error(value, wanted[0]) if len(wanted) == 1 else ""
    if origin is tuple:
        item = args[0] if args else Any
        if not isinstance(value, (list, tuple)) or len(value) > MAX_CONFIG_ITEMS:
            return f"a list of at most {MAX_CONFIG_ITEMS} items"
        if any(_type_error(v, item) for v in value):
            return f"a list of {_PLURALS.get(item, 'values of one type')}"
        return ""
    if hint is bool:
        return "" if isinstance(value, bool) else "true or false"
    if hint is int:
        return "" if isinstance(value, int) and not isinstance(value, bool) else "an integer"
    if hint is float:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return "" if number and math.isfinite(value) else "a finite number"
    if hint is str:
        return "" if isinstance(value, str) else "a string"
    return ""


def _short(value: Any) -> str:
    """`repr(value)`, cut to a few dozen characters (a hostile file may hold megabytes)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _load_failure(exc: BaseException) -> str:
    """Why torch.load failed, in a few words of our own (torch's own messages run over
    many lines, and after a refused pickle they suggest `weights_only=False`, which a
    file from an unknown source must never get)."""
    text = str(exc)
    if "central directory" in text or "zip archive" in text or isinstance(exc, EOFError):
        return "the file is truncated or is not a PyTorch file"
    if type(exc).__name__ == "UnpicklingError" or "Weights only load failed" in text:
        return ("it holds objects that a model file never contains (refused without running "
                "them), or it is not a PyTorch file")
    if isinstance(exc, MemoryError):
        return "it asks for more memory than this machine has"
    if isinstance(exc, OSError):
        from seqnlp.fileio import os_error_reason

        return os_error_reason(exc)
    return first_line(exc)


def first_line(exc: BaseException) -> str:
    """`Type: first line of the message` (torch's messages run over many lines)."""
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0].strip() if text else ''}".rstrip(": ")


# kept for callers of format 1's API
def load_artifact(path: str | os.PathLike[str], kind: str) -> dict[str, Any]:
    """Read a saved model of `kind` (see `read_artifact`); refuse another kind."""
    payload = read_artifact(path)
    if payload["kind"] != kind:
        raise ArtifactError(f"{os.fspath(path)}: is a {payload['kind']!r} model, "
                            f"expected a {kind!r} model")
    return payload
