"""Tests of seqnlp.decoding.state: nests of state, row selection and repetition, start tokens."""

from __future__ import annotations

import functools
import subprocess
import sys
from collections import namedtuple

import pytest
import torch

from seqnlp.decoding.state import (
    check_log_probs,
    first_tensor,
    forbid_token,
    map_state,
    reorder_state,
    repeat_state,
    start_tokens,
)

Pair = namedtuple("Pair", ["h", "c"])


def rows(n: int, width: int = 2) -> torch.Tensor:
    """(n, width) whose row i is filled with i, so a selection is readable."""
    return torch.arange(n).unsqueeze(1).repeat(1, width)


def test_reorder_selects_rows_of_every_leaf_and_keeps_the_nest() -> None:
    state = {"pair": Pair(rows(3), rows(3, 4)), "list": [rows(3)], "none": None, "tag": "x", "n": 7}
    index = torch.tensor([2, 2, 0])
    out = reorder_state(state, index)
    assert isinstance(out["pair"], Pair) and isinstance(out["list"], list)
    assert out["pair"].h[:, 0].tolist() == [2, 2, 0]
    assert out["pair"].c.shape == (3, 4) and out["pair"].c[:, 0].tolist() == [2, 2, 0]
    assert out["list"][0][:, 0].tolist() == [2, 2, 0]
    assert out["none"] is None and out["tag"] == "x" and out["n"] == 7
    assert state["pair"].h[:, 0].tolist() == [0, 1, 2]  # the input is not mutated


def test_repeat_puts_the_copies_of_a_row_next_to_each_other() -> None:
    out = repeat_state((rows(2), None), 3)
    assert out[0][:, 0].tolist() == [0, 0, 0, 1, 1, 1]
    assert out[1] is None
    with pytest.raises(ValueError, match="k must be positive, got 0"):
        repeat_state(rows(2), 0)


def test_a_batch_on_dim_1_is_handled_by_partial_helpers() -> None:
    h = torch.arange(2 * 3).view(2, 3, 1)  # (L=2, N=3, H=1), as an LSTM returns it
    reorder = functools.partial(reorder_state, dim=1)
    repeat = functools.partial(repeat_state, dim=1)
    assert reorder((h, h), torch.tensor([1, 0]))[0][:, :, 0].tolist() == [[1, 0], [4, 3]]
    assert repeat(h, 2)[:, :, 0].tolist() == [[0, 0, 1, 1, 2, 2], [3, 3, 4, 4, 5, 5]]


def test_map_state_on_a_plain_tensor_and_on_none() -> None:
    assert map_state(torch.ones(2), lambda t: t * 3).tolist() == [3.0, 3.0]
    assert map_state(None, lambda t: t * 3) is None


def test_first_tensor_walks_depth_first() -> None:
    a, b = torch.zeros(4, 1), torch.zeros(5)
    assert first_tensor({"x": None, "y": [("s", a), b]}) is a
    assert first_tensor([None, "s", 3]) is None


@pytest.mark.parametrize(
    ("state", "expected"),
    [(None, [7]), ({"h": torch.zeros(3, 2)}, [7, 7, 7]), ([None, (torch.zeros(2),)], [7, 7])],
)
def test_an_int_bos_takes_the_batch_size_from_the_state(state: object, expected: list[int]) -> None:
    tokens = start_tokens(7, state)
    assert tokens.dtype == torch.long and tokens.tolist() == expected


def test_a_tensor_bos_is_used_as_given_and_must_be_one_dimensional() -> None:
    assert start_tokens(torch.tensor([1, 2]), None).tolist() == [1, 2]
    with pytest.raises(ValueError, match="got shape \\(1, 2\\)"):
        start_tokens(torch.tensor([[1, 2]]), None)


def test_check_log_probs_names_the_expected_shape() -> None:
    check_log_probs(torch.zeros(3, 5), 3)
    with pytest.raises(ValueError, match=r"shape \(4, V\), got \(3, 5\)"):
        check_log_probs(torch.zeros(3, 5), 4)
    with pytest.raises(ValueError, match="float tensor"):
        check_log_probs(torch.zeros(3, 5, dtype=torch.long), 3)


def test_forbid_token_masks_one_column_of_a_copy() -> None:
    log_probs = torch.zeros(2, 3)
    out = forbid_token(log_probs, 1)
    assert out[:, 1].tolist() == [float("-inf")] * 2 and out[:, [0, 2]].eq(0).all()
    assert log_probs.eq(0).all()


def test_decoding_never_imports_models() -> None:
    code = "import sys, seqnlp.decoding; print('seqnlp.models' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
