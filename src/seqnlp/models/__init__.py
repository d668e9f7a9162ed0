"""Task assemblies, each a frozen Config dataclass + nn.Module (classifier, language model),
and the registry `kind -> (Config, Module, command)` behind one `load_model`.

Importing this package is cheap; torch is imported when a model is built or loaded.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seqnlp.models.registry import LoadedModel

__all__ = ["load_model"]


def load_model(path: str | os.PathLike[str], expect: str | None = None) -> LoadedModel:
    """Load any seqnlp model file as its kind's typed object (see `seqnlp.models.registry`)."""
    from seqnlp.models.registry import load_model as load

    return load(path, expect)
