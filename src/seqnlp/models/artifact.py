"""Saved models: one file holding `{format_version, kind, config, state_dict, vocab, extra}`.

Loading rebuilds the model from the saved config (never from CLI defaults) and uses
`torch.load(weights_only=True)`: no pickled Python objects, so a file from anywhere is safe
to open. The write is atomic.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import torch

from seqnlp.errors import SeqnlpError
from seqnlp.fileio import atomic_write

FORMAT_VERSION = 1


class ArtifactError(SeqnlpError):
    """A saved model cannot be used: wrong kind, wrong version, or a damaged file."""


def save_artifact(
    path: str | os.PathLike[str],
    kind: str,
    config: Any,
    model: torch.nn.Module,
    vocab: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write a model with its config (a dataclass) and vocabulary (a JSON-able dict)."""
    payload = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "config": dataclasses.asdict(config),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "vocab": vocab or {},
        "extra": extra or {},
    }
    with atomic_write(path) as handle:
        torch.save(payload, handle)


def load_artifact(path: str | os.PathLike[str], kind: str) -> dict[str, Any]:
    """Read a saved model of `kind`; raise ArtifactError naming the file if it isn't one."""
    name = os.fspath(path)
    if not Path(name).is_file():
        raise ArtifactError(f"{name}: no such model file")
    try:
        payload = torch.load(name, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for damaged files
        raise ArtifactError(f"{name}: not a readable seqnlp model ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(payload, dict) or "format_version" not in payload:
        raise ArtifactError(f"{name}: not a seqnlp model file")
    if payload["format_version"] != FORMAT_VERSION:
        raise ArtifactError(
            f"{name}: format version {payload['format_version']}, this seqnlp reads {FORMAT_VERSION}"
        )
    if payload.get("kind") != kind:
        raise ArtifactError(f"{name}: is a {payload.get('kind')!r} model, expected a {kind!r} model")
    return payload
