"""The dataset registry: every benchmark data set seqnlp knows, looked up by name.

The entries are written out in `catalog_english` and `catalog_multilingual`; their shape is in
`seqnlp.datasets.spec`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from seqnlp.datasets.catalog_english import ENGLISH
from seqnlp.datasets.catalog_multilingual import MULTILINGUAL
from seqnlp.datasets.spec import DatasetSpec
from seqnlp.errors import DatasetError

REGISTRY: dict[str, DatasetSpec] = {spec.name: spec for spec in ENGLISH + MULTILINGUAL}


def dataset_names() -> list[str]:
    """The registered dataset names, sorted."""
    return sorted(REGISTRY)


def iter_specs() -> Iterator[DatasetSpec]:
    """The registered datasets, sorted by name."""
    for name in dataset_names():
        yield REGISTRY[name]


def get_spec(name: str) -> DatasetSpec:
    """The registry entry of `name`.

    Raises:
        DatasetError: when `name` is unknown; the message lists the known names.
    """
    spec = REGISTRY.get(name)
    if spec is not None:
        return spec
    known = dataset_names()
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise DatasetError(f"unknown dataset {name!r}{hint}; known: {', '.join(known)}")
