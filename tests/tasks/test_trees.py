"""Tests of the tree task: reading tree files, batches, the scores, training on the pipeline,
and prediction (which never changes the input trees)."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

import seqnlp.models.tree_classifier  # noqa: F401  (registers the kind)
from seqnlp.errors import DataFormatError, DatasetError
from seqnlp.models.registry import load_model
from seqnlp.models.tree_classifier import TreeClassifier, TreeClassifierConfig
from seqnlp.nn.tree import CELLS
from seqnlp.tasks.pipeline import save_trained, train_task
from seqnlp.tasks.trees import (
    TreeScores,
    TreeTask,
    make_tree_batch,
    parse_inputs,
    predict_trees,
    score_trees,
)
from seqnlp.tasks.trees_data import (
    TreeData,
    build_tree_vocab,
    encode_tree,
    load_tree_data,
    read_binary_trees,
)
from seqnlp.text.trees import parse_tree
from seqnlp.training import TrainerConfig

pytestmark = pytest.mark.usefixtures("one_thread")

GOOD = ["great", "fine", "superb", "lovely"]
BAD = ["dull", "awful", "boring", "bad"]


def toy_trees(count: int, seed: int) -> list:
    """Sentences "the X film": 4 if X is good, 0 if bad; 'the film' parts neutral."""
    rng = np.random.default_rng(seed)
    trees = []
    for _ in range(count):
        good = bool(rng.integers(2))
        word = str(rng.choice(GOOD if good else BAD))
        label = 4 if good else 0
        trees.append(parse_tree(f"({label} (2 the) ({label} ({label} {word}) (2 film)))"))
    return trees


# ---------------------------------------------------------------- reading


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("(2 (2 a) (2 b)", "unbalanced brackets"),
        ("(2 (2 a) (7 b))", r"label 7 is outside \[0, 5\)"),
        ("", "empty line: expected a tree"),
        ("()", "missing label"),
        ("(2 (2 a) (2 b) (2 c))", r"has 3 child\(ren\)"),
        ("(2 (3 (2 a)) (2 b))", r"has 1 child\(ren\)"),
    ],
)
def test_a_bad_tree_is_one_line_naming_file_and_line(tmp_path: Path, line: str,
                                                     message: str) -> None:
    path = tmp_path / "trees.txt"
    path.write_text(f"(3 (2 good) (3 line))\n{line}\n(1 after)\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=message) as info:
        read_binary_trees(path)
    assert str(info.value).startswith(f"{path}, line 2: ") and "\n" not in str(info.value)


def test_a_user_file_is_cut_into_train_and_dev(tmp_path: Path) -> None:
    path = tmp_path / "trees.txt"
    path.write_text("".join(f"{t}\n" for t in toy_trees(40, 0)), encoding="utf-8")
    data = load_tree_data(str(path), dev_fraction=0.25, seed=1, train_limit=20)
    assert (len(data.train), len(data.dev), len(data.test)) == (20, 10, 0)
    with pytest.raises(DatasetError, match="unknown tree data"):
        load_tree_data("nosuch")


def test_plain_sentences_become_binary_trees_and_bad_texts_name_the_line() -> None:
    parsed = parse_inputs(["(3 (2 it) (4 works))", "a b c"], shape="right")
    assert [how for _, how in parsed] == ["parsed", "right"]
    assert str(parsed[1][0]) == "(2 (2 a) (2 (2 b) (2 c)))"
    for texts, message in ((["a", "  "], "stdin, line 2: empty text"),
                           (["(2 (2 a)"], "stdin, line 1: column 9: unbalanced"),
                           (["(9 a)"], r"stdin, line 1: column 2: label 9 is outside")):
        with pytest.raises(DataFormatError, match=message):
            parse_inputs(texts, source="stdin")


# ---------------------------------------------------------------- scores


def test_scores_read_binary_decisions_from_five_class_probabilities() -> None:
    # three trees of one node each (so each node is a root) and one inner node
    probabilities = torch.tensor([
        [0.05, 0.30, 0.40, 0.20, 0.05],  # fine 2 (wrong, gold 1); neg 0.35 >= pos 0.25: right
        [0.10, 0.10, 0.20, 0.30, 0.30],  # fine 3 (wrong, gold 4); pos: right
        [0.10, 0.10, 0.60, 0.10, 0.10],  # fine 2, gold 2: right; neutral: not binary
        [0.50, 0.10, 0.10, 0.10, 0.20],  # fine 0, gold 3: wrong; neg: wrong
    ])
    labels = torch.tensor([1, 4, 2, 3])
    scores = TreeScores()
    scores.add(probabilities, labels, roots=torch.tensor([0, 1, 2]))
    assert scores.result() == {"fine_root": 1 / 3, "fine_all": 1 / 4,
                               "binary_root": 2 / 2, "binary_all": 2 / 3}


def test_batch_tensors_follow_the_level_layout() -> None:
    trees = toy_trees(3, 1)
    vocab = build_tree_vocab(trees)
    batch = make_tree_batch([encode_tree(t, vocab) for t in trees])
    assert batch["words"].tolist()[:2] == vocab.encode(["the", trees[0].leaves()[1]]).tolist()
    assert len(batch["labels"]) == 15 and len(batch["levels"]) == 2
    assert batch["labels"][batch["roots"]].tolist() == [t.label for t in trees]
    assert batch["types"].tolist() == [0] * 9 + [1] * 6


# ---------------------------------------------------------------- training and prediction


def test_training_on_every_node_learns_the_toy_sentiment(tmp_path: Path) -> None:
    data = TreeData("toy", toy_trees(200, 0), toy_trees(40, 1), toy_trees(40, 2))
    task = TreeTask(data, batch_size=10)
    config = TrainerConfig(optimizer="adam", lr=0.02, epochs=6, device="cpu", progress=False)
    trained = train_task(task, {"cell": "rvnn", "hidden_size": 8, "embedding_dim": 8}, config)
    assert trained.fit.history[-1]["train_loss"] < 0.5 * trained.fit.history[0]["train_loss"]
    assert trained.dev["fine_root"] >= 0.95 and trained.dev["binary_all"] >= 0.95
    path = tmp_path / "toy.pt"
    save_trained(path, task, trained)
    loaded = load_model(path, expect="tree-classifier")
    test = score_trees(loaded.model, loaded.vocab, data.test)
    assert test["fine_root"] >= 0.95
    [result] = predict_trees(loaded, [parse_tree("(2 (2 the) (2 (2 awful) (2 film)))")])
    assert result.tree.label == 0 and result.tree.children[1].children[0].label == 0
    np.testing.assert_allclose(result.probabilities.sum(1), 1.0)


@pytest.mark.parametrize("cell", CELLS)
def test_no_model_changes_the_trees_it_reads(cell: str) -> None:
    trees = toy_trees(5, 3) + [parse_tree("(3 (2 it) (4 (2 's) (4 great)))")]
    snapshot = copy.deepcopy(trees)
    texts = [str(t) for t in trees]
    vocab = build_tree_vocab(trees)
    encoded = [encode_tree(t, vocab) for t in trees]
    arrays = copy.deepcopy(encoded)
    model = TreeClassifier(TreeClassifierConfig(len(vocab), cell=cell, hidden_size=4,
                                                embedding_dim=4))
    _, loss = model(**make_tree_batch(encoded))
    loss.backward()

    class Loaded:
        pass

    loaded = Loaded()
    loaded.model, loaded.vocab, loaded.lowercase, loaded.node_types = (
        model, vocab, True, "word-phrase")
    predicted = predict_trees(loaded, trees)
    assert trees == snapshot and [str(t) for t in trees] == texts
    for before, after in zip(arrays, encoded):
        for name in ("words", "left", "right", "heights", "labels", "types"):
            np.testing.assert_array_equal(getattr(before, name), getattr(after, name))
    assert [p.tree.leaves() for p in predicted] == [t.leaves() for t in trees]
