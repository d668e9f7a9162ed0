"""Locked (variational) dropout shares one mask across time; embedding dropout drops word types."""

from __future__ import annotations

import pytest
import torch

from seqnlp.nn import EmbeddingWithDropout, LockedDropout, embedding_dropout, locked_dropout


@pytest.mark.parametrize("batch_first", [True, False])
def test_locked_dropout_uses_one_mask_for_every_time_step(batch_first):
    torch.manual_seed(0)
    x = torch.rand(8, 10, 16) + 0.5  # no zeros of its own
    y = locked_dropout(x if batch_first else x.transpose(0, 1), 0.5, True, batch_first)
    y = y if batch_first else y.transpose(0, 1)
    kept = y.ne(0)  # (B, T, H)
    assert kept.eq(kept[:, :1]).all()  # the same features at every step
    assert 0.3 < kept[:, 0].float().mean() < 0.7
    torch.testing.assert_close(y[kept], x[kept] * 2)  # kept ones scaled by 1 / (1 - p)


def test_locked_dropout_module_is_identity_in_eval_and_keeps_padding_zero():
    layer = LockedDropout(0.3)
    x = torch.randn(4, 5, 6)
    x[:, 3:] = 0
    layer.eval()
    assert layer(x) is x
    layer.train()
    assert layer(x)[:, 3:].eq(0).all()
    assert repr(layer) == "LockedDropout(p=0.3)"


def test_dropout_of_one_drops_everything():
    assert locked_dropout(torch.ones(2, 3, 4), 1.0).eq(0).all()
    assert embedding_dropout(torch.ones(5, 2), torch.tensor([1, 2]), 1.0).eq(0).all()


def test_embedding_dropout_drops_every_occurrence_of_a_word_type():
    torch.manual_seed(0)
    weight = torch.rand(50, 4) + 0.5
    ids = torch.arange(50).repeat(3, 1)  # (3, 50): each word three times
    out = embedding_dropout(weight, ids, 0.5)  # (3, 50, 4)
    dropped = out.eq(0).all(-1)  # (3, 50)
    assert dropped.eq(dropped[:1]).all()  # a type is dropped everywhere or nowhere
    assert 10 < int(dropped[0].sum()) < 40
    torch.testing.assert_close(out[~dropped], (weight[ids] * 2)[~dropped])


def test_embedding_dropout_is_a_plain_lookup_outside_training():
    weight, ids = torch.randn(7, 3), torch.tensor([[1, 6, 1]])
    torch.testing.assert_close(embedding_dropout(weight, ids, 0.5, training=False), weight[ids])


def test_embedding_with_dropout_ties_weights_and_drops_only_in_training():
    torch.manual_seed(0)
    embed = EmbeddingWithDropout(30, 4, padding_idx=0, dropout=0.5)
    decoder = torch.nn.Linear(4, 30, bias=False)
    decoder.weight = embed.weight
    ids = torch.arange(30)[None]
    embed.eval()
    torch.testing.assert_close(embed(ids), embed.weight[ids])
    embed.train()
    out = embed(ids)
    assert out.eq(0).all(-1).sum() > 5
    out.sum().backward()
    assert decoder.weight.grad is not None and embed.weight.grad[0].eq(0).all()
    assert "dropout=0.5" in repr(embed)


@pytest.mark.parametrize(
    "make", [lambda: LockedDropout(1.5), lambda: EmbeddingWithDropout(3, 2, dropout=-0.1)]
)
def test_probabilities_outside_zero_one_are_rejected(make):
    with pytest.raises(ValueError, match="dropout must be in"):
        make()
