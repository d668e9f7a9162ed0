"""Sequence-classification data: labelled texts from IMDB (Maas et al., 2011), SST-2 and
SST-5 (Socher et al., 2013; sentence level, the root label; SST-2 drops neutral roots and
maps 0-1 to negative, 3-4 to positive) or a user's `label<TAB>text` file.

The dev split of IMDB and of a user's file is cut from train with a fixed seed (or read
from a dev file the user gives), so test is touched only for the final number. A user's
file labels its lines with class indices 0..C-1, each used at least once, or with names
(pos, neg, sports, ...), numbered in sorted order; a saved model's label names are the
file's own labels. The splits are checked before any training (`check_training_data`), and
so are pretrained vectors (`check_vectors`). Evaluation reads and tokenises only the split
it scores (`load_examples`).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seqnlp.errors import DatasetError, SeqnlpError
from seqnlp.tasks.pipeline import Track, untracked
from seqnlp.text.batching import dev_cut, split_dev  # noqa: F401  (re-exported)
from seqnlp.text.corpus import LabeledLine, is_index_label, label_ids, read_label_lines

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


def read_tsv(path: str | os.PathLike[str], num_labels: int | None = None,
             track: Track = untracked, desc: str | None = None) -> list[Example]:
    """Every line of a `label<TAB>text` file with class-index labels, tokenised
    (DataFormatError on a bad line); `track` shows the tokenising as `desc`."""
    from seqnlp.text.corpus import read_labeled

    records = list(read_labeled(path, num_labels=num_labels))
    return _tokenized([r.text for r in records], [r.label for r in records], track,
                      desc or f"reading {Path(path).name}")


def _tokenized(texts: Sequence[str], labels: Sequence[int], track: Track,
               desc: str) -> list[Example]:
    """`Example`s of raw texts (the slow part of reading IMDB: tokenising), tracked."""
    rows = track(zip(texts, labels), desc, len(texts), "text")
    return [Example(tokenize(text), label) for text, label in rows]


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
    data: str, dev_fraction: float = 0.1, seed: int = 0, phrases: bool = False,
    dev_file: str | os.PathLike[str] | None = None, track: Track = untracked,
) -> ClassificationData:
    """Load "imdb", "sst2", "sst5" from the data home, or a `label<TAB>text` file.

    A user's file labels its lines with class indices 0..C-1 (C >= 2, each used) or with
    names (pos, neg, sports, ...; numbered in sorted order), and has no test split. Its dev
    split, like IMDB's, is `dev_fraction` of the lines, drawn with `seed` (0: no dev split,
    so no model selection or early stopping), unless `dev_file` gives one: then every
    training line trains, and the dev lines' labels must be the training data's classes.
    `phrases` adds SST's labelled phrases to its training split (dev and test stay sentence
    level). `track` shows the tokenising of each split.

    Raises:
        DatasetError: an unknown name, a dataset not yet fetched (the message says how),
            labels that are not 0..C-1 with C >= 2, or a dev cut that leaves the training
            or the dev split empty (the message gives the counts).
        DataFormatError: a malformed line in a TSV file, labels of both forms in one
            file, or a dev file label the training data has no class for.
    """
    from seqnlp.datasets import split_files

    if data in ("sst2", "sst5"):
        files = split_files("sst")
        binary = data == "sst2"
        names = BINARY if binary else SST_FINE
        parts = {split: read_sst(files[split], binary, phrases and split == "train")
                 for split in SPLITS if split != "dev" or dev_file is None}
        dev = parts.get("dev") or read_labeled_file(dev_file, names, "the training data's",
                                                    track)
        loaded = ClassificationData(data, parts["train"], dev, parts["test"], names)
    elif data == "imdb":
        files = split_files("imdb")
        train, dev = _train_and_dev(files["train"], BINARY, dev_fraction, seed, dev_file,
                                    track, "imdb")
        test = read_tsv(files["test"], 2, track, "reading imdb test")
        loaded = ClassificationData("imdb", train, dev, test, BINARY)
    else:
        path = _user_file(data)
        names = training_label_names(path, read_label_lines(path))
        train, dev = _train_and_dev(path, names, dev_fraction, seed, dev_file, track,
                                    path.name)
        loaded = ClassificationData(path.name, train, dev, [], names)
    check_training_data(loaded)
    return loaded


def _train_and_dev(path: Path, names: tuple[str, ...], fraction: float, seed: int,
                   dev_file: Any, track: Track, name: str) -> tuple[list, list]:
    """The training lines of `path` and the dev split: `dev_file`, or a cut of `path`.

    Every label is checked before any text is tokenised (the slow part)."""
    lines = read_label_lines(path)
    if dev_file is None:
        train_lines, dev_lines = split_dev(lines, fraction, seed)
        _check_cut(str(path), len(lines), len(train_lines), len(dev_lines), fraction)
        dev_path, dev_desc = path, f"reading {name} dev"
    else:
        train_lines, dev_path = lines, _user_file(str(dev_file))
        dev_lines, dev_desc = read_label_lines(dev_path), f"reading {dev_path.name}"
    train_ids = label_ids(path, train_lines, names)
    dev_ids = label_ids(dev_path, dev_lines, names, "the training data's")
    return (_tokenized([line.text for line in train_lines], train_ids, track,
                       f"reading {name} train"),
            _tokenized([line.text for line in dev_lines], dev_ids, track, dev_desc))


def read_labeled_file(path: str | os.PathLike[str], names: Sequence[str], whose: str,
                      track: Track = untracked) -> list[Example]:
    """Every line of a `label<TAB>text` file as an example of the classes `names` (a
    model's, or the training data's): a label is a class index below len(names), or one of
    the names.

    Raises:
        DataFormatError: a malformed line, labels of both forms, or a label outside the
            classes (naming the file, the first such line and the labels outside).
    """
    path = _user_file(str(path))
    lines = read_label_lines(path)
    ids = label_ids(path, lines, tuple(names), whose)
    return _tokenized([line.text for line in lines], ids, track, f"reading {path.name}")


def training_label_names(path: Path, lines: Sequence[LabeledLine]) -> tuple[str, ...]:
    """The class names of a training file: "0".."C-1" for class indices (0..C-1, each
    used), or its distinct names in sorted order (so "neg" is class 0 and "pos" class 1).

    Raises:
        DatasetError: fewer than two classes, or class indices that are not 0..C-1.
    """
    if lines and is_index_label(lines[0].label):
        first: dict[int, int] = {}
        for line in lines:
            first.setdefault(int(line.label), line.line)
        return label_names(check_class_labels(path, [int(line.label) for line in lines],
                                              first))
    counts = Counter(line.label for line in lines)
    if len(counts) < 2:
        label, count = next(iter(counts.items()))
        raise DatasetError(
            f"{path}: every line is labelled {label!r} ({count:,} lines); a classifier needs "
            "at least two classes")
    return tuple(sorted(counts))


def check_class_labels(path: str | os.PathLike[str], labels: Sequence[int],
                       first_lines: dict[int, int] | None = None) -> int:
    """The number of classes C of a user's file, whose labels must be 0..C-1, each used.

    The classes are counted from the labels present, never from the largest one (a lone
    line labelled 999999999999 must not ask for a trillion output units).

    Args:
        labels: the label of each line.
        first_lines: the first line of each label, for the message.

    Raises:
        DatasetError: fewer than two distinct labels, or labels that are not 0..C-1
            (naming the first offending line and the labels missing), with the counts.
    """
    counts = Counter(labels)
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


def _some(values: Sequence[Any], shown: int = 6) -> str:
    """`values` for a message, the first few only: "1, 2, 3, ... (997 in all)"."""
    if len(values) <= shown:
        return ", ".join(map(str, values))
    return f"{', '.join(map(str, values[:shown]))}, ... ({len(values):,} in all)"


def load_examples(data: str, split: str | None, names: Sequence[str],
                  dev_fraction: float = 0.1, seed: int = 0, track: Track = untracked,
                  ) -> tuple[list[Example], str]:
    """The examples to evaluate on, reading and tokenising only those.

    A named dataset's `split` (None: test): SST reads that split's file; IMDB's test reads
    the test file, its dev and train the lines of the train file and cut them as training
    did (`dev_fraction`, `seed`; see `dev_cut`) before tokenising the part asked for. A
    file is scored whole (`split` None), or as the train or dev part of that same cut.

    Args:
        names: the model's class names; a file's label is a class index below
            len(names), or one of the names.

    Returns:
        `(examples, description)`, e.g. `(..., "sst5 test")`.

    Raises:
        DatasetError: an unknown name, a dataset not fetched, or "test" for a file.
        DataFormatError: a malformed line, or a label the model has no class for.
    """
    from seqnlp.datasets import split_files

    if data in ("sst2", "sst5"):
        split = split or "test"
        path = split_files("sst")[split]
        return _model_labels(read_sst(path, data == "sst2"), names), f"{data} {split}"
    if data == "imdb" and (split or "test") == "test":
        test = read_tsv(split_files("imdb")["test"], 2, track, "reading imdb test")
        return _model_labels(test, names), "imdb test"
    path = split_files("imdb")["train"] if data == "imdb" else _user_file(data)
    shown = "imdb" if data == "imdb" else str(data)
    if split is None:
        return read_labeled_file(path, names, "the model's", track), shown
    if split == "test":
        raise DatasetError(f"{data}: a label<TAB>text file has no test split: leave --split "
                           "out to score the whole file, or give train or dev for the part "
                           "of the dev cut that training made")
    lines = read_label_lines(path)
    part = split_dev(lines, dev_fraction, seed)[0 if split == "train" else 1]
    where = f"{shown} {split} ({split} part of a {dev_fraction:g} dev cut, seed {seed})"
    short = "imdb" if data == "imdb" else Path(data).name
    ids = label_ids(Path(path), part, tuple(names), "the model's")
    return _tokenized([line.text for line in part], ids, track, f"reading {short} {split}"), where


def _model_labels(examples: list[Example], names: Sequence[str]) -> list[Example]:
    """A named dataset's examples, refused when the model has fewer classes."""
    outside = sorted({e.label for e in examples if e.label >= len(names)})
    if outside:
        raise DatasetError(
            f"the data has labels outside the model's {len(names)} classes "
            f"0..{len(names) - 1}: {_some(outside)}; score it with a model trained on "
            "these labels")
    return examples


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
