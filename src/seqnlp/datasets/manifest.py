"""What was verified, and when: a small record per dataset of the files whose sha256 last
matched the registry, with their sizes and modification times, so that a cheap look
(`stat`, no hashing) tells whether a file changed since.

The record is `DATA_HOME/.verified/NAME.json`, written by `fetch` after an import or a
download and by `verify` when every file matched:

    {"format": 1, "files": {"train.txt.xz": {"size": 399760, "mtime_ns": ..., "sha256": ...}}}

A file counts as changed when its size differs from the registry's (whatever the record
says), or when a record exists and the file is not in it or has another size or
modification time. Damage that keeps both the size and the time is found only by `verify`,
which rehashes.
"""

from __future__ import annotations

import json
from pathlib import Path

from seqnlp.datasets.spec import FileForm

FORMAT = 1
FOLDER = ".verified"


def manifest_path(home: Path, name: str) -> Path:
    """Where the record of dataset `name` lives in the data home `home`."""
    return home / FOLDER / f"{name}.json"


def read_manifest(path: Path) -> dict[str, dict[str, object]] | None:
    """The recorded files (file name -> size, mtime_ns, sha256), or None when there is no
    readable record (a data home filled by hand or by an older seqnlp)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    files = data.get("files")
    if not isinstance(files, dict):
        return None
    return {str(k): v for k, v in files.items() if isinstance(v, dict)}


def write_manifest(path: Path, files: dict[str, tuple[FileForm, Path]]) -> None:
    """Record `files` (file name -> its registry form and its path) as verified now.

    Raises:
        FileAccessError: the data home cannot be written.
    """
    from seqnlp.fileio import atomic_write

    record = {}
    for file_name, (form, file_path) in sorted(files.items()):
        info = file_path.stat()
        record[file_name] = {"size": info.st_size, "mtime_ns": info.st_mtime_ns,
                             "sha256": form.sha256}
    with atomic_write(path, "w", encoding="utf-8") as out:
        json.dump({"format": FORMAT, "files": record}, out, indent=1)
        out.write("\n")


def change_of(form: FileForm, file_path: Path,
              recorded: dict[str, dict[str, object]] | None) -> str | None:
    """Why the file at `file_path` (registry form `form`) is not as verified, or None.

    Returns:
        e.g. "train.txt.xz has 12 bytes, not 399,760" or "dev.txt was modified after it
        was verified"; None when it is unchanged (or there is no record to compare with
        and its size is right).
    """
    info = file_path.stat()
    if info.st_size != form.size:
        return f"{form.name} has {info.st_size:,} bytes, not {form.size:,}"
    if recorded is None:
        return None
    entry = recorded.get(form.name)
    if entry is None or entry.get("sha256") != form.sha256:
        return f"{form.name} was never verified"
    if entry.get("size") != info.st_size or entry.get("mtime_ns") != info.st_mtime_ns:
        return f"{form.name} was modified after it was verified"
    return None
