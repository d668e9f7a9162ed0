"""Sentiment on every node of a parse tree, on the shared pipeline: `TreeTask` plugs the tree
classifier into `train_task`. Training reads every labelled node (words and phrases); the dev
score that selects the model and stops training is the fine-grained root accuracy.

Scores (Socher et al. 2013): fine-grained (5 classes) accuracy at the root and over all nodes
("all phrases", words included), and binary accuracy over the nodes whose gold label is not
neutral (2), read from the 5-class model: negative when P(0) + P(1) >= P(3) + P(4).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from seqnlp.errors import one_of
from seqnlp.models.embeddings import WordVectors, pretrained_matrix
from seqnlp.tasks.trees_data import (
    NODE_TYPES,
    SPECIALS,
    EncodedTree,
    TreeData,
    build_tree_vocab,
    encode_tree,
)
from seqnlp.text import bucket_batches
from seqnlp.text.trees import LevelSchedule, Tree, level_schedule
from seqnlp.text.vocab import Vocab

KIND = "tree-classifier"
METRIC = "fine_root"
EVAL_BATCH = 256  # trees per evaluation batch


def schedule_of(trees: Sequence[EncodedTree]) -> LevelSchedule:
    """The level-major layout of a batch of encoded trees."""
    return level_schedule([t.left for t in trees], [t.right for t in trees],
                          [t.heights for t in trees])


def make_tree_batch(trees: Sequence[EncodedTree], schedule: LevelSchedule | None = None
                    ) -> dict[str, Any]:
    """The tensors of a batch of encoded trees, laid out level-major.

    Returns:
        `{"words": (L,), "levels": [(left (n_h,), right (n_h,)), ...], "labels": (N,),
        "types": (N,), "roots": (B,)}`; see `seqnlp.text.trees.level_schedule`.
    """
    schedule = schedule or schedule_of(trees)
    order = schedule.order
    words = np.concatenate([t.words for t in trees])[order[:schedule.num_leaves]]
    return {
        "words": torch.from_numpy(words),
        "levels": [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in schedule.levels],
        "labels": torch.from_numpy(np.concatenate([t.labels for t in trees])[order]),
        "types": torch.from_numpy(np.concatenate([t.types for t in trees])[order]),
        "roots": torch.from_numpy(schedule.roots),
    }


def tree_batches(trees: Sequence[EncodedTree], batch_size: int, shuffle: bool,
                 seed: int = 0) -> list[dict[str, Any]]:
    """Batches of trees of similar height (a batch costs one step per level of its
    tallest tree), in shuffled order when `shuffle`."""
    heights = [int(t.heights[-1]) for t in trees]
    return [make_tree_batch([trees[i] for i in group])
            for group in bucket_batches(heights, batch_size, shuffle=shuffle, seed=seed)]


class TreeScores:
    """Running counts of correct fine-grained and binary decisions at roots and all nodes."""

    def __init__(self) -> None:
        self.correct = dict.fromkeys(("fine_root", "fine_all", "binary_root", "binary_all"), 0)
        self.total = dict.fromkeys(self.correct, 0)

    def add(self, probabilities: torch.Tensor, labels: torch.Tensor, roots: torch.Tensor) -> None:
        """Count one batch: probabilities (N, 5), gold labels (N,), root positions (B,)."""
        fine = probabilities.argmax(1)
        negative = probabilities[:, :2].sum(1) >= probabilities[:, 3:].sum(1)
        binary_ok = negative == (labels < 2)
        polar = labels != 2
        is_root = torch.zeros_like(labels, dtype=torch.bool)
        is_root[roots] = True
        for name, hits, where in (("fine_root", fine == labels, is_root),
                                  ("fine_all", fine == labels, None),
                                  ("binary_root", binary_ok, polar & is_root),
                                  ("binary_all", binary_ok, polar)):
            chosen = hits if where is None else hits[where]
            self.correct[name] += int(chosen.sum())
            self.total[name] += int(chosen.numel())

    def result(self) -> dict[str, float]:
        return {name: self.correct[name] / max(self.total[name], 1) for name in self.correct}


def evaluate_tree_batches(model: Any, batches: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Fine and binary accuracy at the roots and over all nodes, and the mean node loss."""
    scores, loss, nodes = TreeScores(), 0.0, 0
    model.eval()
    with torch.no_grad():
        for batch in batches:
            logits, batch_loss = model(**batch)
            scores.add(torch.softmax(logits, 1), batch["labels"], batch["roots"])
            loss += float(batch_loss) * len(batch["labels"])
            nodes += len(batch["labels"])
    return {**scores.result(), "loss": loss / max(nodes, 1)}


class TreeTask:
    """Tree sentiment for `train_task`: the word vocabulary from train, the
    `TreeClassifierConfig` from the options, height-bucketed batches, dev root accuracy.

    Args:
        data: the splits.
        batch_size: trees per update.
        lowercase: lower-case words before lookup.
        min_count, max_vocab: the word vocabulary's bounds (rarer words read as `<unk>`).
        vectors: pretrained word vectors (their size becomes the embedding size).
        node_types: how the SU-RNN types nodes (see `trees_data.NODE_TYPES`).
    """

    kind = KIND
    metric = METRIC
    mode = "max"

    def __init__(self, data: TreeData, batch_size: int = 25, lowercase: bool = True,
                 min_count: int = 1, max_vocab: int | None = None,
                 vectors: WordVectors | None = None, node_types: str = "word-phrase") -> None:
        if node_types not in NODE_TYPES:
            raise ValueError(f"node_types must be one of {one_of(NODE_TYPES)}, got {node_types!r}")
        self.data = data
        self.batch_size = batch_size
        self.lowercase = lowercase
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.vectors = vectors
        self.node_types = node_types
        self._cache: dict[tuple[str, int], list[EncodedTree]] = {}

    def build_vocabs(self) -> dict[str, Vocab]:
        return {"tokens": build_tree_vocab(self.data.train, self.lowercase, self.min_count,
                                           self.max_vocab)}

    def model_config(self, options: Mapping[str, Any], vocabs: dict[str, Vocab]) -> Any:
        from seqnlp.models.tree_classifier import TreeClassifierConfig

        options = dict(options)
        if self.vectors is not None:
            options["embedding_dim"] = int(np.asarray(self.vectors.vectors).shape[1])
        return TreeClassifierConfig(vocab_size=len(vocabs["tokens"]),
                                    num_classes=len(self.data.label_names),
                                    num_types=NODE_TYPES[self.node_types][0], **options)

    def init_model(self, model: Any, vocabs: dict[str, Vocab], seed: int) -> dict[str, Any]:
        info: dict[str, Any] = {"train_nodes": sum(len(t.labels) for t in
                                                   self.encoded("train", vocabs))}
        if self.vectors is not None:
            matrix, coverage = pretrained_matrix(vocabs["tokens"].itos, self.vectors,
                                                 SPECIALS, None, seed)
            info["coverage"] = coverage.rate  # the share of non-special words found
            model.load_embeddings(matrix)
        return info

    def train_batches(self, vocabs: dict[str, Vocab], config: Any, seed: int) -> Callable:
        trees = self.encoded("train", vocabs)
        return lambda epoch: tree_batches(trees, self.batch_size, True, seed + epoch)

    def dev_batches(self, vocabs: dict[str, Vocab], config: Any) -> list[dict] | None:
        if not self.data.dev:
            return None
        return tree_batches(self.encoded("dev", vocabs), EVAL_BATCH, False)

    def evaluate(self, model: Any, batches: Sequence[dict[str, Any]]) -> dict[str, float]:
        return evaluate_tree_batches(model, batches)

    def predict(self, loaded: Any, texts: Sequence[str]) -> list[Any]:
        """The predicted tree of each text (bracketed, or a plain sentence: balanced)."""
        return predict_trees(loaded, [tree for tree, _ in parse_inputs(texts)])

    def extra(self) -> dict[str, Any]:
        return {"data": self.data.name, "label_names": list(self.data.label_names),
                "lowercase": self.lowercase, "node_types": self.node_types}

    def encoded(self, split: str, vocabs: dict[str, Vocab]) -> list[EncodedTree]:
        """The trees of a split as arrays (cached per vocabulary)."""
        key = (split, id(vocabs["tokens"]))
        if key not in self._cache:
            self._cache[key] = [encode_tree(t, vocabs["tokens"], self.lowercase,
                                            self.node_types) for t in self.data.split(split)]
        return self._cache[key]


def score_trees(model: Any, vocab: Vocab, trees: Sequence[Tree], lowercase: bool = True,
                node_types: str = "word-phrase", batch_size: int = EVAL_BATCH
                ) -> dict[str, float]:
    """`evaluate_tree_batches` over raw trees with a trained model and its vocabulary."""
    encoded = [encode_tree(t, vocab, lowercase, node_types) for t in trees]
    return evaluate_tree_batches(model, tree_batches(encoded, batch_size, False))


# --------------------------------------------------------------------------- prediction

@dataclass(frozen=True)
class PredictedTree:
    """A tree relabelled with the predicted class of every node.

    Attributes:
        tree: a new tree of the input's shape and words, labels predicted (the input
            tree is left as it was).
        probabilities: (n, C) each node's class probabilities, in post-order.
    """

    tree: Tree
    probabilities: np.ndarray


def parse_inputs(texts: Sequence[str], shape: str = "balanced", source: str = "argument"
                 ) -> list[tuple[Tree, str]]:
    """Trees from user texts: a text starting with "(" is a bracketed tree (its labels are
    ignored by prediction), anything else a plain sentence of space-separated words, made
    a binary tree of `shape`.

    Returns:
        `(tree, how)` per text, `how` "parsed" or the shape.

    Raises:
        DataFormatError: naming `source` and the 1-based line: an empty text, a malformed
            or non-binary tree, a label outside 0-4.
    """
    from seqnlp.errors import DataFormatError
    from seqnlp.tasks.trees_data import NUM_CLASSES, check_binary
    from seqnlp.text.trees import binarize, parse_tree

    parsed = []
    for line, text in enumerate(texts, start=1):
        if text.lstrip(" ").startswith("("):
            tree = parse_tree(text, source, line, num_labels=NUM_CLASSES)
            check_binary(tree, source, line)
            parsed.append((tree, "parsed"))
            continue
        words = text.split()
        if not words:
            raise DataFormatError(source, line, "empty text: give a sentence or a bracketed "
                                  "tree")
        try:
            parsed.append((binarize(words, shape, label=2), shape))
        except ValueError as exc:
            raise DataFormatError(source, line, str(exc)) from None
    return parsed


def predict_trees(loaded: Any, trees: Sequence[Tree], batch_size: int = EVAL_BATCH
                  ) -> list[PredictedTree]:
    """Every node's predicted class, with a model read by `load_model`."""
    encoded = [encode_tree(t, loaded.vocab, loaded.lowercase, loaded.node_types)
               for t in trees]
    predicted: list[PredictedTree] = []
    model = loaded.model
    model.eval()
    for start in range(0, len(encoded), batch_size):
        chunk = encoded[start:start + batch_size]
        schedule = schedule_of(chunk)
        with torch.no_grad():
            logits, _ = model(**make_tree_batch(chunk, schedule))
        probabilities = np.empty((len(schedule.order), logits.shape[1]), dtype=np.float64)
        probabilities[schedule.order] = torch.softmax(logits.double(), 1).numpy()
        offset = 0
        for tree, item in zip(trees[start:start + batch_size], chunk):
            size = len(item.labels)
            mine = probabilities[offset:offset + size]  # post-order, as the tree's nodes
            predicted.append(PredictedTree(tree.relabel(mine.argmax(1).tolist()), mine))
            offset += size
    return predicted
