"""Sequence classification pipeline: labelled texts -> Vocab -> padded batches -> Trainer.

Data names: "imdb" (Maas et al., 2011), "sst2" and "sst5" (Socher et al., 2013; sentence
level, the root label; SST-2 drops neutral roots and maps 0-1 to negative, 3-4 to positive),
or a path to a `label<TAB>text` file. The dev split of IMDB and of a user's file is cut from
train with a fixed seed, so test is touched only for the final number.

Imports: tasks -> training, models, datasets, text (never word2vec: pretrained vectors come
in as any object with `index_to_key` and `vectors`, e.g. a `KeyedVectors`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from seqnlp.errors import DatasetError, SeqnlpError

if TYPE_CHECKING:
    import torch

    from seqnlp.models.classifier import SequenceClassifier
    from seqnlp.text import Vocab
    from seqnlp.training import FitResult, TrainerConfig

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


# ---------------------------------------------------------------------- vocabulary, vectors

def build_vocab(
    examples: Sequence[Example], max_size: int | None = None, min_count: int = 1
) -> Vocab:
    """The vocabulary of the training texts: `<pad>`=0, `<unk>`=1, then by count.

    Args:
        max_size: the most entries, the two specials included (None: no limit).
        min_count: drop words seen fewer times.
    """
    from seqnlp.text import Vocab

    return Vocab.build((e.tokens for e in examples), min_count=min_count, max_size=max_size,
                       specials=SPECIALS)


class WordVectors(Protocol):
    """What `pretrained_matrix` reads: a `KeyedVectors` or anything shaped like it."""

    index_to_key: Sequence[str]
    vectors: np.ndarray


def pretrained_matrix(
    vocab: Vocab, vectors: WordVectors, seed: int = 0
) -> tuple[np.ndarray, float]:
    """An embedding table (V, E) for `vocab` from pretrained vectors.

    A word takes its own vector, else that of its lower-cased form; a missing word gets a
    random vector drawn from N(0, s^2), s the standard deviation of the pretrained entries
    (so it is on the same scale); `<pad>` is zero.

    Returns:
        `(matrix, coverage)`: coverage is the fraction of non-special words found.
    """
    table = np.asarray(vectors.vectors, dtype=np.float32)
    index = {key: i for i, key in enumerate(vectors.index_to_key)}
    rng = np.random.default_rng(seed)
    scale = float(table.std()) or 1.0
    matrix = rng.normal(0.0, scale, (len(vocab), table.shape[1])).astype(np.float32)
    found = 0
    for i, word in enumerate(vocab.itos):
        row = index.get(word, index.get(word.lower()))
        if row is not None and word not in SPECIALS:
            matrix[i] = table[row]
            found += 1
    matrix[vocab.pad_index] = 0.0
    words = len(vocab) - len(SPECIALS)
    return matrix, found / words if words else 0.0


# ---------------------------------------------------------------------- batches

@dataclass(frozen=True)
class EncodedSplit:
    """Token ids (cut to max_len), lengths and labels of one split."""

    ids: list[np.ndarray]
    lengths: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def encode_split(
    examples: Sequence[Example], vocab: Vocab, max_len: int | None = None, truncate: str = "head"
) -> EncodedSplit:
    """Encode every example with `vocab` (`<unk>` for unknown words), at most `max_len` tokens.

    `truncate` "head" keeps the first `max_len` tokens of a longer text, "tail" the last.
    An empty text becomes one `<unk>` step, so that every sequence has a real step.
    """
    from seqnlp.models.classifier import TRUNCATIONS

    if truncate not in TRUNCATIONS:
        raise ValueError(f"truncate must be one of {TRUNCATIONS}, got {truncate!r}")
    ids = []
    for example in examples:
        tokens = example.tokens
        if max_len and len(tokens) > max_len:
            tokens = tokens[:max_len] if truncate == "head" else tokens[-max_len:]
        row = vocab.encode(tokens)
        ids.append(row if len(row) else np.array([vocab.unk_index], dtype=np.int64))
    lengths = np.array([len(r) for r in ids], dtype=np.int64)
    labels = np.array([e.label for e in examples], dtype=np.int64)
    return EncodedSplit(ids, lengths, labels)


def make_batch(
    split: EncodedSplit, indices: np.ndarray, fixed_len: int | None = None
) -> dict[str, torch.Tensor]:
    """The batch `{"ids" (B, T), "lengths" (B,), "labels" (B,)}` of the examples `indices`.

    `fixed_len` pads every batch to that length (what "flatten" pooling needs).
    """
    import torch

    from seqnlp.text import pad_sequences

    ids, _, lengths = pad_sequences([split.ids[i] for i in indices], pad_value=0)  # (B, T)
    if fixed_len and ids.shape[1] < fixed_len:
        ids = np.pad(ids, ((0, 0), (0, fixed_len - ids.shape[1])))  # (B, fixed_len)
    return {
        "ids": torch.from_numpy(np.ascontiguousarray(ids)),
        "lengths": torch.from_numpy(lengths),
        "labels": torch.from_numpy(split.labels[indices]),
    }


def train_batches(
    split: EncodedSplit, batch_size: int, seed: int, fixed_len: int | None = None
) -> Callable[[int], list[dict[str, torch.Tensor]]]:
    """The Trainer's `epoch -> batches`: length-bucketed, shuffled with `seed + epoch`.

    The order depends on the epoch alone, so a resumed run rebuilds it exactly.
    """
    from seqnlp.text import bucket_batches

    def batches(epoch: int) -> list[dict[str, torch.Tensor]]:
        groups = bucket_batches(split.lengths, batch_size, shuffle=True, seed=seed + epoch)
        return [make_batch(split, group, fixed_len) for group in groups]

    return batches


def eval_batches(split: EncodedSplit, batch_size: int, fixed_len: int | None = None) -> list[dict]:
    """Fixed batches of the split, shortest first, for evaluation."""
    from seqnlp.text import bucket_batches

    groups = bucket_batches(split.lengths, batch_size, shuffle=False)
    return [make_batch(split, group, fixed_len) for group in groups]


# ---------------------------------------------------------------------- metrics

def accuracy_and_loss(model: torch.nn.Module, batches: Sequence[dict]) -> dict[str, float]:
    """The Trainer's evaluation: `{"accuracy", "loss"}` over `batches`, example-weighted."""
    labels, predicted, loss = _predict_batches(model, batches)
    return {"accuracy": float(np.mean(labels == predicted)) if len(labels) else float("nan"),
            "loss": loss}


def _predict_batches(model: Any, batches: Sequence[dict]) -> tuple[np.ndarray, np.ndarray, float]:
    import torch

    from seqnlp.models.classifier import probabilities

    labels, predicted, total = [], [], 0.0
    with torch.no_grad():
        for batch in batches:
            logits, loss = model(**batch)
            probs = probabilities(logits, model.binary)
            labels.append(batch["labels"].cpu().numpy())
            predicted.append(probs.argmax(1).cpu().numpy())
            total += float(loss) * len(batch["labels"])
    if not labels:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), float("nan")
    labels_all = np.concatenate(labels)
    return labels_all, np.concatenate(predicted), total / len(labels_all)


@dataclass(frozen=True)
class ClassificationReport:
    """Accuracy, mean loss and per-class precision, recall, F1 and support."""

    accuracy: float
    loss: float
    precision: tuple[float, ...]
    recall: tuple[float, ...]
    f1: tuple[float, ...]
    support: tuple[int, ...]

    @property
    def macro_f1(self) -> float:
        """The unweighted mean of the per-class F1."""
        return float(np.mean(self.f1))


def classification_report(labels: np.ndarray, predicted: np.ndarray, num_classes: int,
                          loss: float = float("nan")) -> ClassificationReport:
    """Per-class scores from true and predicted labels (0 where a ratio is 0/0)."""
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)  # (true, predicted)
    np.add.at(confusion, (labels, predicted), 1)
    hits = np.diag(confusion).astype(np.float64)
    precision = hits / np.maximum(confusion.sum(0), 1)
    recall = hits / np.maximum(confusion.sum(1), 1)
    total = precision + recall
    f1 = np.where(total > 0, 2 * precision * recall / np.maximum(total, 1e-12), 0.0)
    accuracy = float(hits.sum() / max(len(labels), 1))
    return ClassificationReport(accuracy, loss, tuple(precision.tolist()), tuple(recall.tolist()),
                                tuple(f1.tolist()), tuple(int(n) for n in confusion.sum(1)))


def evaluate_examples(model: SequenceClassifier, vocab: Vocab, examples: Sequence[Example],
                      batch_size: int = 64, device: str = "cpu") -> ClassificationReport:
    """Score a model on labelled examples (cut as the model's `max_len` and `truncate` say)."""
    _check_labels(examples, model.config.num_classes)
    split = encode_split(examples, vocab, model.config.max_len, model.config.truncate)
    batches = [_to(b, device) for b in eval_batches(split, batch_size, _fixed_len(model))]
    model.eval()
    labels, predicted, loss = _predict_batches(model, batches)
    return classification_report(labels, predicted, model.config.num_classes, loss)


def _check_labels(examples: Sequence[Example], num_classes: int) -> None:
    if any(not 0 <= e.label < num_classes for e in examples):
        raise SeqnlpError(f"the data has labels outside the model's {num_classes} classes")


def text_examples(texts: Sequence[str]) -> list[Example]:
    """Raw texts as unlabelled examples (label 0), tokenised as training texts are."""
    return [Example(tokenize(text), 0) for text in texts]


def example_probabilities(model: SequenceClassifier, vocab: Vocab, examples: Sequence[Example],
                          batch_size: int = 64, device: str = "cpu") -> np.ndarray:
    """Class probabilities (N, C) of tokenised examples, in input order.

    Texts are cut as the model's `max_len` and `truncate` say and batched by length.
    """
    from seqnlp.text import bucket_batches

    split = encode_split(examples, vocab, model.config.max_len, model.config.truncate)
    probs = np.zeros((len(examples), model.config.num_classes), dtype=np.float64)
    model.eval()
    for group in bucket_batches(split.lengths, batch_size, shuffle=False):
        batch = _to(make_batch(split, group, _fixed_len(model)), device)
        probs[group] = model.predict_proba(batch["ids"], batch["lengths"]).cpu().numpy()
    return probs


def ensemble_probabilities(members: Sequence[tuple[SequenceClassifier, Vocab]],
                           examples: Sequence[Example], batch_size: int = 64,
                           device: str = "cpu") -> np.ndarray:
    """The mean of the members' class probabilities (N, C); each reads with its own vocabulary.

    Raises:
        SeqnlpError: no members, or members with different numbers of classes.
    """
    if not members:
        raise SeqnlpError("an ensemble needs at least one model")
    classes = {model.config.num_classes for model, _ in members}
    if len(classes) > 1:
        raise SeqnlpError(f"the models disagree on the number of classes: {sorted(classes)}")
    total = sum(example_probabilities(model, vocab, examples, batch_size, device)
                for model, vocab in members)
    return total / len(members)


def report_from_probabilities(probs: np.ndarray, examples: Sequence[Example]) -> ClassificationReport:
    """Accuracy, per-class scores and mean negative log-likelihood of probabilities (N, C)."""
    _check_labels(examples, probs.shape[1])
    labels = np.array([e.label for e in examples], dtype=np.int64)
    picked = probs[np.arange(len(labels)), labels]
    loss = float(-np.mean(np.log(np.clip(picked, 1e-12, 1.0)))) if len(labels) else float("nan")
    return classification_report(labels, probs.argmax(1), probs.shape[1], loss)


def predict_texts(model: SequenceClassifier, vocab: Vocab, texts: Sequence[str],
                  batch_size: int = 64, device: str = "cpu") -> np.ndarray:
    """Class probabilities (N, C) of raw texts, in input order."""
    return example_probabilities(model, vocab, text_examples(texts), batch_size, device)


def _fixed_len(model: SequenceClassifier) -> int | None:
    return model.config.max_len if model.config.pooling == "flatten" else None


def _to(batch: dict, device: str) -> dict:
    return {key: value.to(device) for key, value in batch.items()}


# ---------------------------------------------------------------------- training

@dataclass(frozen=True)
class TrainedClassifier:
    """What `train_classifier` returns."""

    model: SequenceClassifier
    vocab: Vocab
    fit: FitResult
    dev: dict[str, float]
    seconds: float
    coverage: float | None
    train_tokens: int


def train_classifier(
    data: ClassificationData,
    model_options: dict[str, Any],
    trainer_config: TrainerConfig,
    *,
    max_vocab: int | None = 20_000,
    min_count: int = 1,
    batch_size: int = 64,
    vectors: WordVectors | None = None,
    resume: bool = False,
) -> TrainedClassifier:
    """Build the vocabulary and a `SequenceClassifier`, then train it with the Trainer.

    The Trainer keeps the model of best dev accuracy (`trainer_config.metric` should be
    "accuracy" with mode "max"; early stopping follows its `patience`).

    Args:
        data: the splits.
        model_options: `ClassifierConfig` fields other than `vocab_size` and `num_classes`
            (`max_len` also cuts the texts; with `vectors`, `embedding_dim` is theirs).
        trainer_config: optimisation, epochs, checkpoints, device, seed.
        max_vocab: the most vocabulary entries, the two specials included.
        min_count: drop training words seen fewer times.
        batch_size: examples per update.
        vectors: pretrained word vectors (`index_to_key`, `vectors`) for the embeddings.
        resume: continue from `trainer_config.checkpoint_dir` when it holds a checkpoint.
    """
    from seqnlp.models.classifier import ClassifierConfig, SequenceClassifier
    from seqnlp.training import Trainer, seed_everything

    start = time.perf_counter()
    vocab = build_vocab(data.train, max_vocab, min_count)
    options = dict(model_options)
    if vectors is not None:
        options["embedding_dim"] = int(np.asarray(vectors.vectors).shape[1])
    config = ClassifierConfig(vocab_size=len(vocab), num_classes=data.num_classes, **options)
    seed_everything(trainer_config.seed)
    model = SequenceClassifier(config)
    coverage = None
    if vectors is not None:
        matrix, coverage = pretrained_matrix(vocab, vectors, trainer_config.seed)
        model.load_embeddings(matrix)
    train = encode_split(data.train, vocab, config.max_len, config.truncate)
    dev = encode_split(data.dev, vocab, config.max_len, config.truncate)
    fixed = _fixed_len(model)
    trainer = Trainer(model, trainer_config)
    dev_batches = eval_batches(dev, batch_size, fixed) if len(dev) else None
    fit = trainer.fit(train_batches(train, batch_size, trainer_config.seed, fixed), dev_batches,
                      accuracy_and_loss, resume=resume)
    scores = trainer.evaluate(dev_batches, accuracy_and_loss) if dev_batches else {}
    model.eval()
    return TrainedClassifier(model, vocab, fit, scores, time.perf_counter() - start, coverage,
                             int(train.lengths.sum()))

