"""The classification pipeline: real split sizes, dev cuts, batches, vectors, metrics."""

from __future__ import annotations


import numpy as np
import pytest
import torch

from seqnlp.datasets import fetch
from seqnlp.errors import DataFormatError, DatasetError
from seqnlp.tasks import classification as task
from seqnlp.tasks.classification import (
    ClassificationData,
    Example,
    build_vocab,
    classification_report,
    encode_split,
    eval_batches,
    load_classification_data,
    pretrained_matrix,
    split_dev,
    train_batches,
)
from seqnlp.training import TrainerConfig
from tests.conftest import shared_file


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize(("name", "sizes", "classes"), [
    ("sst2", (6920, 872, 1821), 2), ("sst5", (8544, 1101, 2210), 5),
])
def test_sst_sentence_level_split_sizes(data_home, name, sizes, classes):
    fetch("sst", from_dir=shared_file("sst"))
    data = load_classification_data(name)
    assert (len(data.train), len(data.dev), len(data.test)) == sizes
    assert data.num_classes == classes
    labels = {e.label for e in data.train}
    assert labels == set(range(classes))
    assert data.train[0].tokens[:3] == ("the", "rock", "is")  # lower-cased leaves


def test_sst2_maps_the_root_labels_and_drops_neutral(data_home):
    fetch("sst", from_dir=shared_file("sst"))
    fine = load_classification_data("sst5").test
    binary = load_classification_data("sst2").test
    expected = [(e.tokens, int(e.label > 2)) for e in fine if e.label != 2]
    assert [(e.tokens, e.label) for e in binary] == expected


def test_sst_phrases_add_each_distinct_training_phrase_once(data_home):
    fetch("sst", from_dir=shared_file("sst"))
    sentences = load_classification_data("sst2")
    data = load_classification_data("sst2", phrases=True)
    assert data.train[:len(sentences.train)] == sentences.train
    assert (data.dev, data.test) == (sentences.dev, sentences.test)
    phrases = data.train[len(sentences.train):]
    assert len(phrases) > 5 * len(sentences.train)
    assert len({e.tokens for e in phrases}) == len(phrases)
    assert not {e.tokens for e in phrases} & {e.tokens for e in sentences.train}
    assert Example(("good",), 1) in phrases and Example(("bad",), 0) in phrases


def test_imdb_split_sizes_with_a_ten_percent_dev_cut(data_home, monkeypatch):
    fetch("imdb", from_dir=shared_file("imdb"))
    monkeypatch.setattr(task, "tokenize", lambda text: tuple(text.split()))  # counts only
    data = load_classification_data("imdb", dev_fraction=0.1, seed=0)
    assert (len(data.train), len(data.dev), len(data.test)) == (22500, 2500, 25000)
    assert sum(e.label for e in data.test) == 12500
    assert 1100 < sum(e.label for e in data.dev) < 1400


def test_a_dataset_not_in_the_data_home_says_how_to_get_it(data_home):
    with pytest.raises(DatasetError, match="run `seqnlp data get sst`"):
        load_classification_data("sst5")


def test_an_unknown_data_name_is_a_dataset_error(data_home):
    with pytest.raises(DatasetError, match="unknown classification data 'imbd'"):
        load_classification_data("imbd")


def test_a_malformed_tsv_line_names_the_file_and_line(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("1\tgood film\nno tab here\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"bad.tsv, line 2: missing TAB"):
        load_classification_data(str(path))


def test_a_tsv_with_one_class_is_refused(tmp_path):
    path = tmp_path / "one.tsv"
    path.write_text("0\ta\n0\tb\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="at least two classes"):
        load_classification_data(str(path))


def test_a_tsv_file_is_tokenised_and_split(tmp_path):
    path = tmp_path / "three.tsv"
    lines = [f"{i % 3}\tText <br />number {i}, DON'T stop!" for i in range(40)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = load_classification_data(str(path), dev_fraction=0.25, seed=1)
    assert (len(data.train), len(data.dev), len(data.test)) == (30, 10, 0)
    assert data.label_names == ("0", "1", "2")
    first = next(e for e in data.train + data.dev if e.tokens[2] == "0")
    assert first.tokens == ("text", "number", "0", ",", "don't", "stop", "!")


def test_the_dev_cut_is_disjoint_complete_and_seeded():
    examples = [Example((str(i),), i % 2) for i in range(100)]
    train, dev = split_dev(examples, 0.2, seed=5)
    assert len(dev) == 20 and len(train) == 80
    assert sorted(e.tokens for e in train + dev) == sorted(e.tokens for e in examples)
    assert split_dev(examples, 0.2, seed=5) == (train, dev)
    assert split_dev(examples, 0.2, seed=6)[1] != dev


def toy_examples() -> list[Example]:
    return [Example(("a",) * (i % 7) + ("b", "c"), i % 2) for i in range(50)]


def test_vocab_keeps_pad_and_unk_first_and_respects_the_size_limit():
    vocab = build_vocab([Example(("x", "y", "y", "z", "z", "z"), 0)], max_size=4)
    assert vocab.itos == ("<pad>", "<unk>", "z", "y")
    split = encode_split([Example(("z", "x", "q"), 1), Example((), 0)], vocab, max_len=2)
    assert [r.tolist() for r in split.ids] == [[2, 1], [1]]
    assert split.lengths.tolist() == [2, 1] and split.labels.tolist() == [1, 0]


def test_train_batches_cover_every_example_once_and_depend_only_on_the_epoch():
    examples = [Example((f"w{i}",) + e.tokens, e.label) for i, e in enumerate(toy_examples())]
    split = encode_split(examples, build_vocab(examples))
    batches = train_batches(split, batch_size=8, seed=3)
    first = batches(0)
    seen = sorted(int(i) for b in first for i in b["ids"][:, 0])  # each text's unique first word
    assert seen == sorted(int(r[0]) for r in split.ids)
    assert all(torch.equal(a["ids"], b["ids"]) for a, b in zip(first, batches(0)))
    assert any(not torch.equal(a["lengths"], b["lengths"]) for a, b in zip(first, batches(1)))
    for batch in first:
        width = batch["ids"].shape[1]
        assert int(batch["lengths"].max()) == width


def test_eval_batches_pad_to_a_fixed_length_for_flatten_pooling():
    split = encode_split(toy_examples(), build_vocab(toy_examples()))
    for batch in eval_batches(split, batch_size=16, fixed_len=12):
        assert batch["ids"].shape[1] == 12
        assert (batch["ids"][:, 8:] == 0).all()


class FakeVectors:
    index_to_key = ["Good", "bad", "film"]
    vectors = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=np.float32)


def test_pretrained_matrix_copies_known_words_falls_back_to_lower_case_and_zeros_padding():
    vocab = build_vocab([Example(("film", "bad", "plot", "Good"), 0)])
    matrix, coverage = pretrained_matrix(vocab, FakeVectors(), seed=0)
    rows = {word: matrix[vocab.index(word)] for word in ("film", "bad", "plot", "Good")}
    np.testing.assert_array_equal(rows["film"], [5.0, 6.0])
    np.testing.assert_array_equal(rows["bad"], [3.0, 4.0])
    np.testing.assert_array_equal(rows["Good"], [1.0, 2.0])
    assert not np.isin(rows["plot"], FakeVectors.vectors).any()  # random, not copied
    np.testing.assert_array_equal(matrix[vocab.pad_index], [0.0, 0.0])
    assert coverage == pytest.approx(3 / 4)


def test_classification_report_matches_a_hand_count():
    labels = np.array([0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 1, 1, 2, 2])
    report = classification_report(labels, predicted, 3)
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.precision == pytest.approx((1.0, 0.5, 0.5))
    assert report.recall == pytest.approx((2 / 3, 0.5, 1.0))
    assert report.f1 == pytest.approx((0.8, 0.5, 2 / 3))
    assert report.support == (3, 2, 1)


def test_a_class_never_predicted_scores_zero_not_nan():
    report = classification_report(np.array([0, 1]), np.array([0, 0]), 2)
    assert report.precision[1] == 0.0 and report.f1[1] == 0.0


def test_train_classifier_fits_a_toy_task_and_keeps_the_best_dev_model():
    words = ["bad", "good"]  # label 0 negative, 1 positive
    rng = np.random.default_rng(0)

    def examples(n):
        out = []
        for _ in range(n):
            label = int(rng.integers(2))
            noise = [str(w) for w in rng.choice(["x", "y", "z"], size=int(rng.integers(2, 6)))]
            noise.insert(int(rng.integers(len(noise))), words[label])
            out.append(Example(tuple(noise), label))
        return out

    data = ClassificationData("toy", examples(200), examples(50), examples(50), ("neg", "pos"))
    config = TrainerConfig(epochs=10, lr=0.03, metric="accuracy", mode="max", device="cpu",
                           progress=False)
    result = task.train_classifier(data, {"encoder": "gru", "hidden_size": 12, "embedding_dim": 8,
                                          "pooling": "max"}, config, batch_size=16)
    assert result.dev["accuracy"] == max(e["metrics"]["accuracy"] for e in result.fit.evaluations)
    assert result.dev["accuracy"] >= 0.95
    report = task.evaluate_examples(result.model, result.vocab, data.test)
    assert report.accuracy >= 0.95
    probs = task.predict_texts(result.model, result.vocab, ["x good y", "z BAD"])
    assert probs.argmax(1).tolist() == [1, 0]


def test_evaluate_refuses_labels_outside_the_model_classes():
    data = ClassificationData("toy", toy_examples(), [], [], ("a", "b"))
    result = task.train_classifier(data, {"encoder": "rnn", "hidden_size": 4, "embedding_dim": 4},
                                   TrainerConfig(epochs=1, device="cpu", progress=False))
    with pytest.raises(task.SeqnlpError, match="labels outside the model's 2 classes"):
        task.evaluate_examples(result.model, result.vocab, [Example(("a",), 2)])


def test_truncate_tail_keeps_the_last_tokens_and_short_texts_whole():
    vocab = build_vocab([Example(tuple("abcdef"), 0)])
    texts = [Example(tuple("abcdef"), 0), Example(tuple("ab"), 1)]
    head = encode_split(texts, vocab, max_len=3)
    tail = encode_split(texts, vocab, max_len=3, truncate="tail")
    assert [vocab.decode(r) for r in head.ids] == [list("abc"), list("ab")]
    assert [vocab.decode(r) for r in tail.ids] == [list("def"), list("ab")]
    assert tail.lengths.tolist() == [3, 2]
    with pytest.raises(ValueError, match="truncate"):
        encode_split(texts, vocab, max_len=3, truncate="middle")


def small_model(seed: int, num_classes: int = 2, **options) -> tuple[torch.nn.Module, object]:
    from seqnlp.models.classifier import ClassifierConfig, SequenceClassifier

    examples = toy_examples()
    vocab = build_vocab(examples)
    torch.manual_seed(seed)
    config = ClassifierConfig(vocab_size=len(vocab), num_classes=num_classes, encoder="gru",
                              hidden_size=6, embedding_dim=5, pooling="mean", **options)
    return SequenceClassifier(config).eval(), vocab


def test_example_probabilities_are_in_input_order_and_equal_one_at_a_time():
    model, vocab = small_model(0)
    examples = toy_examples()[::-1]  # lengths out of order, so batches reorder them
    probs = task.example_probabilities(model, vocab, examples, batch_size=4)
    assert probs.shape == (len(examples), 2)
    for i in (0, 7, 31):
        split = encode_split([examples[i]], vocab)
        one = model.predict_proba(torch.from_numpy(split.ids[0][None]),
                                  torch.from_numpy(split.lengths)).numpy()[0]
        np.testing.assert_allclose(probs[i], one, atol=1e-6)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-6)


def test_example_probabilities_read_the_tail_when_the_model_says_so():
    model, vocab = small_model(0, max_len=2, truncate="tail")
    text = Example(("a", "a", "a", "b", "c"), 0)
    probs = task.example_probabilities(model, vocab, [text])
    ids = torch.tensor([[vocab.index("b"), vocab.index("c")]])
    np.testing.assert_allclose(probs[0], model.predict_proba(ids, torch.tensor([2])).numpy()[0],
                               atol=1e-6)


def test_an_ensemble_averages_its_members_probabilities():
    members = [small_model(seed) for seed in (0, 1, 2)]
    examples = toy_examples()
    each = [task.example_probabilities(m, v, examples) for m, v in members]
    np.testing.assert_allclose(task.ensemble_probabilities(members[:1], examples), each[0])
    np.testing.assert_allclose(task.ensemble_probabilities(members, examples),
                               (each[0] + each[1] + each[2]) / 3, atol=1e-12)
    with pytest.raises(task.SeqnlpError, match="at least one model"):
        task.ensemble_probabilities([], examples)
    with pytest.raises(task.SeqnlpError, match=r"disagree on the number of classes: \[2, 3\]"):
        task.ensemble_probabilities([members[0], small_model(0, num_classes=3)], examples)


def test_a_report_from_probabilities_counts_hits_and_the_mean_log_loss():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    examples = [Example(("x",), label) for label in (0, 1, 1, 1)]
    report = task.report_from_probabilities(probs, examples)
    assert report.accuracy == pytest.approx(3 / 4)
    assert report.loss == pytest.approx(-np.mean(np.log([0.9, 0.8, 0.4, 0.7])))
    assert report.recall == pytest.approx((1.0, 2 / 3))
    with pytest.raises(task.SeqnlpError, match="outside the model's 2 classes"):
        task.report_from_probabilities(probs[:1], [Example(("x",), 2)])


# ---------------------------------------------------------------------- careless training data

def write_tsv(tmp_path, labels, name="d.tsv"):
    path = tmp_path / name
    path.write_text("".join(f"{label}\ttext number {i}\n" for i, label in enumerate(labels)),
                    encoding="utf-8")
    return path


@pytest.mark.parametrize(("labels", "pattern"), [
    ([0, 1] * 20 + [999_999_999_999], r"d.tsv, line 41: label 999999999999, but the file has "
                                      r"3 distinct labels \(0, 1, 999999999999\).*missing: 2"),
    ([0, 1] * 20 + [50_000_000], r"line 41: label 50000000"),
    ([0, 2] * 5, r"line 2: label 2, but the file has 2 distinct labels.*missing: 1"),
    ([1, 2] * 5, r"line 2: label 2.*missing: 0"),
    ([1] * 7, r"every line is labelled 1 \(7 lines\).*at least two classes"),
])
def test_classes_are_counted_from_the_labels_present_never_from_the_largest(
        tmp_path, labels, pattern):
    with pytest.raises(DatasetError, match=pattern):
        load_classification_data(str(write_tsv(tmp_path, labels)))


def test_the_label_names_of_a_tsv_are_its_own_labels(tmp_path):
    data = load_classification_data(str(write_tsv(tmp_path, [2, 0, 1, 3] * 10)))
    assert data.label_names == ("0", "1", "2", "3") and data.num_classes == 4


@pytest.mark.parametrize(("fraction", "pattern"), [
    (0.999, r"0.999 of 40 examples leaves nothing to train on \(train 0, dev 40\)"),
    (0.01, r"0.01 of 40 examples leaves no dev example \(train 40, dev 0\); use at least 0.025"),
])
def test_a_dev_cut_that_empties_a_split_is_refused_with_the_counts(tmp_path, fraction, pattern):
    with pytest.raises(DatasetError, match=pattern):
        load_classification_data(str(write_tsv(tmp_path, [0, 1] * 20)), dev_fraction=fraction)


def test_a_zero_dev_fraction_trains_without_dev_but_refuses_early_stopping(tmp_path):
    data = load_classification_data(str(write_tsv(tmp_path, [0, 1] * 20)), dev_fraction=0.0)
    assert (len(data.train), len(data.dev)) == (40, 0)
    config = TrainerConfig(epochs=1, device="cpu", progress=False, patience=2)
    with pytest.raises(task.SeqnlpError, match=r"early stopping \(--patience 2\) needs a dev"):
        task.train_classifier(data, {"encoder": "rnn", "hidden_size": 4, "embedding_dim": 4},
                              config)


@pytest.mark.parametrize(("train", "dev", "pattern"), [
    ([], [0, 1], r"toy: the training split is empty \(train 0, dev 2\)"),
    ([1, 1, 1], [0], r"every training example is of class 'b' \(train 3, dev 1\)"),
    ([0, 1, 2], [], r"the train split has label 2 \(1 examples outside the 2 classes 0..1\)"),
    ([0, 1], [-1], r"the dev split has label -1"),
])
def test_splits_that_cannot_train_a_classifier_are_refused_before_training(train, dev, pattern):
    data = ClassificationData("toy", [Example(("w",), label) for label in train],
                              [Example(("w",), label) for label in dev], [], ("a", "b"))
    with pytest.raises(DatasetError, match=pattern):
        task.ClassificationTask(data)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_pretrained_vectors_with_nan_or_inf_are_refused_naming_the_word(bad):
    class Damaged:
        index_to_key = ["good", "bad", "film"]
        vectors = np.array([[1.0, 2.0], [3.0, bad], [5.0, 6.0]], dtype=np.float32)

    vocab = build_vocab([Example(("film",), 0)])  # the damaged word need not be in it
    with pytest.raises(task.SeqnlpError, match=r"1 of 3 hold NaN or infinite values "
                                               r"\(first: 'bad'\)"):
        pretrained_matrix(vocab, Damaged())


def test_huge_but_finite_vectors_are_not_mistaken_for_damaged_ones():
    class Huge:
        index_to_key = ["a", "b"]
        vectors = np.full((2, 4), np.finfo(np.float32).max, dtype=np.float32)

    task.check_vectors(Huge())
