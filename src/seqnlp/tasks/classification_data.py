"""Sequence-classification data: labelled texts from IMDB (Maas et al., 2011), SST-2 and
SST-5 (Socher et al., 2013; sentence level, the root label; SST-2 drops neutral roots and
maps 0-1 to negative, 3-4 to positive) or a user's `label<TAB>text` file.

The dev split of IMDB and of a user's file is cut from train with a fixed seed, so test is
touched only for the final number. A user's file numbers its K classes 0..K-1, each used at
least once (so a saved model's label names are the file's own labels); the splits are
checked before any training (`check_training_data`), and so are pretrained vectors
(`check_vectors`).
"""

from __future__ import annotations

import os
from collections import Counter
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

    A user's file has labels 0..C-1 (C >= 2), each on at least one line, and no test
    split; its dev split, like IMDB's, is `dev_fraction` of the lines, drawn with `seed`
    (0: no dev split, so no model selection or early stopping). `phrases` adds SST's
    labelled phrases to its training split (dev and test stay sentence level).

    Raises:
        DatasetError: an unknown name, a dataset not yet fetched (the message says how),
            labels that are not 0..C-1 with C >= 2, or a dev cut that leaves the training
            or the dev split empty (the message gives the counts).
        DataFormatError: a malformed line in a TSV file.
    """
    from seqnlp.datasets import split_files

    if data == "imdb":
        files = split_files("imdb")
        examples = read_tsv(files["train"], 2)
        train, dev = split_dev(examples, dev_fraction, seed)
        _check_cut(str(files["train"]), len(examples), len(train), len(dev), dev_fraction)
        loaded = ClassificationData("imdb", train, dev, read_tsv(files["test"], 2), BINARY)
        check_training_data(loaded)
        return loaded
    if data in ("sst2", "sst5"):
        files = split_files("sst")
        binary = data == "sst2"
        parts = {split: read_sst(files[split], binary, phrases and split == "train")
                 for split in SPLITS}
        names = BINARY if binary else SST_FINE
        loaded = ClassificationData(data, parts["train"], parts["dev"], parts["test"], names)
        check_training_data(loaded)
        return loaded
    path = _user_file(data)
    examples, first_lines = _read_user_tsv(path)
    num_classes = check_class_labels(path, examples, first_lines)
    train, dev = split_dev(examples, dev_fraction, seed)
    _check_cut(str(path), len(examples), len(train), len(dev), dev_fraction)
    loaded = ClassificationData(path.name, train, dev, [], label_names(num_classes))
    check_training_data(loaded)
    return loaded


def _read_user_tsv(path: Path) -> tuple[list[Example], dict[int, int]]:
    """Every line of a user's TSV file, and the first line number of each label."""
    from seqnlp.text import read_labeled

    examples, first_lines = [], {}
    for record in read_labeled(path):
        examples.append(Example(tokenize(record.text), record.label))
        first_lines.setdefault(record.label, record.line)
    return examples, first_lines


def check_class_labels(path: str | os.PathLike[str], examples: list[Example],
                       first_lines: dict[int, int] | None = None) -> int:
    """The number of classes C of a user's file, whose labels must be 0..C-1, each used.

    The classes are counted from the labels present, never from the largest one (a lone
    line labelled 999999999999 must not ask for a trillion output units).

    Raises:
        DatasetError: fewer than two distinct labels, or labels that are not 0..C-1
            (naming the first offending line and the labels missing), with the counts.
    """
    counts = Counter(e.label for e in examples)
    lines = first_lines or {}
    if len(counts) < 2:
        label, count = next(iter(counts.items()))
        raise DatasetError(
            f"{path}: every line is labelled {label} ({count:,} lines); a classifier needs "
            "at least two classes, numbered 0, 1, ..."
        )
    num_classes = len(counts)
    outside = sorted(label for label in counts if label >= num_classes)
    if outside:
        missing = [label for label in range(num_classes) if label not in counts]
        where = f"{path}, line {lines[outside[0]]}" if outside[0] in lines else str(path)
        raise DatasetError(
            f"{where}: label {outside[0]}, but the file has {num_classes} distinct labels "
            f"({_some(sorted(counts))}); the labels of C classes must be 0..C-1, each used "
            f"at least once (missing: {_some(missing)}); renumber the labels"
        )
    return num_classes


def _check_cut(source: str, total: int, train: int, dev: int, fraction: float) -> None:
    """Refuse a dev cut that leaves no training example, or no dev example when one was
    asked for."""
    counts = f"train {train:,}, dev {dev:,}"
    if not train:
        raise DatasetError(
            f"{source}: a dev fraction of {fraction:g} of {total:,} examples leaves nothing "
            f"to train on ({counts}); lower the dev fraction (--dev-fraction)"
        )
    if fraction > 0 and not dev:
        raise DatasetError(
            f"{source}: a dev fraction of {fraction:g} of {total:,} examples leaves no dev "
            f"example ({counts}); use at least {1 / total:.2g}, or 0 to train without a "
            "dev split (and without early stopping)"
        )


def check_training_data(data: ClassificationData) -> None:
    """Refuse splits that cannot train a classifier, before any work: labels outside the
    classes, an empty training split, one whose texts are all empty, or one that holds a
    single class.

    Raises:
        DatasetError: saying which split and giving the counts.
    """
    for split in SPLITS:
        bad = [e.label for e in data.split(split) if not 0 <= e.label < data.num_classes]
        if bad:
            raise DatasetError(
                f"{data.name}: the {split} split has label {bad[0]} ({len(bad):,} examples "
                f"outside the {data.num_classes} classes 0..{data.num_classes - 1})"
            )
    counts = Counter(e.label for e in data.train)
    sizes = f"train {len(data.train):,}, dev {len(data.dev):,}"
    if not counts:
        raise DatasetError(f"{data.name}: the training split is empty ({sizes})")
    if not any(e.tokens for e in data.train):
        raise DatasetError(f"{data.name}: every training text is empty ({sizes}); the "
                           "text follows the TAB on each line")
    if len(counts) < 2:
        label = next(iter(counts))
        raise DatasetError(
            f"{data.name}: every training example is of class {data.label_names[label]!r} "
            f"({sizes}); a classifier needs at least two classes to learn from: use more "
            "training data (a larger --train-limit, a smaller --dev-fraction)"
        )


def _some(values: list[int], shown: int = 6) -> str:
    """`values` for a message, the first few only: "1, 2, 3, ... (997 in all)"."""
    if len(values) <= shown:
        return ", ".join(map(str, values))
    return f"{', '.join(map(str, values[:shown]))}, ... ({len(values):,} in all)"


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


def check_vectors(vectors: Any) -> None:
    """Refuse pretrained vectors (a `KeyedVectors`, or anything with `index_to_key` and
    `vectors`) with NaN or infinite entries: one such entry makes the random rows (drawn
    on the vectors' scale) and then the loss NaN.

    Raises:
        SeqnlpError: naming the first damaged word and how many there are.
    """
    table = np.asarray(vectors.vectors)
    if table.ndim != 2 or not np.issubdtype(table.dtype, np.number):
        raise SeqnlpError(f"pretrained vectors must be a (V, E) array of numbers, got shape "
                          f"{table.shape} of {table.dtype}")
    # A row sum in float64 is finite exactly when every float32 entry is (no overflow),
    # without a (V, E) boolean copy of a large table.
    bad = np.flatnonzero(~np.isfinite(table.sum(axis=1, dtype=np.float64)))
    if len(bad):
        keys = vectors.index_to_key
        word = keys[bad[0]] if bad[0] < len(keys) else f"row {bad[0]}"
        raise SeqnlpError(
            f"pretrained vectors: {len(bad):,} of {len(table):,} hold NaN or infinite values "
            f"(first: {word!r}); fix or re-train the vectors"
        )
