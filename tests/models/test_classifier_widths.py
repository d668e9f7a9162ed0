"""The classifier's TDNN of several window widths (`ClassifierConfig.widths`), and models
saved before widths existed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from seqnlp.models.classifier import (
    ClassifierConfig,
    SequenceClassifier,
    load_classifier,
    parse_widths,
    save_classifier,
)
from seqnlp.text import Vocab

FIXTURE = Path(__file__).parent / "fixtures" / "classifier-release-0.1.pt"


def config(**options) -> ClassifierConfig:
    return ClassifierConfig(**{"vocab_size": 12, "embedding_dim": 6, "hidden_size": 4,
                               "encoder": "tdnn", "pooling": "max", **options})


@pytest.mark.parametrize(("given", "expected"), [
    ("3,4,5", (3, 4, 5)), (" 2, 7 ", (2, 7)), ("", ()), ([5], (5,)), ((1, 64), (1, 64)),
])
def test_widths_are_read_from_text_or_numbers(given, expected):
    assert parse_widths(given) == expected
    assert config(widths=given).widths == expected


@pytest.mark.parametrize(("given", "message"), [
    ("3,,4", "window widths such as 3,4,5, got '3,,4'"), ("a", "got 'a'"),
    ("-3", "got '-3'"), ("0", r"integers in \[1, 64\], got 0"), ("65", "got 65"),
    ("3,3", "distinct"), ((True,), "integers"),
])
def test_bad_widths_are_refused_with_the_value(given, message):
    with pytest.raises(ValueError, match=message):
        config(widths=given)


def test_recurrent_encoders_store_no_widths():
    assert config(encoder="lstm", widths="3,4,5").widths == ()
    with pytest.raises(ValueError):  # checked all the same
        config(encoder="lstm", widths="x")


def test_the_pooled_vector_has_hidden_size_features_per_width():
    model = SequenceClassifier(config(widths="3,4,5", num_classes=3))
    assert model.config.encoder_size == 12 and model.output.in_features == 12
    ids = torch.tensor([[2, 3, 4, 5], [6, 7, 0, 0]])
    logits, _ = model(ids, torch.tensor([4, 2]))
    assert logits.shape == (2, 3)
    widths = [branch.layers[0].weight.shape[-1] for branch in model.encoder.branches]
    assert widths == [3, 4, 5]


def test_a_model_with_widths_saves_and_loads_with_identical_predictions(tmp_path):
    torch.manual_seed(0)
    model = SequenceClassifier(config(widths="2,5")).eval()
    vocab = Vocab(["<pad>", "<unk>", *"abcdefghij"], specials=("<pad>", "<unk>"))
    save_classifier(tmp_path / "m.pt", model, vocab, ("neg", "pos"))
    loaded = load_classifier(tmp_path / "m.pt")
    assert loaded.model.config.widths == (2, 5) and loaded.label_names == ("neg", "pos")
    ids, lengths = torch.tensor([[2, 3, 4], [5, 0, 0]]), torch.tensor([3, 1])
    assert torch.equal(loaded.model.predict_proba(ids, lengths), model.predict_proba(ids, lengths))


def test_a_model_saved_before_widths_existed_still_loads():
    loaded = load_classifier(FIXTURE)
    assert loaded.model.config.widths == ()
    assert loaded.label_names == ("negative", "positive")
