"""Sequence-classification data: labelled texts from IMDB (Maas et al., 2011), SST-2 and
SST-5 (Socher et al., 2013; sentence level, the root label; SST-2 drops neutral roots and
maps 0-1 to negative, 3-4 to positive) or a user's `label<TAB>text` file.

The dev split of IMDB and of a user's file is cut from train with a fixed seed, so test is
touched only for the final number.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqnlp.errors import DatasetError, SeqnlpError

SST_FINE = ("very negative", "negative", "neutral", "positive", "very positive")
BINARY = ("negative", "positive")
DATA_NAMES = ("imdb", "sst2", "sst5")
SPECIALS = ("<pad>", "<unk>")
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class Example:
    """One tokenised text and its label."""

    tokens: tuple[str, ...]
    label: int


@dataclass(frozen=True)
class ClassificationData:
    """Train/dev/test examples and the label names (index = label id)."""

    name: str
    train: list[Example]
    dev: list[Example]
    test: list[Example]
    label_names: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        """C, the number of classes."""
        return len(self.label_names)

    def split(self, name: str) -> list[Example]:
        """The examples of "train", "dev" or "test"."""
        if name not in SPLITS:
            raise SeqnlpError(f"unknown split {name!r}: use one of {', '.join(SPLITS)}")
        return getattr(self, name)


def tokenize(text: str) -> tuple[str, ...]:
    """Lower-cased English tokens, HTML tags removed (IMDB, user files and `predict`)."""
    from seqnlp.text import english_tokenize

    return tuple(english_tokenize(text, lower=True))


def split_dev(
    examples: list[Example], fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """Cut a random `fraction` of `examples` off as a dev set: `(train, dev)`, in file order."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"dev fraction must be in [0, 1), got {fraction}")
    order = np.random.default_rng(seed).permutation(len(examples))
    cut = int(round(len(examples) * fraction))
    dev = [examples[i] for i in sorted(order[:cut])]
    train = [examples[i] for i in sorted(order[cut:])]
    return train, dev


def read_tsv(path: str | os.PathLike[str], num_labels: int | None = None) -> list[Example]:
    """Every line of a `label<TAB>text` file, tokenised (DataFormatError on a bad line)."""
    from seqnlp.text import read_labeled

    return [Example(tokenize(r.text), r.label) for r in read_labeled(path, num_labels=num_labels)]


def read_sst(path: str | os.PathLike[str], binary: bool, phrases: bool = False) -> list[Example]:
    """Sentence-level SST: the lower-cased leaves and the root label (SST-2: neutral dropped).

    With `phrases`, every labelled subtree becomes an example too (each distinct phrase
    once, its first label kept), as in Socher et al. (2013) and Kim (2014) training; the
    full sentences come first.
    """
    from seqnlp.text import read_trees

    trees = list(read_trees(path))
    examples = [e for e in map(_sst_example, trees, [binary] * len(trees)) if e is not None]
    if phrases:
        seen = {e.tokens for e in examples}
        for node in (node for tree in trees for node in tree.nodes()):
            example = _sst_example(node, binary)
            if example is not None and example.tokens not in seen:
                seen.add(example.tokens)
                examples.append(example)
    return examples


def _sst_example(tree: Any, binary: bool) -> Example | None:
    """The example of one (sub)tree; None for a neutral one in SST-2."""
    if binary and tree.label == 2:
        return None
    label = int(tree.label > 2) if binary else tree.label
    return Example(tuple(w.lower() for w in tree.leaves()), label)


def load_classification_data(
    data: str, dev_fraction: float = 0.1, seed: int = 0, phrases: bool = False
) -> ClassificationData:
    """Load "imdb", "sst2", "sst5" from the data home, or a `label<TAB>text` file.

    A user's file has labels 0..C-1 (C >= 2) and no test split; its dev split, like IMDB's,
    is `dev_fraction` of the lines, drawn with `seed`. `phrases` adds SST's labelled
    phrases to its training split (dev and test stay sentence level).

    Raises:
        DatasetError: an unknown name, or a dataset not yet fetched (the message says how).
        DataFormatError: a malformed line in a TSV file.
    """
    from seqnlp.datasets import split_files

    if data == "imdb":
        files = split_files("imdb")
        train, dev = split_dev(read_tsv(files["train"], 2), dev_fraction, seed)
        return ClassificationData("imdb", train, dev, read_tsv(files["test"], 2), BINARY)
    if data in ("sst2", "sst5"):
        files = split_files("sst")
        binary = data == "sst2"
        parts = {split: read_sst(files[split], binary, phrases and split == "train")
                 for split in SPLITS}
        names = BINARY if binary else SST_FINE
        return ClassificationData(data, parts["train"], parts["dev"], parts["test"], names)
    examples = read_tsv(_user_file(data))
    num_classes = max(e.label for e in examples) + 1
    if num_classes < 2:
        raise DatasetError(f"{data}: every label is 0; a classifier needs at least two classes")
    train, dev = split_dev(examples, dev_fraction, seed)
    return ClassificationData(Path(data).name, train, dev, [], label_names(num_classes))


def load_examples(data: str, split: str = "test") -> tuple[list[Example], str]:
    """The examples to evaluate on: a split of a named dataset, or every line of a TSV file.

    Returns:
        `(examples, description)`, e.g. `(..., "sst5 test")`.
    """
    if data in DATA_NAMES:
        return load_classification_data(data).split(split), f"{data} {split}"
    return read_tsv(_user_file(data)), str(data)


def label_names(num_classes: int) -> tuple[str, ...]:
    """The names of a user file's classes: "0", "1", ..."""
    return tuple(str(i) for i in range(num_classes))


def _user_file(data: str) -> Path:
    if not Path(data).is_file():
        raise DatasetError(
            f"unknown classification data {data!r}: use {', '.join(DATA_NAMES)} "
            "or a label<TAB>text file"
        )
    return Path(data)
