"""SequenceClassifier: padding-invariance, learning a separable toy task, save and load."""

from __future__ import annotations

import itertools

import pytest
import torch

from seqnlp.models.artifact import ArtifactError, save_artifact
from seqnlp.models.classifier import (
    ClassifierConfig,
    SequenceClassifier,
    load_classifier,
    save_classifier,
)
from seqnlp.text import Vocab


pytestmark = pytest.mark.usefixtures("one_thread")


ENCODERS = [("rnn", False), ("lstm", False), ("lstm", True), ("gru", True), ("tdnn", False)]
POOLINGS = ["last", "mean", "max", "attention", "flatten"]
MAX_LEN = 7


def small_config(encoder: str = "lstm", bidirectional: bool = False, pooling: str = "last",
                 num_classes: int = 2, **options) -> ClassifierConfig:
    return ClassifierConfig(
        vocab_size=12, num_classes=num_classes, embedding_dim=8, hidden_size=6,
        encoder=encoder, bidirectional=bidirectional, pooling=pooling, max_len=MAX_LEN,
        **options,
    )


def toy_batch(seed: int = 0, batch: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, MAX_LEN + 1, (batch,), generator=generator)
    lengths[0] = MAX_LEN
    ids = torch.randint(2, 12, (batch, MAX_LEN), generator=generator)
    ids[torch.arange(MAX_LEN)[None, :] >= lengths[:, None]] = 0  # padding id
    return ids, lengths


@pytest.mark.parametrize(("encoder", "bidirectional"), ENCODERS, ids=str)
@pytest.mark.parametrize("pooling", POOLINGS)
def test_a_padded_batch_gives_the_logits_of_each_sequence_alone(encoder, bidirectional, pooling):
    torch.manual_seed(0)
    model = SequenceClassifier(small_config(encoder, bidirectional, pooling, num_classes=3)).eval()
    ids, lengths = toy_batch()
    logits, loss = model(ids, lengths)
    assert logits.shape == (5, 3) and loss is None
    for b in range(5):
        n = int(lengths[b])
        alone, _ = model(ids[b:b + 1, :n], lengths[b:b + 1])
        torch.testing.assert_close(logits[b:b + 1], alone, atol=1e-5, rtol=1e-5)


def separable_task(num_classes: int, count: int = 96, seed: int = 0):
    """Each sequence holds one "class word" (id 2 + label) among noise words, anywhere."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, num_classes, (count,), generator=generator)
    lengths = torch.randint(2, MAX_LEN + 1, (count,), generator=generator)
    ids = torch.randint(2 + num_classes, 12, (count, MAX_LEN), generator=generator)
    where = (torch.rand(count, generator=generator) * lengths).long()
    ids[torch.arange(count), where] = 2 + labels
    ids[torch.arange(MAX_LEN)[None, :] >= lengths[:, None]] = 0
    return ids, lengths, labels


@pytest.mark.parametrize(("encoder", "bidirectional", "pooling", "num_classes"), [
    ("rnn", False, "last", 2), ("lstm", True, "attention", 3), ("gru", False, "max", 2),
    ("tdnn", False, "mean", 4), ("lstm", False, "flatten", 2),
])
def test_the_classifier_learns_a_separable_toy_task(encoder, bidirectional, pooling, num_classes):
    torch.manual_seed(0)
    model = SequenceClassifier(small_config(encoder, bidirectional, pooling, num_classes))
    ids, lengths, labels = separable_task(num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    _, first = model(ids, lengths, labels)
    for _ in range(150):
        optimizer.zero_grad()
        _, loss = model(ids, lengths, labels)
        loss.backward()
        optimizer.step()
    model.eval()
    probs = model.predict_proba(ids, lengths)
    assert loss.item() < 0.1 * first.item()
    assert (probs.argmax(1) == labels).float().mean() == 1.0
    torch.testing.assert_close(probs.sum(1), torch.ones(len(labels)))


def test_binary_uses_one_logit_and_binary_cross_entropy():
    model = SequenceClassifier(small_config())
    ids, lengths = toy_batch()
    labels = torch.tensor([0, 1, 1, 0, 1])
    logits, loss = model(ids, lengths, labels)
    assert logits.shape == (5,) and model.output.out_features == 1
    expected = torch.nn.functional.binary_cross_entropy(torch.sigmoid(logits), labels.float())
    torch.testing.assert_close(loss, expected)


def test_frozen_embeddings_stay_fixed_and_the_padding_row_stays_zero():
    torch.manual_seed(0)
    model = SequenceClassifier(small_config(freeze_embeddings=True))
    model.load_embeddings(torch.randn(12, 8))
    before = model.embedding.weight.detach().clone()
    assert (before[0] != 0).any()  # load_embeddings copies what it is given
    ids, lengths, labels = separable_task(2)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    model(ids, lengths, labels)[1].backward()
    optimizer.step()
    assert torch.equal(model.embedding.weight, before)
    assert model.embedding.weight.grad is None


def test_fine_tuned_embeddings_change_except_the_padding_row():
    torch.manual_seed(0)
    model = SequenceClassifier(small_config())
    before = model.embedding.weight.detach().clone()
    ids, lengths, labels = separable_task(2)
    torch.optim.SGD(model.parameters(), lr=0.5).zero_grad()
    model(ids, lengths, labels)[1].backward()
    assert model.embedding.weight.grad[0].abs().sum() == 0
    assert model.embedding.weight.grad[2:].abs().sum() > 0
    assert torch.equal(before[0], torch.zeros(8))


def test_keras_init_draws_small_embeddings_orthogonal_recurrent_weights_and_forget_bias_one():
    torch.manual_seed(0)
    model = SequenceClassifier(small_config("lstm", True, "attention", init="keras"))
    table = model.embedding.weight.detach()
    assert table[1:].abs().max() <= 0.05 and torch.equal(table[0], torch.zeros(8))
    for layer in (*model.encoder.forward_layers, *model.encoder.backward_layers):
        torch.testing.assert_close(layer.weight_hh_l0.T @ layer.weight_hh_l0, torch.eye(6))
        assert layer.bias_ih_l0.tolist() == [0.0] * 6 + [1.0] * 6 + [0.0] * 12
        assert not layer.bias_hh_l0.any()
    assert not model.output.bias.any()


def test_torch_init_draws_unit_normal_embeddings_with_a_zero_padding_row():
    torch.manual_seed(0)
    table = SequenceClassifier(ClassifierConfig(vocab_size=5000, embedding_dim=20)).embedding.weight.detach()
    assert 0.95 < float(table[1:].std()) < 1.05 and not table[0].any()


def test_load_embeddings_refuses_a_matrix_of_another_shape():
    with pytest.raises(ValueError, match=r"shape \(12, 5\), expected \(12, 8\)"):
        SequenceClassifier(small_config()).load_embeddings(torch.zeros(12, 5))


def vocab_of_12() -> Vocab:
    words = [f"w{i}" for i in range(10)]
    return Vocab(["<pad>", "<unk>", *words], [0, 0, *range(10, 0, -1)], specials=("<pad>", "<unk>"))


@pytest.mark.parametrize(("encoder", "bidirectional", "pooling"), [
    ("gru", True, "attention"), ("tdnn", False, "flatten"), ("rnn", False, "last"),
])
def test_save_then_load_gives_identical_predictions(tmp_path, encoder, bidirectional, pooling):
    torch.manual_seed(0)
    model = SequenceClassifier(small_config(encoder, bidirectional, pooling, num_classes=3,
                                            tdnn_context=(-1, 0, 2))).eval()
    ids, lengths = toy_batch(seed=3)
    path = tmp_path / "model.pt"
    save_classifier(path, model, vocab_of_12(), ("a", "b", "c"), {"data": "toy"})
    loaded = load_classifier(path)
    assert loaded.model.config == model.config
    assert loaded.vocab == vocab_of_12()
    assert loaded.label_names == ("a", "b", "c") and loaded.extra == {"data": "toy"}
    assert not loaded.model.training
    assert torch.equal(loaded.model.predict_proba(ids, lengths), model.predict_proba(ids, lengths))
    payload = torch.load(path, weights_only=True)
    assert payload["kind"] == "sequence-classifier"


def test_loading_a_model_of_another_kind_names_both_kinds(tmp_path):
    path = tmp_path / "lm.pt"
    model = SequenceClassifier(small_config())
    save_artifact(path, "language-model", model.config, model)
    with pytest.raises(ArtifactError, match="is a 'language-model' model, expected a 'sequence-classifier'"):
        load_classifier(path)


def test_saving_with_the_wrong_number_of_label_names_is_refused(tmp_path):
    with pytest.raises(ValueError, match="3 label names for a model of 2 classes"):
        save_classifier(tmp_path / "m.pt", SequenceClassifier(small_config()), vocab_of_12(), ("a", "b", "c"))


@pytest.mark.parametrize(("options", "message"), [
    ({"encoder": "transformer"}, "encoder must be one of"),
    ({"pooling": "sum"}, "pooling must be one of"),
    ({"encoder": "tdnn", "bidirectional": True}, "bidirectional must be False"),
    ({"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
    ({"num_classes": 1}, "num_classes must be at least 2"),
    ({"pooling": "flatten", "max_len": None}, "needs max_len"),
    ({"hidden_size": 0}, "hidden_size must be positive"),
    ({"init": "xavier"}, "init must be one of"),
    ({"truncate": "middle"}, "truncate must be one of"),
])
def test_bad_configs_are_refused_with_the_value(options, message):
    base = {"vocab_size": 10, "max_len": 5}
    with pytest.raises(ValueError, match=message):
        ClassifierConfig(**{**base, **options})


def test_every_encoder_and_pooling_builds_with_two_layers():
    for (encoder, bidirectional), pooling in itertools.product(ENCODERS, POOLINGS):
        config = small_config(encoder, bidirectional, pooling, num_layers=2, dropout=0.3)
        model = SequenceClassifier(config)
        ids, lengths = toy_batch()
        assert model(ids, lengths)[0].shape == (5,)
