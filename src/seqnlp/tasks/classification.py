"""Sequence classification on the shared pipeline: labelled texts -> Vocab -> length-bucketed
padded batches -> `SequenceClassifier` -> Trainer; evaluation, probabilities, ensembles.

The data (IMDB, SST-2, SST-5, a `label<TAB>text` file) is read by
`seqnlp.tasks.classification_data`; the model is `seqnlp.models.classifier`; training is
`seqnlp.tasks.pipeline.train_task` with a `ClassificationTask`. Pretrained vectors come in
as any object with `index_to_key` and `vectors` (a `KeyedVectors`), never a path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from seqnlp.errors import SeqnlpError, one_of
from seqnlp.models.embeddings import WordVectors
from seqnlp.tasks.classification_data import (  # re-exported: the task's data API
    BINARY,
    DATA_NAMES,
    SPLITS,
    SST_FINE,
    ClassificationData,
    Example,
    check_training_data,
    check_vectors,
    dev_cut,
    label_names,
    load_classification_data,
    load_examples,
    read_labeled_file,
    read_sst,
    read_tsv,
    split_dev,
    tokenize,
    training_label_names,
)
from seqnlp.tasks.pipeline import Track, Trained, train_task, untracked
from seqnlp.training.metrics import ClassificationReport, classification_report

if TYPE_CHECKING:
    import torch

    from seqnlp.models.classifier import SequenceClassifier
    from seqnlp.text import Vocab
    from seqnlp.training import TrainerConfig

__all__ = [
    "BINARY", "DATA_NAMES", "SPECIALS", "SPLITS", "SST_FINE", "ClassificationData",
    "ClassificationReport", "ClassificationTask", "EncodedSplit", "Example",
    "TrainedClassifier", "accuracy_and_loss", "build_vocab", "check_training_data",
    "check_vectors", "classification_report", "dev_cut",
    "encode_split", "ensemble_probabilities", "eval_batches", "evaluate_examples",
    "example_probabilities", "label_names", "load_classification_data", "load_examples",
    "make_batch", "predict_texts", "pretrained_matrix", "read_labeled_file", "read_sst", "read_tsv",
    "report_from_probabilities", "split_dev", "text_examples", "tokenize", "train_batches",
    "train_classifier", "training_label_names",
]

SPECIALS = ("<pad>", "<unk>")
KIND = "sequence-classifier"
TOKENIZER = "english_tokenize(lower=True)"


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


def pretrained_matrix(vocab: Vocab, vectors: WordVectors, seed: int = 0
                      ) -> tuple[np.ndarray, float]:
    """The classifier's embedding table (V, E) from pretrained vectors, and its coverage
    (the share of non-special words found); see `seqnlp.models.embeddings`.

    Raises:
        SeqnlpError: a vector holds NaN or infinite values (see `check_vectors`).
    """
    from seqnlp.models.embeddings import pretrained_matrix as matrix_of

    check_vectors(vectors)
    matrix, coverage = matrix_of(vocab.itos, vectors, SPECIALS, vocab.pad_index, seed)
    return matrix, coverage.rate


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
        raise ValueError(f"truncate must be one of {one_of(TRUNCATIONS)}, got {truncate!r}")
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

    from seqnlp.text.batching import padded_batch

    ids, lengths = padded_batch(split.ids, indices, pad_value=0, min_len=fixed_len)
    return {"ids": torch.from_numpy(ids), "lengths": torch.from_numpy(lengths),
            "labels": torch.from_numpy(split.labels[indices])}


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


# ---------------------------------------------------------------------- the task

class ClassificationTask:
    """Sequence classification for `train_task`: vocabulary from train, `ClassifierConfig`
    from the options, length-bucketed batches, dev accuracy.

    Args:
        data: the splits.
        batch_size: examples per update.
        max_vocab: the most vocabulary entries, the two specials included.
        min_count: drop training words seen fewer times.
        vectors: pretrained word vectors for the embeddings (their size wins).

    Raises:
        DatasetError: splits that cannot train a classifier (see `check_training_data`).
    """

    kind = KIND
    metric = "accuracy"
    mode = "max"

    def __init__(self, data: ClassificationData, batch_size: int = 64,
                 max_vocab: int | None = 20_000, min_count: int = 1,
                 vectors: WordVectors | None = None) -> None:
        check_training_data(data)
        self.data = data
        self.batch_size = batch_size
        self.max_vocab = max_vocab
        self.min_count = min_count
        self.vectors = vectors
        self._cache: dict[tuple[int, int, Any, str], EncodedSplit] = {}

    def build_vocabs(self) -> dict[str, Vocab]:
        return {"tokens": build_vocab(self.data.train, self.max_vocab, self.min_count)}

    def model_config(self, options: Mapping[str, Any], vocabs: dict[str, Vocab]) -> Any:
        from seqnlp.models.classifier import ClassifierConfig

        options = dict(options)
        if self.vectors is not None:
            options["embedding_dim"] = int(np.asarray(self.vectors.vectors).shape[1])
        return ClassifierConfig(vocab_size=len(vocabs["tokens"]),
                                num_classes=self.data.num_classes, **options)

    def init_model(self, model: SequenceClassifier, vocabs: dict[str, Vocab],
                   seed: int) -> dict[str, Any]:
        train = self._encoded(self.data.train, vocabs, model.config)
        info: dict[str, Any] = {"train_tokens": int(train.lengths.sum())}
        if self.vectors is not None:
            matrix, info["coverage"] = pretrained_matrix(vocabs["tokens"], self.vectors, seed)
            model.load_embeddings(matrix)
        return info

    def train_batches(self, vocabs: dict[str, Vocab], config: Any, seed: int) -> Callable:
        split = self._encoded(self.data.train, vocabs, config)
        return train_batches(split, self.batch_size, seed, _fixed_len(config))

    def dev_batches(self, vocabs: dict[str, Vocab], config: Any) -> list[dict] | None:
        if not self.data.dev:
            return None
        split = self._encoded(self.data.dev, vocabs, config)
        return eval_batches(split, self.batch_size, _fixed_len(config))

    def evaluate(self, model: Any, batches: Any) -> dict[str, float]:
        return accuracy_and_loss(model, batches)

    def predict(self, loaded: Any, texts: Sequence[str]) -> np.ndarray:
        return predict_texts(loaded.model, loaded.vocab, texts, self.batch_size)

    def extra(self) -> dict[str, Any]:
        return {"data": self.data.name, "tokenizer": TOKENIZER,
                "label_names": list(self.data.label_names)}

    def _encoded(self, examples: Sequence[Example], vocabs: dict[str, Vocab],
                 config: Any) -> EncodedSplit:
        """Each split is encoded once per vocabulary and cut (train is read twice)."""
        vocab = vocabs["tokens"]
        key = (id(examples), id(vocab), config.max_len, config.truncate)
        if key not in self._cache:
            self._cache[key] = encode_split(examples, vocab, config.max_len, config.truncate)
        return self._cache[key]


# ---------------------------------------------------------------------- scores

def accuracy_and_loss(model: torch.nn.Module, batches: Sequence[dict]) -> dict[str, float]:
    """The Trainer's evaluation: `{"accuracy", "loss"}` over `batches`, example-weighted."""
    from seqnlp.training.metrics import accuracy

    labels, predicted, loss = _predict_batches(model, batches)
    return {"accuracy": accuracy(labels, predicted), "loss": loss}


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


def evaluate_examples(model: SequenceClassifier, vocab: Vocab, examples: Sequence[Example],
                      batch_size: int = 64, device: str = "cpu") -> ClassificationReport:
    """Score a model on labelled examples (cut as the model's `max_len` and `truncate` say)."""
    _check_labels(examples, model.config.num_classes)
    split = encode_split(examples, vocab, model.config.max_len, model.config.truncate)
    batches = [_to(b, device) for b in eval_batches(split, batch_size, _fixed_len(model.config))]
    model.eval()
    labels, predicted, loss = _predict_batches(model, batches)
    return classification_report(labels, predicted, model.config.num_classes, loss)


def _check_labels(examples: Sequence[Example], num_classes: int) -> None:
    outside = sorted({e.label for e in examples if not 0 <= e.label < num_classes})
    if outside:
        raise SeqnlpError(
            f"the data has labels outside the model's {num_classes} classes "
            f"0..{num_classes - 1}: {', '.join(map(str, outside[:6]))}"
            f"{', ...' if len(outside) > 6 else ''}; score it with a model trained on "
            "these labels"
        )


def text_examples(texts: Sequence[str]) -> list[Example]:
    """Raw texts as unlabelled examples (label 0), tokenised as training texts are."""
    return [Example(tokenize(text), 0) for text in texts]


def example_probabilities(model: SequenceClassifier, vocab: Vocab, examples: Sequence[Example],
                          batch_size: int = 64, device: str = "cpu", track: Track = untracked,
                          desc: str = "scoring") -> np.ndarray:
    """Class probabilities (N, C) of tokenised examples, in input order.

    Texts are cut as the model's `max_len` and `truncate` say, sorted by length into
    batches (little padding, as in training) and scored without autograd; each batch's rows
    go back to their examples' places. `track` shows the batches as `desc`.
    """
    import torch

    from seqnlp.text import bucket_batches

    split = encode_split(examples, vocab, model.config.max_len, model.config.truncate)
    probs = np.zeros((len(examples), model.config.num_classes), dtype=np.float64)
    groups = bucket_batches(split.lengths, batch_size, shuffle=False)
    model.eval()
    with torch.inference_mode():
        for group in track(groups, desc, len(groups), "batch"):
            batch = _to(make_batch(split, group, _fixed_len(model.config)), device)
            probs[group] = model.predict_proba(batch["ids"], batch["lengths"]).cpu().numpy()
    return probs


def ensemble_probabilities(members: Sequence[tuple[SequenceClassifier, Vocab]],
                           examples: Sequence[Example], batch_size: int = 64,
                           device: str = "cpu", track: Track = untracked,
                           names: Sequence[str] = ()) -> np.ndarray:
    """The mean of the members' class probabilities (N, C); each reads with its own vocabulary.

    Args:
        track: shows each member's batches, as "scoring NAME" (`names`: one per member).

    Raises:
        SeqnlpError: no members, or members with different numbers of classes.
    """
    if not members:
        raise SeqnlpError("an ensemble needs at least one model")
    classes = {model.config.num_classes for model, _ in members}
    if len(classes) > 1:
        raise SeqnlpError(f"the models disagree on the number of classes: {sorted(classes)}")
    names = list(names) or [f"model {i + 1}" for i in range(len(members))]
    total = sum(example_probabilities(model, vocab, examples, batch_size, device, track,
                                      f"scoring {name}")
                for (model, vocab), name in zip(members, names))
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


def _fixed_len(config: Any) -> int | None:
    return config.max_len if config.pooling == "flatten" else None


def _to(batch: dict, device: str) -> dict:
    return {key: value.to(device) for key, value in batch.items()}


# ---------------------------------------------------------------------- training

class TrainedClassifier(Trained):
    """`train_task`'s result for a classifier, with its coverage and token count."""

    @property
    def coverage(self) -> float | None:
        """The share of vocabulary words that pretrained vectors covered (None: none given)."""
        return self.info.get("coverage")

    @property
    def train_tokens(self) -> int:
        """Tokens read per epoch (after cutting to max_len)."""
        return int(self.info.get("train_tokens", 0))


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
    on_start: Callable[..., None] | None = None,
    on_step: Callable[..., None] | None = None,
) -> TrainedClassifier:
    """Train a `SequenceClassifier` on `data` through `train_task` (best dev accuracy kept).

    Args:
        data: the splits.
        model_options: `ClassifierConfig` fields other than `vocab_size` and `num_classes`
            (`max_len` also cuts the texts; with `vectors`, `embedding_dim` is theirs).
        trainer_config: optimisation, epochs, checkpoints, device, seed.
        max_vocab, min_count, batch_size, vectors: see `ClassificationTask`.
        resume: continue from `trainer_config.checkpoint_dir` when it holds a checkpoint.
        on_start, on_step: see `train_task`.
    """
    task = ClassificationTask(data, batch_size, max_vocab, min_count, vectors)
    trained = train_task(task, model_options, trainer_config, resume=resume, on_start=on_start,
                         on_step=on_step)
    return TrainedClassifier(**vars(trained))
