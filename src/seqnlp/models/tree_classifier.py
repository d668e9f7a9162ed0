"""A sentiment classifier on every node of a parse tree (Socher et al. 2013): word vectors at
the leaves, a recursive cell composing children into parents bottom-up, and a softmax on the
vector of every node, word and phrase alike.

    leaf word ids (L,) -> embeddings (L, E) -> cell.leaf -> leaf states
    -> per tree level h = 1..max: cell.compose(children) -> states of all N nodes
    -> dropout -> linear -> logits (N, C); loss: cross-entropy over every labelled node

The cell is an RvNN, SU-RNN, MV-RNN, RNTN or binary Tree-LSTM (`seqnlp.nn.tree`); a batch of
trees is evaluated level by level (`evaluate_levels`). Shape legend: L leaves,
N nodes, E embedding size, H hidden size, C classes, B trees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch.nn.functional as F
from torch import Tensor, nn

from seqnlp.errors import one_of
from seqnlp.models.classifier import LoadedClassifier
from seqnlp.models.embeddings import copy_into_embedding
from seqnlp.models.registry import (
    MAX_VOCAB,
    MAX_WIDTH,
    ModelKind,
    check_sizes,
    register_model,
)
from seqnlp.nn.tree import CELLS, State, build_tree_cell, evaluate_levels

ARTIFACT_KIND = "tree-classifier"
MAX_TYPES = 256  # SU-RNN node types (T^2 composition matrices)


@dataclass(frozen=True)
class TreeClassifierConfig:
    """Configuration of a `TreeClassifier`.

    Attributes:
        vocab_size: V, rows of the word embedding (and of the MV-RNN's word matrices).
        num_classes: C (SST: 5).
        cell: "rvnn" | "surnn" | "mvrnn" | "rntn" | "treelstm".
        embedding_dim: E; for every cell but the Tree-LSTM, a leaf's vector is its word
            vector when E == H, else tanh(W_e x + b_e).
        hidden_size: H, the size of every node's vector.
        num_types: T, the node types the SU-RNN tells apart (T^2 composition matrices).
        dropout: on every node's vector before the softmax.
        embedding_init: the word embedding's initial scale: entries U(-s, s).
        sparse: the word embedding (and the MV-RNN's word matrices) get sparse gradients,
            so that an update touches only the batch's words (adagrad or sgd; L2 then
            applies to the other weights only, see `seqnlp.training.parameter_groups`).
    """

    vocab_size: int
    num_classes: int = 5
    cell: str = "rntn"
    embedding_dim: int = 30
    hidden_size: int = 30
    num_types: int = 2
    dropout: float = 0.0
    embedding_init: float = 0.1
    sparse: bool = False

    def __post_init__(self) -> None:
        check_sizes(self, vocab_size=MAX_VOCAB, embedding_dim=MAX_WIDTH,
                    hidden_size=MAX_WIDTH, num_types=MAX_TYPES, num_classes=MAX_WIDTH)
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {one_of(CELLS)}, got {self.cell!r}")
        for name in ("vocab_size", "num_classes"):
            if getattr(self, name) < 2:
                raise ValueError(f"{name} must be at least 2, got {getattr(self, name)}")
        for name in ("embedding_dim", "hidden_size", "num_types"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if not 0.0 < self.embedding_init <= 10.0:
            raise ValueError(f"embedding_init must be in (0, 10], got {self.embedding_init}")


class TreeClassifier(nn.Module):
    """Embeddings -> recursive cell over each tree -> softmax on every node.

    `forward(words, levels, labels=None, types=None, roots=None)` returns `(logits (N, C),
    loss)`: the mean cross-entropy over the N nodes (None without labels). `roots` is not
    read: it rides in the batch for the root scores of the evaluation.
    """

    def __init__(self, config: TreeClassifierConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim,
                                      sparse=config.sparse)
        self.cell = build_tree_cell(config.cell, config.embedding_dim, config.hidden_size,
                                    config.vocab_size, config.num_types, config.sparse)
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(config.hidden_size, config.num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Word vectors U(-s, s), s = `embedding_init`; the cell and the output layer keep
        their own initialisation (the output layer torch's Kaiming-uniform)."""
        scale = self.config.embedding_init
        nn.init.uniform_(self.embedding.weight, -scale, scale)

    def load_embeddings(self, matrix: np.ndarray) -> None:
        """Copy pretrained vectors (V, E) into the word embedding."""
        copy_into_embedding(self.embedding, matrix)

    def node_states(self, words: Tensor, levels: Sequence[tuple[Tensor, Tensor]],
                    types: Tensor | None = None) -> State:
        """Every node's state, level-major (see `seqnlp.nn.tree`).

        Args:
            words: (L,) the word id of each leaf, in leaf position order.
            levels: per height h >= 1, the (n_h,) positions of the children.
            types: (N,) each node's type (read by the SU-RNN only).
        """
        leaves = self.cell.leaf(self.embedding(words), words)
        return evaluate_levels(self.cell, leaves, levels,
                               types if self.config.cell == "surnn" else None)

    def forward(self, words: Tensor, levels: Sequence[tuple[Tensor, Tensor]],
                labels: Tensor | None = None, types: Tensor | None = None,
                roots: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        hidden = self.cell.hidden(self.node_states(words, levels, types))  # (N, H)
        logits = self.output(self.dropout(hidden))  # (N, C)
        if labels is None:
            return logits, None
        return logits, F.cross_entropy(logits, labels)


@dataclass
class LoadedTreeClassifier(LoadedClassifier):
    """A tree classifier read back by `load_model`: the sequence classifier's label names
    and their check, plus how its words and node types were read.

    Attributes:
        lowercase: words were lower-cased before lookup.
        node_types: how node types were assigned ("word-phrase": leaves 0, phrases 1).
    """

    lowercase: bool = True
    node_types: str = "word-phrase"
    extra_fields: ClassVar[tuple[str, ...]] = ("label_names", "lowercase", "node_types")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.lowercase = bool(self.lowercase)
        self.node_types = str(self.node_types or "word-phrase")


def describe(config: TreeClassifierConfig) -> dict[str, Any]:
    """A short summary of the architecture, for logs and benchmark tables."""
    return {"cell": config.cell, "emb": config.embedding_dim, "hidden": config.hidden_size,
            "dropout": config.dropout}


register_model(ModelKind(ARTIFACT_KIND, TreeClassifierConfig, TreeClassifier, "trees",
                         "tree classifier", LoadedTreeClassifier))
