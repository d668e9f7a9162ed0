"""sha256 digests of data files, streamed in blocks, and `verify`: rehash a fetched
dataset and report each file as ok, mismatch or missing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from seqnlp.datasets.home import dataset_dir, locate, record_verified
from seqnlp.datasets.registry import get_spec
from seqnlp.fileio import access_error

BLOCK_BYTES = 1 << 20


def sha256_file(path: Path) -> str:
    """The hex sha256 of the file at `path`, read in 1 MiB blocks.

    Raises:
        FileAccessError: the file cannot be read (`PATH: cannot read: permission denied`).
    """
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as stream:
            while block := stream.read(BLOCK_BYTES):
                digest.update(block)
    except OSError as exc:
        raise access_error(path, exc, "cannot read") from None
    return digest.hexdigest()


def copy_hashing(source: BinaryIO | Iterable[bytes], target: BinaryIO) -> tuple[str, int]:
    """Copy a binary stream (or an iterable of byte blocks) to `target`.

    Returns:
        The hex sha256 and the number of bytes of what was copied.
    """
    digest = hashlib.sha256()
    total = 0
    blocks = iter(lambda: source.read(BLOCK_BYTES), b"") if hasattr(source, "read") else source
    for block in blocks:
        digest.update(block)
        target.write(block)
        total += len(block)
    return digest.hexdigest(), total


def copy_file_hashing(source: Path, target: Path) -> str:
    """Copy `source` to `target` (created or truncated) and return the sha256 of the bytes.

    Raises:
        FileAccessError: `source` cannot be read or `target` written (naming which).
    """
    try:
        src = open(source, "rb")
    except OSError as exc:
        raise access_error(source, exc, "cannot read") from None
    with src:
        try:
            dst = open(target, "wb")
        except OSError as exc:
            raise access_error(target, exc, "cannot write") from None
        with dst:
            digest, _ = copy_hashing(src, dst)
    return digest


@dataclass(frozen=True)
class FileCheck:
    """The result of rehashing one file of a dataset.

    Attributes:
        key: the file's key in the registry.
        name: the file name found (or, when missing, the stored name expected).
        status: "ok", "mismatch" or "missing".
        expected: the registry sha256 of the form found (stored form when missing).
        actual: the sha256 computed, or None when missing.
    """

    key: str
    name: str
    status: str
    expected: str
    actual: str | None = None

    @property
    def ok(self) -> bool:
        """True when the file is present and its digest matches."""
        return self.status == "ok"


def verify(name: str) -> list[FileCheck]:
    """Rehash every file of dataset `name` in the data home.

    When every file matches, they are recorded as verified with their current sizes and
    times (so a dataset reported as changed, e.g. after a copy that reset the times, is
    usable again); otherwise the data home is left as it was.

    Returns:
        One `FileCheck` per registered file, in registry order. Nothing is raised for a
        mismatch or a missing file: callers decide (the CLI exits non-zero).

    Raises:
        DatasetError: when `name` is unknown.
        FileAccessError: a file cannot be read, or the record cannot be written.
    """
    spec = get_spec(name)
    folder = dataset_dir(name)
    checks = []
    for data_file in spec.files:
        found = locate(data_file, folder)
        if found is None:
            stored = data_file.stored
            checks.append(FileCheck(data_file.key, stored.name, "missing", stored.sha256))
            continue
        form, path = found
        actual = sha256_file(path)
        status = "ok" if actual == form.sha256 else "mismatch"
        checks.append(FileCheck(data_file.key, form.name, status, form.sha256, actual))
    if all(check.ok for check in checks):
        record_verified(spec.name)
    return checks
