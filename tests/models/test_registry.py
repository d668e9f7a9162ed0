"""The model registry and `load_model`: any kind, release files, wrong, damaged and foreign files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from seqnlp.models import load_model
from seqnlp.models.artifact import ArtifactError, IncompatibleModelError, save_artifact
from seqnlp.models.classifier import (
    ClassifierConfig,
    LoadedClassifier,
    SequenceClassifier,
    save_classifier,
)
from seqnlp.models.language_model import LanguageModelConfig, LoadedLM, RNNLanguageModel
from seqnlp.models.registry import model_kinds, save_model
from seqnlp.tasks.language_modeling import save_language_model
from seqnlp.text import Vocab

FIXTURES = Path(__file__).parent / "fixtures"

pytestmark = pytest.mark.usefixtures("one_thread")


def classifier_file(path: Path) -> Path:
    vocab = Vocab(["<pad>", "<unk>", "a", "b"], [0, 0, 2, 1], specials=("<pad>", "<unk>"))
    config = ClassifierConfig(vocab_size=4, num_classes=3, embedding_dim=4, hidden_size=3)
    save_classifier(path, SequenceClassifier(config), vocab, ("x", "y", "z"), {"data": "toy"})
    return path


def lm_file(path: Path) -> Path:
    vocab = Vocab(["<unk>", "<eos>", "a"], [0, 0, 1], specials=("<unk>", "<eos>"))
    model = RNNLanguageModel(LanguageModelConfig(vocab_size=3, embedding_dim=4, hidden_size=4))
    save_language_model(path, model, vocab, "char")
    return path


def test_the_registry_knows_the_classifier_and_the_language_model():
    kinds = model_kinds()
    assert kinds["sequence-classifier"].command == "classify"
    assert kinds["language_model"].command == "lm"
    assert kinds["language_model"].config_class is LanguageModelConfig


def test_load_model_returns_the_typed_object_of_each_kind(tmp_path):
    classifier = load_model(classifier_file(tmp_path / "c.pt"))
    assert isinstance(classifier, LoadedClassifier)
    assert classifier.label_names == ("x", "y", "z") and classifier.extra == {"data": "toy"}
    assert isinstance(classifier.model, SequenceClassifier) and not classifier.model.training
    lm = load_model(lm_file(tmp_path / "l.pt"))
    assert isinstance(lm, LoadedLM) and lm.level == "char" and len(lm.vocab) == 3


@pytest.mark.parametrize("name, kind", [("classifier-release-0.1.pt", LoadedClassifier),
                                        ("lm-release-0.1.pt", LoadedLM)])
def test_files_written_by_release_0_1_still_load(name, kind):
    loaded = load_model(FIXTURES / name)
    assert isinstance(loaded, kind)
    assert torch.load(FIXTURES / name, weights_only=True)["format_version"] == 1


def test_a_release_0_1_classifier_predicts_what_it_predicted_then():
    loaded = load_model(FIXTURES / "classifier-release-0.1.pt")
    ids, lengths = torch.tensor([[2, 4, 3], [3, 2, 0]]), torch.tensor([3, 2])
    # printed by make_release_fixtures.py when the file was written with release 0.1
    expected = [[0.515782356262207, 0.4842176139354706], [0.5066431760787964, 0.493356853723526]]
    torch.testing.assert_close(loaded.model.predict_proba(ids, lengths),
                               torch.tensor(expected), rtol=1e-6, atol=1e-6)


def test_the_wrong_kind_says_what_the_file_holds_and_which_command_uses_it(tmp_path):
    path = lm_file(tmp_path / "l.pt")
    with pytest.raises(ArtifactError) as caught:
        load_model(path, expect="sequence-classifier")
    message = str(caught.value)
    assert "is a 'language_model' model, expected a 'sequence-classifier' model" in message
    assert "language model: use it with `seqnlp lm`" in message and "\n" not in message


@pytest.mark.parametrize("damage", ["truncated", "random", "empty", "folder", "missing", "pickle"])
def test_damaged_and_foreign_files_are_one_line_artifact_errors(tmp_path, damage):
    path = classifier_file(tmp_path / "c.pt")
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "random":
        path.write_bytes(torch.randint(0, 256, (4000,), generator=torch.Generator().manual_seed(0))
                         .to(torch.uint8).numpy().tobytes())
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "folder":
        path.unlink()
        path.mkdir()
    elif damage == "missing":
        path.unlink()
    else:
        torch.save({"format_version": 2, "kind": "sequence-classifier", "config": object()}, path)
    with pytest.raises(ArtifactError) as caught:
        load_model(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_a_config_that_does_not_fit_the_weights_is_refused_before_allocating(tmp_path):
    path = tmp_path / "huge.pt"
    model = RNNLanguageModel(LanguageModelConfig(vocab_size=3, embedding_dim=4, hidden_size=4))
    huge = LanguageModelConfig(vocab_size=3, embedding_dim=65_536, hidden_size=4)
    vocab = Vocab(["<unk>", "<eos>", "a"], [0, 0, 1], specials=("<unk>", "<eos>"))
    save_artifact(path, "language_model", huge, model, vocab.to_dict(), {"level": "word"})
    with pytest.raises(IncompatibleModelError, match=r"embedding.weight: saved \(3, 4\), "
                                                     r"config gives \(3, 65536\)"):
        load_model(path)


@pytest.mark.parametrize("config, message", [
    ({"vocab_size": 3, "embedding_dim": 4, "colour": "red"}, "unknown LanguageModelConfig field"),
    ({"vocab_size": 3, "dropout": 7.0}, "bad LanguageModelConfig"),
])
def test_a_bad_saved_config_is_named(tmp_path, config, message):
    path = tmp_path / "bad.pt"
    payload = {"format_version": 2, "kind": "language_model", "config": config,
               "state_dict": {}, "vocabs": {}, "extra": {"level": "word"}}
    torch.save(payload, path)
    with pytest.raises(ArtifactError, match=message):
        load_model(path)


def test_an_unknown_kind_lists_the_known_ones(tmp_path):
    path = tmp_path / "x.pt"
    torch.save({"format_version": 2, "kind": "transformer", "config": {}, "state_dict": {},
                "vocabs": {}, "extra": {}}, path)
    with pytest.raises(ArtifactError, match="unknown kind 'transformer'.*language_model"):
        load_model(path)


def test_save_model_refuses_a_module_of_another_kind(tmp_path):
    model = RNNLanguageModel(LanguageModelConfig(vocab_size=3))
    with pytest.raises(TypeError, match="SequenceClassifier"):
        save_model(tmp_path / "m.pt", "sequence-classifier", model, {})


def _lm_payload(**changes: object) -> dict:
    vocab = Vocab(["<unk>", "<eos>", "a"], [0, 0, 1], specials=("<unk>", "<eos>"))
    model = RNNLanguageModel(LanguageModelConfig(vocab_size=3, embedding_dim=4, hidden_size=4))
    payload = {"format_version": 2, "kind": "language_model",
               "config": dict(vars(model.config)), "state_dict": model.state_dict(),
               "vocabs": {"tokens": vocab.to_dict()}, "extra": {"level": "word"}}
    for key, value in changes.items():
        part, _, field = key.partition("__")
        if field:
            payload[part][field.replace("_DOT_", ".")] = value
        else:
            payload[part] = value
    return payload


@pytest.mark.parametrize("changes, message", [
    ({"config__hidden_size": 10**6}, "hidden_size must be at most 65536"),
    ({"config__num_layers": 10**6}, "num_layers must be at most 64"),
    ({"config__embedding_dim": "4"}, "embedding_dim must be an integer, got '4'"),
    ({"config__dropout": float("nan")}, "dropout must be a finite number"),
    ({"state_dict__decoder_DOT_bias": torch.full((3,), float("nan"))},
     "decoder.bias holds NaN or infinite values"),
    ({"state_dict__decoder_DOT_bias": torch.zeros(3, dtype=torch.float64)},
     "decoder.bias is float64, expected float32"),
    ({"extra__train_config": ["not", "a", "table"]}, "training configuration"),
    ({"format_version": True}, "format version True"),
])
def test_a_saved_model_is_checked_before_anything_is_built(tmp_path, monkeypatch, changes,
                                                           message):
    path = tmp_path / "m.pt"
    torch.save(_lm_payload(**changes), path)
    built = []
    original = RNNLanguageModel.__init__

    def recording(self: RNNLanguageModel, config: LanguageModelConfig) -> None:
        built.append(torch.empty(0).device.type)  # the default device while building
        original(self, config)

    monkeypatch.setattr(RNNLanguageModel, "__init__", recording)
    with pytest.raises(ArtifactError, match=message):
        load_model(path)
    assert "cpu" not in built  # at most a meta-device build happened


def test_a_hand_made_payload_that_fits_loads(tmp_path):
    torch.save(_lm_payload(), tmp_path / "m.pt")
    assert isinstance(load_model(tmp_path / "m.pt"), LoadedLM)


def test_a_model_too_large_to_build_is_refused_without_allocating():
    from seqnlp.models.registry import MAX_PARAMETERS, ModelSizeError, check_model_size

    small = LanguageModelConfig(vocab_size=10, embedding_dim=4, hidden_size=4)
    assert check_model_size("language_model", small) < MAX_PARAMETERS
    huge = LanguageModelConfig(vocab_size=10, embedding_dim=65_536, hidden_size=65_536)
    with pytest.raises(ModelSizeError, match=r"would have [\d,]+ parameters"):
        check_model_size("language_model", huge)
