"""The data home: where fetched datasets live (`$SEQNLP_DATA`, else `~/.cache/seqnlp`), one
folder per dataset, and which of a dataset's files are there.

Only verified files ever carry their final names in the data home (`fetch` writes to a
temporary name and renames after checking the sha256), so "all files present" means
"complete". A dataset with some of its files present is reported as partial and is not
usable until `seqnlp data get NAME` completes it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from seqnlp.datasets.registry import get_spec
from seqnlp.datasets.spec import DataFile, FileForm
from seqnlp.errors import DatasetError

ENV_VAR = "SEQNLP_DATA"


def data_home() -> Path:
    """The folder that holds every dataset: `$SEQNLP_DATA`, else `~/.cache/seqnlp`."""
    configured = os.environ.get(ENV_VAR, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "seqnlp"


def dataset_dir(name: str) -> Path:
    """The folder of dataset `name` in the data home (it may not exist yet).

    Raises:
        DatasetError: when `name` is not a registered dataset.
    """
    return data_home() / get_spec(name).name


def locate(data_file: DataFile, folder: Path) -> tuple[FileForm, Path] | None:
    """The form of `data_file` present in `folder` (stored form first), or None."""
    for form in data_file.forms:
        path = folder / form.name
        if path.is_file():
            return form, path
    return None


@dataclass(frozen=True)
class DatasetStatus:
    """Which files of a dataset are in the data home.

    Attributes:
        name: the dataset.
        folder: its folder in the data home.
        present: keys of the files found (in any accepted form).
        missing: keys of the files not found.
        size: bytes on disk of the files found.
    """

    name: str
    folder: Path
    present: tuple[str, ...]
    missing: tuple[str, ...]
    size: int

    @property
    def complete(self) -> bool:
        """True when every file is present."""
        return not self.missing

    @property
    def state(self) -> str:
        """"complete", "partial" or "absent"."""
        if not self.missing:
            return "complete"
        return "partial" if self.present else "absent"


def dataset_status(name: str) -> DatasetStatus:
    """Which files of `name` are in the data home (existence only; `verify` rehashes)."""
    spec = get_spec(name)
    folder = dataset_dir(name)
    present, missing, size = [], [], 0
    for data_file in spec.files:
        found = locate(data_file, folder)
        if found is None:
            missing.append(data_file.key)
        else:
            present.append(data_file.key)
            size += found[1].stat().st_size
    return DatasetStatus(spec.name, folder, tuple(present), tuple(missing), size)


def split_files(name: str) -> dict[str, Path]:
    """The paths of a fetched dataset's files, by key (e.g. {"train": ..., "test": ...}).

    A file may be in its stored form (`train.txt.xz`) or its raw form (`train.txt`); the
    readers of `seqnlp.text` open both.

    Raises:
        DatasetError: when the dataset is unknown, or absent or incomplete in the data
            home; the message says to run `seqnlp data get NAME`.
    """
    status = dataset_status(name)
    if status.state == "absent":
        raise DatasetError(
            f"dataset {name!r} is not in the data home ({status.folder}); "
            f"run `seqnlp data get {name}`"
        )
    if status.missing:
        raise DatasetError(
            f"dataset {name!r} is incomplete in {status.folder} (missing: "
            f"{', '.join(status.missing)}); run `seqnlp data get {name}`"
        )
    paths = {}
    for data_file in get_spec(name).files:
        found = locate(data_file, status.folder)
        assert found is not None  # dataset_status just saw every file
        paths[data_file.key] = found[1]
    return paths
