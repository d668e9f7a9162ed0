"""RecurrentEncoder: the shared padded, bidirectional reader equals the packed layers."""

from __future__ import annotations

import pytest
import torch

from seqnlp.nn import GRU, LSTM, RNN
from seqnlp.nn.rnn import RecurrentEncoder, build_sequence_encoder, reverse_padded, sequence_mask

pytestmark = pytest.mark.usefixtures("one_thread")


def test_reverse_padded_reverses_real_steps_and_leaves_padding_in_place():
    x = torch.arange(1, 9, dtype=torch.float32).view(2, 4, 1)
    out = reverse_padded(x, torch.tensor([4, 2]))
    assert out.squeeze(-1).tolist() == [[4, 3, 2, 1], [6, 5, 7, 8]]
    assert torch.equal(reverse_padded(out, torch.tensor([4, 2])), x)


@pytest.mark.parametrize("kind, layer", [("rnn", RNN), ("lstm", LSTM), ("gru", GRU)])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_padded_encoder_equals_the_packed_seqnlp_layer_at_real_steps(kind, layer, bidirectional):
    torch.manual_seed(0)
    reference = layer(3, 4, num_layers=2, bidirectional=bidirectional).double()
    encoder = RecurrentEncoder(kind, 3, 4, num_layers=2, bidirectional=bidirectional).double()
    for index in range(2):  # copy torch-named weights into the per-direction layers
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            forward = getattr(reference, f"{name}_l{index}")
            getattr(encoder.forward_layers[index], f"{name}_l0").data.copy_(forward)
            if bidirectional:
                backward = getattr(reference, f"{name}_l{index}_reverse")
                getattr(encoder.backward_layers[index], f"{name}_l0").data.copy_(backward)
    lengths = torch.tensor([5, 2, 4])
    x = torch.randn(3, 5, 3, dtype=torch.float64)
    expected, _ = reference(x, lengths)  # packed, zero at padded steps
    real = sequence_mask(lengths, 5).unsqueeze(-1)
    torch.testing.assert_close(encoder(x, lengths) * real, expected)


def test_build_sequence_encoder_takes_plain_sizes():
    encoder = build_sequence_encoder("gru", 3, 4, num_layers=2, bidirectional=True)
    assert isinstance(encoder, RecurrentEncoder) and encoder.output_size == 8
    x, lengths = torch.randn(2, 5, 3), torch.tensor([5, 3])
    assert encoder(x, lengths).shape == (2, 5, 8)
    tdnn = build_sequence_encoder("tdnn", 3, 6, num_layers=2, tdnn_context=(-1, 0, 1))
    assert tdnn(x, lengths).shape == (2, 5, 6)


@pytest.mark.parametrize("options, message", [
    ({"kind": "transformer"}, "kind must be one of"),
    ({"kind": "tdnn", "bidirectional": True}, "not bidirectional"),
])
def test_build_sequence_encoder_refuses_bad_options(options, message):
    arguments = {"kind": "lstm", "input_size": 3, "hidden_size": 4, **options}
    with pytest.raises(ValueError, match=message):
        build_sequence_encoder(**arguments)
