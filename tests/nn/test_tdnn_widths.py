"""MultiWidthTDNN: Kim's (2014) windows of several widths side by side."""

from __future__ import annotations

import pytest
import torch

from seqnlp.nn.tdnn import MultiWidthTDNN, TDNNStack, context_offsets


def test_each_width_is_a_tdnn_stack_of_its_window_and_the_outputs_are_concatenated():
    torch.manual_seed(0)
    bank = MultiWidthTDNN(4, 3, (3, 4, 5), num_layers=2).double()
    x = torch.randn(2, 9, 4, dtype=torch.float64)
    lengths = torch.tensor([9, 4])
    y = bank(x, lengths)
    assert y.shape == (2, 9, 9)
    for i, width in enumerate((3, 4, 5)):
        alone = TDNNStack(4, 3, (context_offsets(width),) * 2).double()
        alone.load_state_dict(bank.branches[i].state_dict())
        torch.testing.assert_close(y[..., 3 * i:3 * (i + 1)], alone(x, lengths))
    assert [b.layers[0].context for b in bank.branches] == [(-1, 0, 1), (-1, 0, 1, 2),
                                                            (-2, -1, 0, 1, 2)]


def test_a_padded_sequence_gives_the_features_of_the_sequence_alone():
    torch.manual_seed(1)
    bank = MultiWidthTDNN(5, 2, (2, 3, 7)).double()
    x = torch.randn(1, 4, 5, dtype=torch.float64)
    padded = torch.cat([x, torch.randn(1, 6, 5, dtype=torch.float64)], dim=1)
    y = bank(padded, torch.tensor([4]))
    torch.testing.assert_close(y[:, :4], bank(x))
    assert torch.all(y[:, 4:] == 0)


@pytest.mark.parametrize("widths", [(), (3, 3), (0, 2)], ids=str)
def test_bad_widths_raise_value_errors(widths):
    with pytest.raises(ValueError, match="widths must be distinct positive integers"):
        MultiWidthTDNN(4, 3, widths)
