"""Reading the `.npz` file that `Word2Vec.save` writes, trusting nothing in it.

The file is a zip archive of three `.npy` members: `meta` (a JSON string: format_version,
config, vocab), `w_in` and `w_out` (V, E) float32. Each member's header is checked against
the member's stored size before its array is read, and the matrices against the saved
config and vocabulary before a model is built, so a damaged or hostile file ends in a
`DataFormatError` naming it, never in a huge allocation or a kernel indexing out of bounds.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from typing import Any

import numpy as np

from seqnlp.errors import DataFormatError
from seqnlp.fileio import PathLike, access_error
from seqnlp.word2vec.config import Word2VecConfig
from seqnlp.word2vec.native import read_npy_header
from seqnlp.word2vec.vocab import Word2VecVocab

MEMBERS = ("meta.npy", "w_in.npy", "w_out.npy")
_MAX_META_CHARS = 1 << 28  # the JSON of a vocabulary of a few million words fits


def read_model_file(
    path: PathLike, format_version: int
) -> tuple[Word2VecConfig, Word2VecVocab, np.ndarray, np.ndarray]:
    """`(config, vocab, w_in, w_out)` from a file written by `Word2Vec.save`.

    Args:
        path: the `.npz` file.
        format_version: the version this seqnlp writes and reads.

    Raises:
        DataFormatError: not a zip archive of the three members, a member that is not
            a plain `.npy` array, a meta that is not the expected JSON, an unsupported
            format version, an invalid config or vocabulary, or matrices whose shape
            or type does not match them.
        FileAccessError: the file cannot be opened or read.
    """
    name = os.fspath(path)
    try:
        with zipfile.ZipFile(name) as archive:
            arrays = {member: _read_member(archive, member, name) for member in MEMBERS}
    except OSError as exc:
        raise access_error(name, exc, "cannot read") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, RuntimeError,
            NotImplementedError, ValueError) as exc:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression
        raise DataFormatError(name, None, f"not a word2vec model file ({exc})") from None
    meta = _parse_meta(arrays["meta.npy"], name, format_version)
    config, vocab = _config_and_vocab(meta, name)
    expected = (len(vocab), config.vector_size)
    for member in ("w_in.npy", "w_out.npy"):
        matrix = arrays[member]
        if matrix.dtype != np.float32 or matrix.shape != expected:
            raise DataFormatError(
                name, None, f"{member[:-4]} is {matrix.dtype} {matrix.shape}, but the saved "
                f"vocabulary and config need float32 {expected}"
            )
    w_in, w_out = (np.ascontiguousarray(arrays[m]) for m in ("w_in.npy", "w_out.npy"))
    return config, vocab, w_in, w_out


def _read_member(archive: zipfile.ZipFile, member: str, path: str) -> np.ndarray:
    """One `.npy` member, its header checked against the member's size before reading."""
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise DataFormatError(path, None, f"not a word2vec model file (no {member})") from None
    if info.compress_type != zipfile.ZIP_STORED or info.file_size > os.path.getsize(path):
        raise DataFormatError(path, None, f"{member} is compressed or larger than the file")
    with archive.open(info) as stream:
        shape, fortran, dtype = read_npy_header(stream, f"{path}:{member}")  # type: ignore
        data_bytes = info.file_size - stream.tell()
        expected = math.prod(shape) * dtype.itemsize  # exact: Python integers
        plain = dtype.kind in "fU" and not dtype.hasobject and dtype.itemsize > 0
        if not plain or expected != data_bytes:
            raise DataFormatError(
                path, None, f"{member}: a {dtype} array of shape {shape} does not fill the "
                f"{data_bytes:,} bytes stored"
            )
        array = np.frombuffer(stream.read(data_bytes), dtype=dtype)
    if len(array) * dtype.itemsize != data_bytes:
        raise DataFormatError(path, None, f"{member}: truncated")
    return array.reshape(shape, order="F" if fortran else "C")


def _parse_meta(array: np.ndarray, path: str, format_version: int) -> dict[str, Any]:
    if array.dtype.kind != "U" or array.shape != () or array.dtype.itemsize > 4 * _MAX_META_CHARS:
        raise DataFormatError(path, None, "meta is not a JSON string")
    try:
        meta = json.loads(str(array[()]))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise DataFormatError(path, None, f"meta is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise DataFormatError(path, None, "meta is not a JSON object")
    if meta.get("format_version") != format_version:
        raise DataFormatError(
            path, None, f"unsupported format_version {meta.get('format_version')!r} (this "
            f"seqnlp reads {format_version})"
        )
    return meta


def _config_and_vocab(meta: dict[str, Any], path: str) -> tuple[Word2VecConfig, Word2VecVocab]:
    config, vocab = meta.get("config"), meta.get("vocab")
    if not isinstance(config, dict) or not isinstance(vocab, dict):
        raise DataFormatError(path, None, "meta lacks its config or vocab object")
    try:
        parsed = Word2VecConfig.from_dict(config)
    except (TypeError, ValueError) as exc:
        raise DataFormatError(path, None, f"invalid config: {exc}") from None
    keys, counts = vocab.get("index_to_key"), vocab.get("counts")
    totals = (vocab.get("total_words"), vocab.get("num_sentences"))
    if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)
            and isinstance(counts, list) and all(_is_count(c) for c in counts)
            and all(_is_count(t) for t in totals)):
        raise DataFormatError(
            path, None, "invalid vocab: index_to_key must be strings, and counts, "
            "total_words and num_sentences non-negative integers"
        )
    try:
        built = Word2VecVocab(keys, np.asarray(counts, np.int64), *totals)  # type: ignore
    except ValueError as exc:
        raise DataFormatError(path, None, f"invalid vocab: {exc}") from None
    return parsed, built


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63
