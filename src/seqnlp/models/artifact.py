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
import os
import warnings
import typing
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
    if not Path(name).is_file():
        raise ArtifactError(f"{name}: no such model file")
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickles: we refuse them
            warnings.simplefilter("ignore")
            payload = torch.load(name, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for damaged or foreign files
        raise ArtifactError(f"{name}: not a readable seqnlp model: {_load_failure(exc)}") from None
    if not isinstance(payload, dict) or "format_version" not in payload:
        raise ArtifactError(f"{name}: not a seqnlp model file")
    version = payload["format_version"]
    if version not in READABLE_VERSIONS:
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
    if not all(isinstance(v, torch.Tensor) for v in payload["state_dict"].values()):
        raise ArtifactError(f"{name}: damaged model file (state_dict holds non-tensors)")


def config_from_dict(config_class: type, data: dict[str, Any], where: str) -> Any:
    """Rebuild a frozen config dataclass from its saved (or TOML) dict.

    Lists become tuples where the field is a tuple; an unknown or missing field, or a
    value its `__post_init__` refuses, raises an error naming `where`.

    Raises:
        ArtifactError: naming `where` and the field.
    """
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ArtifactError(f"{where}: unknown {config_class.__name__} field(s): "
                            f"{', '.join(unknown)}")
    hints = typing.get_type_hints(config_class)
    values = {}
    for key, value in data.items():
        if isinstance(value, list) and typing.get_origin(hints.get(key)) is tuple:
            value = tuple(value)
        values[key] = value
    try:
        return config_class(**values)
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"{where}: bad {config_class.__name__} ({_first_line(exc)})") from None


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
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
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
