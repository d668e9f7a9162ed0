"""Batching: padding and masks, length buckets, the batchified stream and BPTT windows."""

from __future__ import annotations

import numpy as np
import pytest

from seqnlp.text.batching import batchify, bptt_windows, bucket_batches, pad_sequences


def test_pad_sequences_shapes_values_and_mask() -> None:
    ids, mask, lengths = pad_sequences([[5, 6, 7], [8], [], np.array([9, 10])], pad_value=-1)
    assert ids.dtype == np.int64 and mask.dtype == np.bool_ and lengths.dtype == np.int64
    assert ids.tolist() == [[5, 6, 7], [8, -1, -1], [-1, -1, -1], [9, 10, -1]]
    assert mask.tolist() == [
        [True, True, True],
        [True, False, False],
        [False, False, False],
        [True, True, False],
    ]
    assert lengths.tolist() == [3, 1, 0, 2]


@pytest.mark.parametrize(
    ("truncate", "expected"),
    [
        ("post", [[1, 2, 3], [7, 8, 0]]),
        ("pre", [[3, 4, 5], [7, 8, 0]]),
    ],
)
def test_pad_sequences_truncates_at_max_len(truncate: str, expected: list[list[int]]) -> None:
    ids, mask, lengths = pad_sequences([[1, 2, 3, 4, 5], [7, 8]], max_len=3, truncate=truncate)
    assert ids.tolist() == expected
    assert lengths.tolist() == [3, 2]
    assert mask.sum() == 5


def test_pad_sequences_pads_only_to_the_longest_when_max_len_is_larger() -> None:
    ids, _, _ = pad_sequences([[1], [2, 3]], max_len=10)
    assert ids.shape == (2, 2)


def test_pad_sequences_of_nothing_is_empty() -> None:
    ids, mask, lengths = pad_sequences([])
    assert ids.shape == (0, 0) and mask.shape == (0, 0) and lengths.shape == (0,)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"truncate": "middle"}, "truncate"),
        ({"max_len": -1}, "max_len"),
    ],
)
def test_pad_sequences_rejects_bad_options(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pad_sequences([[1]], **kwargs)


def test_pad_sequences_rejects_non_integer_ids() -> None:
    with pytest.raises(ValueError, match="sequence 1 must hold integer ids"):
        pad_sequences([[1, 2], [0.5]])


def _random_lengths(n: int = 1003) -> np.ndarray:
    return np.random.default_rng(7).integers(1, 120, size=n)


@pytest.mark.parametrize("shuffle", [True, False])
def test_bucket_batches_cover_every_index_exactly_once(shuffle: bool) -> None:
    lengths = _random_lengths()
    batches = bucket_batches(lengths, batch_size=32, shuffle=shuffle, seed=3)
    together = np.concatenate(batches)
    assert np.array_equal(np.sort(together), np.arange(len(lengths)))
    assert [len(b) for b in batches].count(32) == len(batches) - 1
    assert all(b.dtype == np.int64 for b in batches)


def test_bucket_batches_group_similar_lengths() -> None:
    lengths = _random_lengths()
    batches = bucket_batches(lengths, batch_size=32, seed=0)
    spreads = [int(lengths[b].max() - lengths[b].min()) for b in batches]
    # 1003 lengths over 1..119 give ~8.4 examples per length, so a batch of 32 spans
    # only a few distinct lengths; a random batch would span about 110.
    assert max(spreads) <= 6
    random_batch = np.random.default_rng(0).permutation(len(lengths))[:32]
    assert np.ptp(lengths[random_batch]) > 50


def test_bucket_batches_are_deterministic_per_seed() -> None:
    lengths = _random_lengths()
    first = bucket_batches(lengths, batch_size=16, seed=11)
    again = bucket_batches(lengths, batch_size=16, seed=11)
    other = bucket_batches(lengths, batch_size=16, seed=12)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_bucket_batches_without_shuffle_go_shortest_first_ties_by_index() -> None:
    batches = bucket_batches([5, 1, 3, 1, 5, 2, 9], batch_size=3, shuffle=False)
    assert [b.tolist() for b in batches] == [[1, 3, 5], [2, 0, 4], [6]]


def test_batchify_lays_rows_as_contiguous_streams_and_drops_the_remainder() -> None:
    data = batchify(np.arange(26), batch_size=4)
    assert data.dtype == np.int64
    assert data.tolist() == [
        [0, 1, 2, 3, 4, 5],
        [6, 7, 8, 9, 10, 11],
        [12, 13, 14, 15, 16, 17],
        [18, 19, 20, 21, 22, 23],
    ]


def test_batchify_too_short_stream_names_both_numbers() -> None:
    with pytest.raises(ValueError, match="3 tokens is too short for batch_size 4"):
        batchify([1, 2, 3], batch_size=4)


def test_bptt_windows_fixed_length_exact_values() -> None:
    data = batchify(np.arange(26), batch_size=2)  # rows 0..12 and 13..25
    windows = list(bptt_windows(data, bptt=5))
    assert [w[0].shape for w in windows] == [(2, 5), (2, 5), (2, 2)]
    inputs, targets = windows[0]
    assert inputs.tolist() == [[0, 1, 2, 3, 4], [13, 14, 15, 16, 17]]
    assert targets.tolist() == [[1, 2, 3, 4, 5], [14, 15, 16, 17, 18]]
    last_inputs, last_targets = windows[-1]
    assert last_inputs.tolist() == [[10, 11], [23, 24]]
    assert last_targets.tolist() == [[11, 12], [24, 25]]
    # the windows tile every input column once, and targets are inputs shifted by one
    assert np.array_equal(np.concatenate([w[0] for w in windows], axis=1), data[:, :-1])
    assert np.array_equal(np.concatenate([w[1] for w in windows], axis=1), data[:, 1:])


def test_bptt_windows_are_fresh_copies() -> None:
    data = batchify(np.arange(12), batch_size=2)
    inputs, _ = next(bptt_windows(data, bptt=3))
    inputs[:] = -1
    assert data.min() == 0


def test_bptt_windows_variable_lengths_are_seeded_and_awd_shaped() -> None:
    data = batchify(np.arange(200_000), batch_size=4)
    lengths = [w[0].shape[1] for w in bptt_windows(data, bptt=70, variable=True, seed=5)]
    again = [w[0].shape[1] for w in bptt_windows(data, bptt=70, variable=True, seed=5)]
    assert lengths == again
    assert sum(lengths) == data.shape[1] - 1
    body = np.array(lengths[:-1])
    assert body.min() >= 5
    assert abs(np.mean(body >= 53) - 0.95) < 0.02  # the bptt / 2 = 35 draws sit far below
    assert abs(np.median(body) - 70) <= 1


def test_bptt_windows_variable_lengths_never_drop_below_five() -> None:
    data = batchify(np.arange(400), batch_size=2)
    lengths = [w[0].shape[1] for w in bptt_windows(data, bptt=2, variable=True, seed=0)]
    assert min(lengths[:-1]) >= 5


def test_bptt_windows_too_short_stream_names_batch_size_and_bptt() -> None:
    data = batchify(np.arange(3), batch_size=3)  # one column: no target for any input
    with pytest.raises(ValueError, match="too short for batch_size 3 and bptt 35"):
        list(bptt_windows(data, bptt=35))
