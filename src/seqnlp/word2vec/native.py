"""The native word-vector format: a directory with `vectors.npy` (V, E) float32 and
`vocab.json` (format, format_version, vector_size, index_to_key, counts). It loads with one
read, or instantly as a read-only memory map, and is written atomically (built beside the
target, then renamed into place).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from seqnlp.errors import DataFormatError
from seqnlp.fileio import PathLike, atomic_write

NATIVE_FORMAT = "seqnlp.keyedvectors"
NATIVE_FORMAT_VERSION = 1
_VOCAB_FILE = "vocab.json"
_VECTORS_FILE = "vectors.npy"



def is_native(path: PathLike) -> bool:
    """Whether `path` is a directory written by `save_native`."""
    return Path(path, _VOCAB_FILE).is_file()


def save_native(
    path: PathLike, vectors: np.ndarray, keys: Sequence[str], counts: np.ndarray | None = None
) -> None:
    """Save vectors as a directory `path/` with `vectors.npy` and `vocab.json`, atomically.

    The directory is built beside `path` and renamed into place; an existing native
    directory at `path` is replaced. Anything else at `path` is left alone (error).

    Raises:
        FileExistsError: `path` exists and is not a native vectors directory.
    """
    target = Path(path)
    if target.exists() and not is_native(target) and not _is_empty_dir(target):
        raise FileExistsError(f"{target} exists and is not a seqnlp vectors directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        _write_native_files(staging, np.asarray(vectors, np.float32), keys, counts)
        _replace_dir(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _write_native_files(
    folder: Path, vectors: np.ndarray, keys: Sequence[str], counts: np.ndarray | None
) -> None:
    meta = {
        "format": NATIVE_FORMAT,
        "format_version": NATIVE_FORMAT_VERSION,
        "vector_size": int(vectors.shape[1]),
        "index_to_key": list(keys),
        "counts": None if counts is None else [int(c) for c in counts],
    }
    with atomic_write(folder / _VECTORS_FILE, "wb") as out:
        np.save(out, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
    with atomic_write(folder / _VOCAB_FILE, "w", encoding="utf-8") as out:
        json.dump(meta, out, ensure_ascii=False)


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def _replace_dir(staging: Path, target: Path) -> None:
    if not target.exists() or _is_empty_dir(target):
        os.replace(staging, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.replace(target, old / "previous")
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def load_native(
    path: PathLike, mmap: bool = False
) -> tuple[np.ndarray, list[str], np.ndarray | None]:
    """Load a directory written by `save_native`.

    Args:
        path: the directory.
        mmap: map `vectors.npy` read-only instead of reading it (instant for any size).

    Returns:
        `(vectors (V, E) float32, index_to_key, counts (V,) int64 or None)`.

    Raises:
        DataFormatError: missing files, an unknown format version, or inconsistent shapes.
    """
    folder = Path(path)
    meta = _read_meta(folder)
    keys = meta.get("index_to_key")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise DataFormatError(folder / _VOCAB_FILE, None, "index_to_key must be a list of strings")
    vectors = _read_vectors_npy(folder / _VECTORS_FILE, mmap)
    if vectors.shape != (len(keys), meta.get("vector_size")):
        raise DataFormatError(
            folder / _VECTORS_FILE, None, f"shape {vectors.shape} does not match "
            f"{len(keys)} keys of size {meta.get('vector_size')}"
        )
    counts = meta.get("counts")
    if counts is not None:
        if len(counts) != len(keys):
            raise DataFormatError(
                folder / _VOCAB_FILE, None, "counts and index_to_key differ in length"
            )
        counts = np.asarray(counts, dtype=np.int64)
    return vectors, keys, counts


def _read_meta(folder: Path) -> dict:
    meta_path = folder / _VOCAB_FILE
    if not meta_path.is_file():
        raise DataFormatError(folder, None, f"not a seqnlp vectors directory (no {_VOCAB_FILE})")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFormatError(meta_path, None, f"invalid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != NATIVE_FORMAT:
        raise DataFormatError(meta_path, None, f"format is not {NATIVE_FORMAT!r}")
    if meta.get("format_version") != NATIVE_FORMAT_VERSION:
        raise DataFormatError(
            meta_path, None, f"format_version {meta.get('format_version')!r} is not supported "
            f"(this seqnlp reads version {NATIVE_FORMAT_VERSION})"
        )
    return meta


def _read_vectors_npy(path: Path, mmap: bool) -> np.ndarray:
    if not path.is_file():
        raise DataFormatError(path, None, "missing vectors file")
    try:
        vectors = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataFormatError(path, None, f"not a readable .npy array ({exc})") from None
    if vectors.ndim != 2 or vectors.dtype != np.float32:
        raise DataFormatError(
            path, None, f"expected a 2-D float32 array, got {vectors.dtype} {vectors.shape}"
        )
    return vectors

