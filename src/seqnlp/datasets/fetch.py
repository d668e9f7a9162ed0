"""`fetch`: bring a dataset into the data home, by download or from a local folder, and
only ever as verified files.

Every file is first written into a staging folder beside its destination and checked
against the registry's sha256; only when all files of the dataset have passed are they
renamed into place. A failure of any file (checksum, missing file, network) removes the
staging folder, so the data home keeps its earlier content; the one thing left behind on
purpose is the `.part` file of an interrupted download, which the next call resumes.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from seqnlp.datasets.checksum import copy_file_hashing, copy_hashing, sha256_file
from seqnlp.datasets.download import download
from seqnlp.datasets.home import dataset_dir, locate, record_verified
from seqnlp.datasets.registry import get_spec
from seqnlp.datasets.spec import DataFile, DatasetSpec, FileForm, Source
from seqnlp.errors import ChecksumError, DatasetError, FileAccessError
from seqnlp.fileio import access_error

PathLike = str | os.PathLike[str]
_Local = tuple[FileForm | Source, Path]  # what was found in a folder, and where


def fetch(name: str, from_dir: PathLike | None = None, *, progress: bool | None = None) -> Path:
    """Download dataset `name`, or import it from `from_dir`, into the data home.

    Files already in the data home whose digest matches are kept as they are (a damaged
    one is replaced); the files are then recorded as verified (`seqnlp.datasets.manifest`).

    Args:
        name: a registered dataset.
        from_dir: a folder holding the files in their stored form (`train.txt.xz`), their
            raw form (`train.txt`) or their download form (`train.de.gz`, `text8.zip`);
            `from_dir/NAME` is searched too. None downloads from the registry URLs.
        progress: show download progress bars; None shows them only on a terminal.

    Returns:
        The dataset's folder in the data home.

    Raises:
        ChecksumError: a file's sha256 differs from the registry; nothing was installed.
        DatasetError: unknown dataset, files missing from `from_dir`, no download source,
            or a failed download; nothing was installed.
    """
    spec = get_spec(name)
    target = dataset_dir(name)
    wanted = [f for f in spec.files if not _already_valid(f, target)]
    local = _find_all(spec, wanted, Path(from_dir)) if from_dir is not None else None
    if local is None:
        _check_downloadable(spec, wanted)
    with _staging(target) as stage:
        for data_file in wanted:
            if local is not None:
                _import_file(data_file, *local[data_file.key], stage)
            else:
                _download_file(data_file, target, stage, progress)
        _install(spec, stage, target)
    record_verified(spec.name)
    return target


def _already_valid(data_file: DataFile, folder: Path) -> bool:
    """True when the data home already holds `data_file` with the right digest."""
    found = locate(data_file, folder)
    return found is not None and sha256_file(found[1]) == found[0].sha256


def _find_all(spec: DatasetSpec, wanted: list[DataFile], from_dir: Path) -> dict[str, _Local]:
    """Where each wanted file is in `from_dir` (or `from_dir/NAME`), all or an error."""
    _check_folder(from_dir)
    folders = [from_dir]
    if (from_dir / spec.name).is_dir():
        folders.append(from_dir / spec.name)
    for folder in folders:
        found = {f.key: hit for f in wanted if (hit := _find_local(f, folder)) is not None}
        if len(found) == len(wanted):
            return found
    first = {f.key: hit for f in wanted if (hit := _find_local(f, from_dir)) is not None}
    lacking = [f for f in wanted if f.key not in first]
    listing = "; ".join(f"{f.key} ({' or '.join(_local_names(f))})" for f in lacking)
    raise DatasetError(f"{spec.name}: not found in {from_dir}: {listing}")


def _check_folder(folder: Path) -> None:
    """Refuse a `--from` that is not a readable folder, in words."""
    if not folder.is_dir():
        reason = "is a file, not a folder" if folder.exists() else "no such folder"
        raise DatasetError(f"{folder}: {reason}")
    try:
        os.listdir(folder)
    except OSError as exc:
        raise access_error(folder, exc, "cannot read the folder") from None


def _local_names(data_file: DataFile) -> list[str]:
    """The file names accepted for `data_file` in a local folder, in order of preference."""
    names = [form.name for form in data_file.forms]
    if data_file.source is not None and data_file.source.filename not in names:
        names.append(data_file.source.filename)
    return names


def _find_local(data_file: DataFile, folder: Path) -> _Local | None:
    """The first accepted form of `data_file` found in `folder`.

    Raises:
        FileAccessError: one of its names is a folder there.
    """
    for name in _local_names(data_file):
        if (folder / name).is_dir():
            raise FileAccessError(folder / name, "is a folder, not a file", errno.EISDIR)
    found = locate(data_file, folder)
    if found is not None:
        return found
    source = data_file.source
    if source is not None and (folder / source.filename).is_file():
        return source, folder / source.filename
    return None


def _check_downloadable(spec: DatasetSpec, wanted: list[DataFile]) -> None:
    """Refuse, before touching anything, a download that the registry cannot verify."""
    lacking = [f.stored.name for f in wanted if f.source is None]
    if lacking:
        raise DatasetError(
            f"{spec.name}: no download source gives these exact files "
            f"({', '.join(lacking)}). {spec.notes}".rstrip()
        )


def _import_file(data_file: DataFile, what: FileForm | Source, path: Path, stage: Path) -> None:
    """Copy one local file into `stage`, verifying it (or extract it from its archive)."""
    if isinstance(what, Source) and what.archive is not None:
        _extract(data_file, what, path, stage)
        return
    form = data_file.content if isinstance(what, Source) else what
    actual = copy_file_hashing(path, stage / form.name)
    if actual != form.sha256:
        raise ChecksumError(path, form.sha256, actual)


def _download_file(
    data_file: DataFile, target: Path, stage: Path, progress: bool | None
) -> None:
    """Download one file (resuming its `.part`), verify it and move it into `stage`."""
    source = data_file.source
    assert source is not None  # _check_downloadable ran first
    part = target / f"{source.filename}.part"
    download(source.url, part, expected_size=source.size, progress=progress)
    try:
        if source.archive is None:
            form = data_file.content
            actual = sha256_file(part)
            if actual != form.sha256:
                raise ChecksumError(source.url, form.sha256, actual)
            os.replace(part, stage / form.name)
        else:
            _extract(data_file, source, part, stage)
    except ChecksumError:
        part.unlink(missing_ok=True)  # a wrong download must not be resumed
        raise
    part.unlink(missing_ok=True)


def _extract(data_file: DataFile, source: Source, archive: Path, stage: Path) -> None:
    """Write the raw content of `data_file` from its gzip or zip `archive` into `stage`."""
    if source.sha256 is not None:
        actual = sha256_file(archive)
        if actual != source.sha256:
            raise ChecksumError(archive, source.sha256, actual)
    form = data_file.content
    try:
        with _open_member(source, archive) as member, open(stage / form.name, "wb") as out:
            actual, _ = copy_hashing(member, out)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{archive}: cannot extract {form.name}: {exc}") from None
    if actual != form.sha256:
        raise ChecksumError(f"{archive}: {form.name}", form.sha256, actual)


@contextlib.contextmanager
def _open_member(source: Source, archive: Path) -> Iterator[BinaryIO]:
    """A binary stream of the file inside `archive`."""
    if source.archive == "gzip":
        with gzip.open(archive, "rb") as stream:
            yield stream  # type: ignore[misc]
        return
    with zipfile.ZipFile(archive) as bundle:
        if source.member not in bundle.namelist():
            raise DatasetError(f"{archive}: no member {source.member!r} in the zip archive")
        with bundle.open(str(source.member)) as stream:
            yield stream  # type: ignore[misc]


def _install(spec: DatasetSpec, stage: Path, target: Path) -> None:
    """Rename the verified files from `stage` into `target`, replacing other forms."""
    for data_file in spec.files:
        staged = [form for form in data_file.forms if (stage / form.name).is_file()]
        if not staged:
            continue
        for form in data_file.forms:
            if form is not staged[0]:
                (target / form.name).unlink(missing_ok=True)
        os.replace(stage / staged[0].name, target / staged[0].name)


@contextlib.contextmanager
def _staging(target: Path) -> Iterator[Path]:
    """A temporary folder inside `target`; on failure, undo every folder it created."""
    created = _missing_ancestors(target)
    target.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=target))
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        for folder in created:  # innermost first; a kept `.part` keeps its folder
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    shutil.rmtree(stage, ignore_errors=True)


def _missing_ancestors(path: Path) -> list[Path]:
    """`path` and its ancestors that do not exist yet, innermost first."""
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing
