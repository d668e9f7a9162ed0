"""Tree data for the tree classifier: the Stanford Sentiment Treebank (Socher et al. 2013;
8,544 / 1,101 / 2,210 binary trees, a label 0-4 on every node) or a user's file of
bracketed binary trees, one per line, and its encoding into the arrays a batch is built from.

A user's file has no dev split of its own: `dev_fraction` of its trees, drawn with a fixed
seed, become dev. Every inner node must have exactly two children (the models are binary).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqnlp.errors import DataFormatError, DatasetError
from seqnlp.text.batching import split_dev
from seqnlp.text.trees import FlatTree, Tree, parse_tree
from seqnlp.text.vocab import Vocab

SST_FINE = ("very negative", "negative", "neutral", "positive", "very positive")
NUM_CLASSES = len(SST_FINE)
SPLITS = ("train", "dev", "test")
UNK = "<unk>"
SPECIALS = (UNK,)


@dataclass(frozen=True)
class TreeData:
    """Train/dev/test trees and the label names (index = label id)."""

    name: str
    train: list[Tree]
    dev: list[Tree]
    test: list[Tree]
    label_names: tuple[str, ...] = SST_FINE

    def split(self, name: str) -> list[Tree]:
        """The trees of "train", "dev" or "test"."""
        if name not in SPLITS:
            raise DatasetError(f"unknown split {name!r}: use one of {', '.join(SPLITS)}")
        return getattr(self, name)


def read_binary_trees(path: str | os.PathLike[str]) -> list[Tree]:
    """Every tree of a bracketed file (labels 0-4), each checked to be binary.

    Raises:
        DataFormatError: naming the file and line: a malformed tree (see `parse_tree`),
            a label outside 0-4, or a node with one or more than two children.
    """
    from seqnlp.fileio import iter_lines

    trees = []
    for line, text in iter_lines(path):
        tree = parse_tree(text, path, line, num_labels=NUM_CLASSES)
        check_binary(tree, path, line)
        trees.append(tree)
    return trees


def check_binary(tree: Tree, path: str | os.PathLike[str], line: int) -> None:
    """Raise DataFormatError (naming `path` and `line`) unless `tree` is binary."""
    for node in tree.nodes():
        if len(node.children) not in (0, 2):
            words = " ".join(node.leaves()[:8])
            raise DataFormatError(path, line, f"the node labelled {node.label} over {words!r} "
                                  f"has {len(node.children)} child(ren); the tree models read "
                                  "binary trees (every inner node has two)")


def load_tree_data(data: str, dev_fraction: float = 0.1, seed: int = 0,
                   train_limit: int | None = None) -> TreeData:
    """Load "sst" from the data home, or a user's file of bracketed binary trees.

    Args:
        data: "sst" or a path.
        dev_fraction: a user's file: the share of its trees held out as dev.
        seed: draws that dev cut.
        train_limit: keep only the first this many training trees (quick runs).

    Raises:
        DatasetError: an unknown name, SST not yet fetched (the message says how), or a
            dev cut that leaves the training split empty.
        DataFormatError: a malformed tree, naming the file and line.
    """
    if data == "sst":
        from seqnlp.datasets import split_files

        files = split_files("sst")
        parts = {split: read_binary_trees(files[split]) for split in SPLITS}
        loaded = TreeData("sst", parts["train"], parts["dev"], parts["test"])
    else:
        path = Path(data)
        if not path.is_file():
            raise DatasetError(f"unknown tree data {data!r}: use sst or a file of bracketed "
                               "trees, one per line")
        trees = read_binary_trees(path)
        train, dev = split_dev(trees, dev_fraction, seed)
        if not train:
            raise DatasetError(f"{data}: a dev fraction of {dev_fraction:g} of {len(trees):,} "
                               "trees leaves nothing to train on; lower --dev-fraction")
        loaded = TreeData(path.name, train, dev, [])
    if train_limit:
        loaded = TreeData(loaded.name, loaded.train[:train_limit], loaded.dev, loaded.test,
                          loaded.label_names)
    return loaded


# --------------------------------------------------------------------------- node types

def word_phrase_types(flat: FlatTree) -> np.ndarray:
    """SST's default node types for the SU-RNN: 0 for a word, 1 for a phrase."""
    return np.array([0 if word is not None else 1 for word in flat.words], dtype=np.int64)


# name -> (number of types, function of a tree's nodes); a tree with categories would add
# a function reading them here.
NODE_TYPES: dict[str, tuple[int, Callable[[FlatTree], np.ndarray]]] = {
    "word-phrase": (2, word_phrase_types),
}


# --------------------------------------------------------------------------- encoding

@dataclass(frozen=True)
class EncodedTree:
    """One tree as post-order arrays (n nodes): `words` the vocabulary id of each node's
    word (-1 for a phrase), `left` and `right` the children (-1 for a leaf), `heights`,
    `labels` and `types`."""

    words: np.ndarray
    left: np.ndarray
    right: np.ndarray
    heights: np.ndarray
    labels: np.ndarray
    types: np.ndarray


def tree_words(tree: Tree, lowercase: bool) -> list[str]:
    """The leaves of `tree` as the vocabulary sees them."""
    return [w.lower() for w in tree.leaves()] if lowercase else tree.leaves()


def build_tree_vocab(trees: Sequence[Tree], lowercase: bool = True, min_count: int = 1,
                     max_size: int | None = None) -> Vocab:
    """The word vocabulary of the training trees, `<unk>` first."""
    return Vocab.build((tree_words(t, lowercase) for t in trees), min_count=min_count,
                       max_size=max_size, specials=SPECIALS)


def encode_tree(tree: Tree, vocab: Vocab, lowercase: bool = True,
                node_types: str = "word-phrase") -> EncodedTree:
    """The arrays of one binary tree (see `EncodedTree`); unknown words map to `<unk>`."""
    flat = tree.flatten()
    n = len(flat)
    words = np.full(n, -1, dtype=np.int64)
    leaves = flat.leaves
    words[leaves] = vocab.encode(tree_words(tree, lowercase))
    left = np.array([c[0] if c else -1 for c in flat.children], dtype=np.int64)
    right = np.array([c[-1] if c else -1 for c in flat.children], dtype=np.int64)
    types = NODE_TYPES[node_types][1](flat)
    return EncodedTree(words, left, right, np.array(flat.heights, dtype=np.int64),
                       np.array(flat.labels, dtype=np.int64), types)
