"""Tests of seqnlp.models.tree_classifier: the config, the module's outputs and sizes, and
saving and loading through the model registry."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import seqnlp.models.tree_classifier  # noqa: F401  (registers the kind)
from seqnlp.models.artifact import IncompatibleModelError
from seqnlp.models.registry import load_model, parameter_count, save_model
from seqnlp.models.tree_classifier import TreeClassifier, TreeClassifierConfig
from seqnlp.nn.tree import CELLS
from seqnlp.tasks.trees import make_tree_batch
from seqnlp.tasks.trees_data import build_tree_vocab, encode_tree
from seqnlp.text.trees import parse_tree

pytestmark = pytest.mark.usefixtures("one_thread")

TREES = [parse_tree(t) for t in ("(3 (2 it) (4 (2 's) (4 good)))", "(1 (2 a) (0 mess))",
                                 "(2 alone)")]


def batch(vocab):
    return make_tree_batch([encode_tree(t, vocab) for t in TREES])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cell": "gru"}, "cell must be one of"),
        ({"vocab_size": 1}, "vocab_size must be at least 2"),
        ({"num_classes": 1}, "num_classes must be at least 2"),
        ({"hidden_size": 0}, "hidden_size must be positive"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
        ({"embedding_init": 0.0}, "embedding_init"),
        ({"hidden_size": 10**6}, "hidden_size must be at most"),
    ],
)
def test_config_refuses_bad_values(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TreeClassifierConfig(**{"vocab_size": 10, **fields})


@pytest.mark.parametrize("cell", CELLS)
def test_every_cell_gives_logits_for_every_node_and_a_loss(cell: str) -> None:
    vocab = build_tree_vocab(TREES)
    model = TreeClassifier(TreeClassifierConfig(len(vocab), cell=cell, embedding_dim=6,
                                                hidden_size=4))
    tensors = batch(vocab)
    logits, loss = model(**tensors)
    assert logits.shape == (sum(len(t.nodes()) for t in TREES), 5)
    assert loss is not None and loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    assert model(tensors["words"], tensors["levels"], types=tensors["types"])[1] is None


def test_parameter_counts_follow_the_equations() -> None:
    v, h = 100, 8

    def count(cell: str) -> int:
        return parameter_count("tree-classifier",
                               TreeClassifierConfig(v, cell=cell, embedding_dim=h, hidden_size=h))

    shared = v * h + h * 5 + 5  # word vectors, softmax
    assert count("rvnn") == shared + h * 2 * h + h
    assert count("surnn") == shared + 4 * (h * 2 * h + h)
    assert count("rntn") == shared + h * 2 * h * 2 * h + h * 2 * h + h
    assert count("mvrnn") == shared + v * h * h + 2 * (h * 2 * h) + h
    assert count("treelstm") == shared + 3 * h * h + 3 * h + 5 * h * 2 * h + 5 * h


def test_save_and_load_give_the_same_predictions(tmp_path: Path) -> None:
    vocab = build_tree_vocab(TREES)
    model = TreeClassifier(TreeClassifierConfig(len(vocab), cell="mvrnn", hidden_size=4,
                                                embedding_dim=4)).eval()
    path = tmp_path / "t.pt"
    names = ["vneg", "neg", "neu", "pos", "vpos"]
    save_model(path, "tree-classifier", model, {"tokens": vocab},
               {"label_names": names, "lowercase": False, "node_types": "word-phrase"})
    loaded = load_model(path, expect="tree-classifier")
    assert loaded.label_names == tuple(names) and loaded.lowercase is False
    torch.testing.assert_close(loaded.model(**batch(vocab))[0], model(**batch(vocab))[0])


def test_load_refuses_label_names_that_do_not_fit(tmp_path: Path) -> None:
    vocab = build_tree_vocab(TREES)
    model = TreeClassifier(TreeClassifierConfig(len(vocab), hidden_size=4, embedding_dim=4))
    path = tmp_path / "t.pt"
    save_model(path, "tree-classifier", model, {"tokens": vocab}, {"label_names": ["a", "b"]})
    with pytest.raises(IncompatibleModelError, match="2 label names for a model of 5"):
        load_model(path)


def test_load_embeddings_checks_the_shape() -> None:
    model = TreeClassifier(TreeClassifierConfig(10, hidden_size=4, embedding_dim=4))
    model.load_embeddings(torch.ones(10, 4).numpy())
    assert float(model.embedding.weight.detach().sum()) == 40.0
    with pytest.raises(ValueError, match="expected"):
        model.load_embeddings(torch.ones(10, 3).numpy())


@pytest.mark.parametrize("cell", ["mvrnn", "treelstm"])
def test_sparse_gradients_hold_the_dense_gradients_of_the_words_used(cell: str) -> None:
    vocab = build_tree_vocab(TREES)
    grads = []
    for sparse in (False, True):
        torch.manual_seed(0)
        model = TreeClassifier(TreeClassifierConfig(len(vocab), cell=cell, embedding_dim=4,
                                                    hidden_size=4, sparse=sparse))
        model(**batch(vocab))[1].backward()
        grads.append([p.grad.to_dense() for p in model.parameters()])
    assert sum(g.is_sparse for g in [p.grad for p in model.parameters()]) == \
        (2 if cell == "mvrnn" else 1)
    for dense, sparse in zip(*grads):
        assert torch.allclose(dense, sparse, atol=1e-7)
