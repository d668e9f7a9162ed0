"""Batching of token ids: padding with masks, length bucketing, and the batch-first stream
layout with truncated back-propagation-through-time windows of language modelling
(variable lengths as in AWD-LSTM, Merity et al., 2018); and the seeded dev cut every task
takes from a training file that has no dev split.

Legend: B batch, T time (padded length), N columns of a batchified stream.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

import numpy as np

Item = TypeVar("Item")

_AWD_FULL_PROB = 0.95  # AWD-LSTM: use the full bptt with this probability, else bptt / 2
_AWD_STD = 5.0  # standard deviation of the sampled window length
_AWD_MIN_LEN = 5  # the sampled window length is at least this


def pad_sequences(
    seqs: Sequence[Sequence[int] | np.ndarray],
    pad_value: int = 0,
    max_len: int | None = None,
    truncate: str = "post",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Right-pad integer sequences into one array, with a mask of the real positions.

    Args:
        seqs: B sequences of token ids (lists or 1-D integer arrays), possibly empty.
        pad_value: the id written into padded positions.
        max_len: cut sequences longer than this. T is the longest length after cutting,
            so a batch of short sequences is not padded up to `max_len`.
        truncate: which end of a long sequence to cut: "post" keeps the first `max_len`
            ids, "pre" keeps the last `max_len`.

    Returns:
        `(ids, mask, lengths)`: ids (B, T) int64, mask (B, T) bool (True on real ids),
        lengths (B,) int64 (after truncation). Padding is always on the right.

    Example:
        >>> ids, mask, lengths = pad_sequences([[5, 6, 7], [8]], pad_value=0)
        >>> ids.tolist(), lengths.tolist()
        ([[5, 6, 7], [8, 0, 0]], [3, 1])
    """
    if truncate not in ("post", "pre"):
        raise ValueError(f'truncate must be "post" or "pre", got {truncate!r}')
    if max_len is not None and max_len < 0:
        raise ValueError(f"max_len must be >= 0, got {max_len}")
    arrays = [_as_id_array(seq, i) for i, seq in enumerate(seqs)]
    if max_len is not None:
        arrays = [_truncate(a, max_len, truncate) for a in arrays]
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)  # (B,)
    width = int(lengths.max()) if len(arrays) else 0
    ids = np.full((len(arrays), width), pad_value, dtype=np.int64)  # (B, T)
    for row, array in zip(ids, arrays):
        row[: len(array)] = array
    mask = np.arange(width) < lengths[:, None]  # (B, T)
    return ids, mask, lengths


def padded_batch(
    sequences: Sequence[np.ndarray], indices: Sequence[int] | np.ndarray, pad_value: int = 0,
    min_len: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The right-padded ids and lengths of the sequences at `indices` (one batch).

    Args:
        sequences: N 1-D integer arrays (every example of a split).
        indices: the B examples of this batch, in batch order.
        pad_value: the id of padded positions.
        min_len: pad the batch to at least this width (a model that reads a fixed
            number of steps, e.g. flatten pooling).

    Returns:
        `(ids (B, T) int64, lengths (B,) int64)`, contiguous.
    """
    ids, _, lengths = pad_sequences([sequences[i] for i in indices], pad_value=pad_value)
    if min_len and ids.shape[1] < min_len:
        ids = np.pad(ids, ((0, 0), (0, min_len - ids.shape[1])), constant_values=pad_value)
    return np.ascontiguousarray(ids), lengths  # (B, T), (B,)


def _truncate(array: np.ndarray, max_len: int, truncate: str) -> np.ndarray:
    if len(array) <= max_len:
        return array
    return array[:max_len] if truncate == "post" else array[len(array) - max_len:]


def _as_id_array(seq: Sequence[int] | np.ndarray, position: int) -> np.ndarray:
    array = np.asarray(seq)
    if array.ndim != 1:
        raise ValueError(f"sequence {position} must be 1-D, got shape {array.shape}")
    if array.size and array.dtype.kind not in "iu":
        raise ValueError(f"sequence {position} must hold integer ids, got dtype {array.dtype}")
    return array.astype(np.int64, copy=False)


def bucket_batches(
    lengths: Sequence[int] | np.ndarray,
    batch_size: int,
    shuffle: bool = True,
    seed: int | None = 0,
) -> list[np.ndarray]:
    """Group example indices into batches of similar length, to waste little padding.

    The indices are sorted by length (ties broken at random when shuffling, by index
    otherwise) and cut into consecutive batches of `batch_size`; only the last batch (the
    longest examples) may be smaller. With `shuffle`, the order of the batches is then
    shuffled. Each index appears in exactly one batch, and the result is the same for the
    same `seed` (pass a different seed each epoch to vary it).

    Args:
        lengths: (N,) the length of each example.
        batch_size: examples per batch.
        shuffle: shuffle ties and batch order; if False, batches go from shortest to longest.
        seed: the random seed used when shuffling.

    Returns:
        A list of int64 index arrays, one per batch.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    lengths = np.asarray(lengths, dtype=np.int64).reshape(-1)  # (N,)
    if shuffle:
        rng = np.random.default_rng(seed)
        tie_break = rng.permutation(len(lengths))
        order = np.lexsort((tie_break, lengths))  # sort by length, then by tie_break
    else:
        order = np.argsort(lengths, kind="stable")
    batches = [order[i: i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def batchify(ids: Sequence[int] | np.ndarray, batch_size: int) -> np.ndarray:
    """Cut one long stream of token ids into `batch_size` contiguous rows.

    For the stream `a b c ... z` (26 ids) and batch_size 4, N = 26 // 4 = 6:

        ┌ a b c d e f ┐
        │ g h i j k l │    row r holds ids[r*N : (r+1)*N]; each row is read left to
        │ m n o p q r │    right, so the hidden state of row r carries over from one
        └ s t u v w x ┘    window to the next; `y z` do not fill a column and are dropped.

    This is pytorch/examples' `batchify` transposed: batch first.

    Args:
        ids: the token ids of the whole corpus, in order.
        batch_size: B, the number of parallel streams.

    Returns:
        (B, N) int64 array.

    Raises:
        ValueError: the stream has fewer ids than `batch_size` (naming both numbers).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    stream = np.asarray(ids, dtype=np.int64).reshape(-1)
    columns = len(stream) // batch_size
    if columns < 1:
        raise ValueError(
            f"a stream of {len(stream)} tokens is too short for batch_size {batch_size}: "
            f"each of the {batch_size} rows needs at least one token"
        )
    return stream[: columns * batch_size].reshape(batch_size, columns)  # (B, N)


def bptt_windows(
    data: np.ndarray,
    bptt: int,
    variable: bool = False,
    seed: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Walk a batchified stream left to right in windows for truncated BPTT.

    Each window is `(inputs, targets)` with `targets` the next token of each input:
    `targets[:, t] == data[:, i + t + 1]` where `inputs[:, t] == data[:, i + t]`. Windows
    tile the columns without overlap; the last one is shorter when `bptt` does not divide
    N - 1 (the last column is only ever a target).

    With `variable=True` the length of each window is drawn as in AWD-LSTM: the base is
    `bptt` with probability 0.95, else `bptt / 2`; the length is then
    `max(5, int(normal(base, 5)))`, cut to what is left of the stream. A trainer may
    scale its learning rate by `length / bptt`, as AWD-LSTM does. Note the floor of 5
    exceeds a `bptt` below 5.

    Args:
        data: (B, N) from `batchify`.
        bptt: the window length.
        variable: draw window lengths at random (AWD-LSTM) instead of using `bptt`.
        seed: the seed of the length draws (`variable=True` only).

    Yields:
        `(inputs, targets)`, each a fresh (B, t) int64 array.

    Raises:
        ValueError: `data` has fewer than 2 columns, so no window fits (the message names
            the batch size and `bptt`).
    """
    if bptt < 1:
        raise ValueError(f"bptt must be >= 1, got {bptt}")
    data = np.asarray(data, dtype=np.int64)
    if data.ndim != 2:
        raise ValueError(f"data must be (B, N) from batchify, got shape {data.shape}")
    batch_size, columns = data.shape
    if columns < 2:
        raise ValueError(
            f"a stream of {columns} tokens per row is too short for batch_size {batch_size} "
            f"and bptt {bptt}: each row needs at least 2 tokens (an input and its target)"
        )
    rng = np.random.default_rng(seed) if variable else None
    start = 0
    while start < columns - 1:
        length = bptt if rng is None else _awd_window_length(rng, bptt)
        length = min(length, columns - 1 - start)
        inputs = data[:, start: start + length].copy()  # (B, t)
        targets = data[:, start + 1: start + 1 + length].copy()  # (B, t)
        yield inputs, targets
        start += length


def _awd_window_length(rng: np.random.Generator, bptt: int) -> int:
    base = bptt if rng.random() < _AWD_FULL_PROB else bptt / 2.0
    return max(_AWD_MIN_LEN, int(rng.normal(base, _AWD_STD)))


def dev_cut(total: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The indices `(train, dev)` of a random `fraction` of `total` items cut off as dev,
    each in file order: the same cut for the same `(total, fraction, seed)`."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"dev fraction must be in [0, 1), got {fraction}")
    order = np.random.default_rng(seed).permutation(total)
    cut = int(round(total * fraction))
    return np.sort(order[cut:]), np.sort(order[:cut])


def split_dev(items: Sequence[Item], fraction: float, seed: int
              ) -> tuple[list[Item], list[Item]]:
    """Cut a random `fraction` of `items` off as a dev set: `(train, dev)`, in file order
    (see `dev_cut`; raw lines and parsed examples are cut alike)."""
    train, dev = dev_cut(len(items), fraction, seed)
    return [items[i] for i in train], [items[i] for i in dev]
