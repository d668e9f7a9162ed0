"""The data home: where fetched datasets live (`$SEQNLP_DATA`, else `~/.cache/seqnlp`), one
folder per dataset, and which of a dataset's files are there.

Only verified files ever carry their final names in the data home (`fetch` writes to a
temporary name and renames after checking the sha256). A dataset with some of its files
present is reported as partial and is not usable until `seqnlp data get NAME` completes
it; one whose files changed after they were verified (a size other than the registry's,
or another size or time than `seqnlp.datasets.manifest` recorded) is reported as changed
and is not usable until `seqnlp data verify NAME` finds it intact or `seqnlp data get
NAME` replaces the damaged files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from seqnlp.datasets.manifest import change_of, manifest_path, read_manifest, write_manifest
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
        changed: how files found differ from what was verified ("dev.txt was modified
            after it was verified").
        verified: whether the data home holds a record of verified files to compare with
            (False for files put there by hand or by an older seqnlp).
    """

    name: str
    folder: Path
    present: tuple[str, ...]
    missing: tuple[str, ...]
    size: int
    changed: tuple[str, ...] = ()
    verified: bool = False

    @property
    def complete(self) -> bool:
        """True when every file is present and none changed since it was verified."""
        return not self.missing and not self.changed

    @property
    def state(self) -> str:
        """"complete", "changed", "partial" or "absent"."""
        if self.missing:
            return "partial" if self.present else "absent"
        return "changed" if self.changed else "complete"


def dataset_status(name: str) -> DatasetStatus:
    """Which files of `name` are in the data home, and which changed since they were
    verified (sizes and times only; `verify` rehashes)."""
    spec = get_spec(name)
    folder = dataset_dir(name)
    recorded = read_manifest(manifest_path(data_home(), spec.name))
    present, missing, changed, size = [], [], [], 0
    for data_file in spec.files:
        found = locate(data_file, folder)
        if found is None:
            missing.append(data_file.key)
            continue
        present.append(data_file.key)
        size += found[1].stat().st_size
        change = change_of(*found, recorded)
        if change is not None:
            changed.append(change)
    return DatasetStatus(spec.name, folder, tuple(present), tuple(missing), size,
                         tuple(changed), recorded is not None)


def record_verified(name: str) -> None:
    """Record the files of `name` now in the data home as verified (call it right after
    their sha256 matched the registry), with their sizes and times.

    Raises:
        FileAccessError: the record cannot be written.
    """
    spec = get_spec(name)
    folder = dataset_dir(name)
    files = {}
    for data_file in spec.files:
        found = locate(data_file, folder)
        if found is not None:
            files[found[0].name] = found
    write_manifest(manifest_path(data_home(), spec.name), files)


def get_command(name: str) -> str:
    """The command that fetches `name` (with --from where no download gives its files)."""
    folder = "" if get_spec(name).downloadable else " --from FOLDER"
    return f"seqnlp data get {name}{folder}"


def split_files(name: str) -> dict[str, Path]:
    """The paths of a fetched dataset's files, by key (e.g. {"train": ..., "test": ...}).

    A file may be in its stored form (`train.txt.xz`) or its raw form (`train.txt`); the
    readers of `seqnlp.text` open both.

    Raises:
        DatasetError: when the dataset is unknown, or absent, incomplete or changed since
            it was verified in the data home; the message says what to run.
    """
    status = dataset_status(name)
    if status.state == "absent":
        raise DatasetError(
            f"dataset {name!r} is not in the data home ({status.folder}); "
            f"run `{get_command(name)}`"
        )
    if status.missing:
        raise DatasetError(
            f"dataset {name!r} is incomplete in {status.folder} (missing: "
            f"{', '.join(status.missing)}); run `{get_command(name)}`"
        )
    if status.changed:
        raise DatasetError(
            f"dataset {name!r} has changed in {status.folder} "
            f"({'; '.join(status.changed)}): run `seqnlp data verify {name}` to check it, "
            f"and `{get_command(name)}` to replace what is damaged"
        )
    paths = {}
    for data_file in get_spec(name).files:
        found = locate(data_file, status.folder)
        assert found is not None  # dataset_status just saw every file
        paths[data_file.key] = found[1]
    return paths
