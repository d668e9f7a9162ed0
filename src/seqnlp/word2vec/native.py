"""The native word-vector format: a directory with `vectors.npy` (V, E) float32 and
`vocab.json` (format, format_version, vector_size, index_to_key, counts). It loads with one
read, or instantly as a read-only memory map, and is written atomically (built beside the
target, then renamed into place).
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import stat
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from seqnlp.errors import DataFormatError, FileAccessError
from seqnlp.fileio import PathLike, access_error, atomic_write
from seqnlp.word2vec.formats import MAX_VECTOR_SIZE, first_non_finite_row

NATIVE_FORMAT = "seqnlp.keyedvectors"
NATIVE_FORMAT_VERSION = 1
_VOCAB_FILE = "vocab.json"
_VECTORS_FILE = "vectors.npy"
_NPY_MAGIC = b"\x93NUMPY"
_MAX_NPY_HEADER_BYTES = 1 << 16  # numpy writes 128 bytes or so; it reads at most 10,000


def is_native(path: PathLike) -> bool:
    """Whether `path` is a directory written by `save_native` (False when it cannot be told)."""
    try:
        return Path(path, _VOCAB_FILE).is_file()
    except OSError:  # e.g. a directory without search permission
        return False


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

    Nothing in the directory is trusted: `vocab.json` must hold unique string keys and
    non-negative integer counts, one per key, and the `.npy` header must describe a
    (V, E) float32 array that fills the file exactly, before the array is read. Without
    `mmap`, a row holding NaN or infinity is refused too (a memory map is not scanned, so
    that it stays instant).

    Args:
        path: the directory.
        mmap: map `vectors.npy` read-only instead of reading it (instant for any size).

    Returns:
        `(vectors (V, E) float32, index_to_key, counts (V,) int64 or None)`.

    Raises:
        DataFormatError: missing files, an unknown format version, bad keys or counts,
            inconsistent shapes, or non-finite values.
        FileAccessError: a file cannot be read.
    """
    folder = Path(path)
    meta_path = folder / _VOCAB_FILE
    meta = _read_meta(folder)
    keys = _check_keys(meta.get("index_to_key"), meta_path)
    size = meta.get("vector_size")
    if not _is_int(size) or not 1 <= size <= MAX_VECTOR_SIZE:
        raise DataFormatError(
            meta_path, None, f"vector_size must be an integer in [1, {MAX_VECTOR_SIZE:,}], "
            f"got {_short(size)}"
        )
    counts = _check_counts(meta.get("counts"), len(keys), meta_path)
    vectors = _read_vectors_npy(folder / _VECTORS_FILE, (len(keys), size), mmap)
    if not mmap:
        bad = first_non_finite_row(vectors)
        if bad is not None:
            raise DataFormatError(
                folder / _VECTORS_FILE, None, f"row {bad} (the vector of {keys[bad]!r}) "
                "holds NaN or infinity"
            )
    return vectors, keys, counts


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value: object) -> str:
    """A JSON value for an error message, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_keys(keys: object, meta_path: Path) -> list[str]:
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise DataFormatError(meta_path, None, "index_to_key must be a list of strings")
    if len(set(keys)) != len(keys):
        seen: set[str] = set()
        for key in keys:
            if key in seen:
                raise DataFormatError(meta_path, None, f"index_to_key holds {key!r} twice")
            seen.add(key)
    return keys


def _check_counts(counts: object, num_keys: int, meta_path: Path) -> np.ndarray | None:
    if counts is None:
        return None
    if not isinstance(counts, list) or not all(
        _is_int(c) and 0 <= c < 2**63 for c in counts
    ):
        raise DataFormatError(
            meta_path, None, "counts must be null or a list of non-negative integers "
            "below 2**63"
        )
    if len(counts) != num_keys:
        raise DataFormatError(
            meta_path, None, f"counts has {len(counts)} entries but index_to_key has {num_keys}"
        )
    return np.asarray(counts, dtype=np.int64)


def _read_meta(folder: Path) -> dict:
    meta_path = folder / _VOCAB_FILE
    try:
        is_folder = stat.S_ISDIR(os.stat(folder).st_mode)
        if not is_folder:
            raise DataFormatError(folder, None, "not a seqnlp vectors directory (a file)")
        raw = meta_path.read_bytes()
    except FileNotFoundError as exc:
        if exc.filename != os.fspath(meta_path):
            raise access_error(folder, exc) from None
        raise FileAccessError(
            folder, f"is a directory but not a seqnlp vectors directory (no {_VOCAB_FILE})",
            errno.EISDIR,
        ) from None
    except OSError as exc:  # permission denied: on the folder, or on vocab.json
        raise access_error(meta_path, exc, "cannot read") from None
    try:
        meta = json.loads(raw.decode("utf-8-sig"))  # a byte-order mark is dropped
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFormatError(meta_path, None, f"invalid JSON ({exc})") from None
    except RecursionError:
        raise DataFormatError(meta_path, None, "invalid JSON (nested too deeply)") from None
    if not isinstance(meta, dict) or meta.get("format") != NATIVE_FORMAT:
        raise DataFormatError(meta_path, None, f"format is not {NATIVE_FORMAT!r}")
    if meta.get("format_version") != NATIVE_FORMAT_VERSION:
        raise DataFormatError(
            meta_path, None, f"format_version {_short(meta.get('format_version'))} is not "
            f"supported (this seqnlp reads version {NATIVE_FORMAT_VERSION})"
        )
    return meta


def _read_vectors_npy(path: Path, shape: tuple[int, int], mmap: bool) -> np.ndarray:
    """Check the .npy header against `shape`, float32 and the file size; then load."""
    if not path.is_file():
        raise DataFormatError(path, None, "missing vectors file")
    try:
        with open(path, "rb") as stream:
            header_shape, fortran, dtype = read_npy_header(stream, path)
            data_start = stream.tell()
        file_size = os.stat(path).st_size
    except OSError as exc:
        raise access_error(path, exc, "cannot read") from None
    if dtype != np.dtype("<f4") or len(header_shape) != 2:
        raise DataFormatError(
            path, None, f"expected a 2-D float32 array, got {dtype} {header_shape}"
        )
    if header_shape != shape:
        raise DataFormatError(
            path, None, f"shape {header_shape} does not match {shape[0]} keys of size {shape[1]}"
        )
    if data_start + 4 * shape[0] * shape[1] != file_size:
        raise DataFormatError(
            path, None, f"the header describes {4 * shape[0] * shape[1]:,} bytes of data, "
            f"but the file holds {file_size - data_start:,}"
        )
    if shape[0] == 0 or fortran:  # nothing to map / an unusual layout: plain read
        mmap = False
    # The header has been read and checked: the data is read (or mapped) from its offset,
    # without handing the file to np.load, which would parse the header again.
    try:
        if mmap:
            return np.memmap(path, dtype=dtype, mode="r", offset=data_start, shape=shape)
        with open(path, "rb") as stream:
            stream.seek(data_start)
            vectors = np.fromfile(stream, dtype=dtype, count=shape[0] * shape[1])
    except OSError as exc:
        raise access_error(path, exc, "cannot read") from None
    if len(vectors) != shape[0] * shape[1]:  # the file shrank since its size was checked
        raise DataFormatError(path, None, "the file ends before its data does")
    return np.ascontiguousarray(vectors.reshape(shape, order="F" if fortran else "C"))


def read_npy_header(stream: BinaryIO, path: PathLike) -> tuple[tuple[int, ...], bool, np.dtype]:
    """`(shape, fortran_order, dtype)` from the `.npy` header at the stream's position,
    which is left at the first byte of the data.

    Nothing is allocated from the header's claims: its length field is checked against
    `_MAX_NPY_HEADER_BYTES` before the header is read (numpy would first allocate the
    claimed length, up to 4 GiB). numpy parses the header as a Python literal, and
    damaged bytes make it raise almost anything (ValueError, SyntaxError,
    tokenize.TokenError, ...): each becomes a `DataFormatError` naming `path`.
    """
    try:
        prefix = stream.read(len(_NPY_MAGIC) + 2)
        if len(prefix) < len(_NPY_MAGIC) + 2 or not prefix.startswith(_NPY_MAGIC):
            raise DataFormatError(path, None, "not a readable .npy file (no magic string)")
        version = (prefix[-2], prefix[-1])
        if version not in ((1, 0), (2, 0)):
            raise DataFormatError(path, None, f"unsupported .npy format version {version}")
        length_field = stream.read(2 if version == (1, 0) else 4)
        length = int.from_bytes(length_field, "little")
        if len(length_field) not in (2, 4) or length > _MAX_NPY_HEADER_BYTES:
            raise DataFormatError(
                path, None, f"the .npy header claims {length:,} bytes, more than a header "
                f"takes ({_MAX_NPY_HEADER_BYTES:,}): the file is damaged"
            )
        header = io.BytesIO(prefix + length_field + stream.read(length))
        np.lib.format.read_magic(header)
        with warnings.catch_warnings():  # a Python 2 header ("2L") is read, not warned about
            warnings.simplefilter("ignore")
            if version == (1, 0):
                return np.lib.format.read_array_header_1_0(header)
            return np.lib.format.read_array_header_2_0(header)
    except OSError as exc:
        raise access_error(path, exc, "cannot read") from None
    except DataFormatError:
        raise
    except Exception as exc:  # noqa: BLE001 - any type: see the docstring
        reason = _first_line(exc)
        raise DataFormatError(path, None, f"not a readable .npy file ({reason})") from None


def _first_line(exc: BaseException) -> str:
    """numpy's messages can run over several lines; an error is reported on one."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
