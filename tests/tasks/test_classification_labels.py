"""Classification data as users write it: string labels, a dev file, and evaluation that
reads and tokenises only the split it scores."""

from __future__ import annotations

import numpy as np
import pytest

from seqnlp.datasets import fetch
from seqnlp.errors import DataFormatError, DatasetError
from seqnlp.tasks import classification_data as data_module
from seqnlp.tasks.classification import (
    Example,
    dev_cut,
    example_probabilities,
    build_vocab,
    load_classification_data,
    load_examples,
    split_dev,
)
from tests.conftest import shared_file


def write(tmp_path, rows, name="d.tsv"):
    path = tmp_path / name
    path.write_text("".join(f"{label}\t{text}\n" for label, text in rows), encoding="utf-8")
    return path


NAMED = [("sports", f"match number {i}") if i % 3 == 0 else
         ("politics", f"vote number {i}") if i % 3 == 1 else ("arts", f"film number {i}")
         for i in range(30)]


def test_string_labels_are_classes_numbered_in_sorted_order(tmp_path):
    data = load_classification_data(str(write(tmp_path, NAMED)), dev_fraction=0.2, seed=3)
    assert data.label_names == ("arts", "politics", "sports")
    for example in data.train + data.dev:
        word = example.tokens[0]
        assert data.label_names[example.label] == {"match": "sports", "vote": "politics",
                                                   "film": "arts"}[word]
    assert (len(data.train), len(data.dev)) == (24, 6)


def test_one_string_label_is_refused_like_one_index(tmp_path):
    with pytest.raises(DatasetError, match=r"every line is labelled 'pos' \(4 lines\)"):
        load_classification_data(str(write(tmp_path, [("pos", "a")] * 4)))


def test_a_file_mixing_indices_and_names_names_both_lines(tmp_path):
    path = write(tmp_path, [("pos", "a"), ("neg", "b"), ("1", "c")])
    with pytest.raises(DataFormatError, match=r"d.tsv, line 3: label '1' is a class index, "
                                              r"but line 1's label 'pos' is a name"):
        load_classification_data(str(path))


def test_a_dev_file_replaces_the_random_cut(tmp_path):
    train = write(tmp_path, NAMED)
    dev = write(tmp_path, [("arts", "film"), ("sports", "match"), ("2", "a vote")], "dev.tsv")
    with pytest.raises(DataFormatError, match=r"dev.tsv, line 3: label '2' is a class index"):
        load_classification_data(str(train), dev_file=dev)
    dev = write(tmp_path, [("arts", "film"), ("sports", "match")], "dev.tsv")
    data = load_classification_data(str(train), dev_fraction=0.5, dev_file=dev)
    assert len(data.train) == 30 and [e.label for e in data.dev] == [0, 2]


@pytest.mark.parametrize(("rows", "message"), [
    ([("arts", "x"), ("music", "y")], r"dev.tsv, line 2: label 'music' is not one of the "
                                      r"training data's labels \(arts, politics, sports\)"),
    ([("0", "x"), ("3", "y"), ("7", "z")], r"dev.tsv, line 2: label 3 is outside the training "
                                           r"data's 3 classes 0..2 \(labels outside: 3, 7\)"),
])
def test_a_dev_file_label_the_training_data_has_no_class_for_is_refused(tmp_path, rows, message):
    dev = write(tmp_path, rows, "dev.tsv")
    with pytest.raises(DataFormatError, match=message):
        load_classification_data(str(write(tmp_path, NAMED)), dev_file=dev)


def test_index_labels_keep_working_exactly_as_before(tmp_path):
    rows = [(i % 2, f"text {i}") for i in range(20)]
    data = load_classification_data(str(write(tmp_path, rows)), dev_fraction=0.25, seed=1)
    assert data.label_names == ("0", "1")
    expected = split_dev([Example(("text", str(i)), i % 2) for i in range(20)], 0.25, 1)
    assert (data.train, data.dev) == expected


def test_eval_of_a_file_cuts_the_dev_part_training_used_and_tokenises_only_it(
        tmp_path, monkeypatch):
    path = write(tmp_path, NAMED)
    trained = load_classification_data(str(path), dev_fraction=0.2, seed=7)
    calls = []
    real = data_module.tokenize
    monkeypatch.setattr(data_module, "tokenize", lambda text: calls.append(text) or real(text))
    shown = []

    def track(items, desc, total=None, unit=""):
        shown.append((desc, total, unit))
        return items

    names = trained.label_names
    examples, description = load_examples(str(path), "dev", names, 0.2, 7, track)
    assert examples == trained.dev and len(calls) == 6
    assert description.endswith("dev (dev part of a 0.2 dev cut, seed 7)")
    assert shown == [("reading d.tsv dev", 6, "text")]
    assert load_examples(str(path), "train", names, 0.2, 7)[0] == trained.train
    whole, description = load_examples(str(path), None, names)
    assert len(whole) == 30 and description == str(path)
    with pytest.raises(DatasetError, match="no test split"):
        load_examples(str(path), "test", names)


def test_eval_maps_names_to_the_models_classes_and_refuses_unknown_ones(tmp_path):
    path = write(tmp_path, [("pos", "good"), ("neg", "bad"), ("meh", "so so")])
    with pytest.raises(DataFormatError, match=r"d.tsv, line 3: label 'meh' is not one of the "
                                              r"model's labels \(neg, pos\)"):
        load_examples(str(path), None, ("neg", "pos"))
    path = write(tmp_path, [("pos", "good"), ("neg", "bad")])
    assert [e.label for e in load_examples(str(path), None, ("neg", "pos"))[0]] == [1, 0]
    path = write(tmp_path, [("0", "good"), ("7", "bad"), ("9", "x")])
    with pytest.raises(DataFormatError, match=r"line 2: label 7 is outside the model's 2 "
                                              r"classes 0..1 \(labels outside: 7, 9\)"):
        load_examples(str(path), None, ("neg", "pos"))


def test_the_dev_cut_is_the_same_for_raw_lines_and_examples():
    train, dev = dev_cut(50, 0.2, 4)
    assert len(dev) == 10 and sorted(np.concatenate([train, dev]).tolist()) == list(range(50))
    items = list(range(50))
    assert split_dev(items, 0.2, 4) == (train.tolist(), dev.tolist())


def test_probabilities_come_back_in_input_order_from_length_sorted_batches():
    import torch

    from seqnlp.models.classifier import ClassifierConfig, SequenceClassifier

    examples = [Example(("a",) * n + ("b",), n % 2) for n in (9, 1, 5, 3, 7, 0, 2)]
    vocab = build_vocab(examples)
    torch.manual_seed(0)
    model = SequenceClassifier(ClassifierConfig(len(vocab), 2, embedding_dim=4, hidden_size=3))
    shown = []
    batched = example_probabilities(model, vocab, examples, batch_size=3,
                                    track=lambda items, *a: shown.append(a) or items)
    alone = np.concatenate([example_probabilities(model, vocab, [e]) for e in examples])
    np.testing.assert_allclose(batched, alone, atol=1e-6)
    assert shown == [("scoring", 3, "batch")]


@pytest.mark.slow
def test_imdb_dev_reads_the_train_file_and_tokenises_only_the_dev_cut(data_home, monkeypatch):
    fetch("imdb", from_dir=shared_file("imdb"))
    calls = []
    monkeypatch.setattr(data_module, "tokenize", lambda text: calls.append(1) or (text[:5],))
    examples, description = load_examples("imdb", "dev", ("negative", "positive"), 0.1, 0)
    assert len(examples) == len(calls) == 2500 and description.startswith("imdb dev")
    full = load_classification_data("imdb", 0.1, 0)
    assert [e.label for e in full.dev] == [e.label for e in examples]
