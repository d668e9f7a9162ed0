"""Sequence-to-class models: embeddings -> recurrent or time-delay encoder -> pooling -> linear.

The worked example of Elman-style sentiment classification (a SimpleRNN reading the first
500 words of an IMDB review and a sigmoid on its last state) is
`ClassifierConfig(encoder="rnn", embedding_dim=32, hidden_size=32, pooling="last")`; gated
encoders (Hochreiter & Schmidhuber 1997; Cho et al. 2014), bidirectional reading (Schuster &
Paliwal 1997), time-delay layers (Waibel et al. 1989) and attention pooling (Yang et al.
2016) are options of the same assembly.

Shape legend: B batch, T time, E embedding size, H hidden size, D directions, C classes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from seqnlp.models.artifact import IncompatibleModelError
from seqnlp.models.embeddings import copy_into_embedding
from seqnlp.models.registry import (
    MAX_LAYERS,
    MAX_VOCAB,
    MAX_WIDTH,
    LoadedModel,
    ModelKind,
    check_sizes,
    load_model,
    register_model,
    save_model,
)
from seqnlp.nn.pooling import POOLINGS, SequencePooling
from seqnlp.nn.rnn import build_sequence_encoder
from seqnlp.nn.tdnn import MultiWidthTDNN
from seqnlp.text.vocab import Vocab
from seqnlp.errors import one_of

ENCODERS = ("rnn", "lstm", "gru", "tdnn")
INITS = ("torch", "keras")
TRUNCATIONS = ("head", "tail")
ARTIFACT_KIND = "sequence-classifier"


@dataclass(frozen=True)
class ClassifierConfig:
    """Configuration of a `SequenceClassifier`.

    Two classes use one logit and a sigmoid (binary cross-entropy); more use a softmax.

    Attributes:
        vocab_size: V, rows of the embedding table.
        num_classes: C, at least 2.
        embedding_dim: E.
        encoder: "rnn" | "lstm" | "gru" | "tdnn".
        hidden_size: H, per direction (the TDNN's output width).
        num_layers: stacked encoder layers.
        bidirectional: read both ways (recurrent encoders only).
        nonlinearity: "tanh" | "relu", for "rnn".
        tdnn_context: the time offsets of every TDNN layer (when `widths` is empty).
        widths: the TDNN's window widths side by side, `hidden_size` filters each, as
            Kim's (2014) 3, 4 and 5 (a string "3,4,5" is read too); empty: one stack of
            `tdnn_context` windows. Stored empty for the recurrent encoders, which have
            no windows.
        pooling: "last" | "mean" | "max" | "attention" | "flatten".
        max_len: the longest input read (required by "flatten", which reads exactly that
            many steps); longer texts are cut as `truncate` says.
        truncate: "head" keeps a long text's first `max_len` tokens, "tail" its last ones
            (where a review usually gives its verdict).
        dropout: on the pooled vector, and between stacked layers.
        embedding_dropout: on the embedded inputs.
        freeze_embeddings: keep the embedding table fixed during training.
        padding_idx: the id of padding (its embedding row stays zero).
        init: "torch" (PyTorch's defaults: embeddings N(0, 1); recurrent weights and biases
            U(-1/sqrt(H), 1/sqrt(H)); linear layers Kaiming-uniform) or "keras" (Keras'
            defaults: embeddings U(-0.05, 0.05); input weights and linear layers
            Glorot-uniform, recurrent weights orthogonal, biases zero, LSTM forget-gate
            bias 1).
    """

    vocab_size: int
    num_classes: int = 2
    embedding_dim: int = 100
    encoder: str = "lstm"
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = False
    nonlinearity: str = "tanh"
    tdnn_context: tuple[int, ...] = (-2, -1, 0, 1, 2)
    widths: tuple[int, ...] = ()
    pooling: str = "last"
    max_len: int | None = None
    truncate: str = "head"
    dropout: float = 0.0
    embedding_dropout: float = 0.0
    freeze_embeddings: bool = False
    padding_idx: int = 0
    init: str = "torch"

    def __post_init__(self) -> None:
        object.__setattr__(self, "tdnn_context", tuple(int(o) for o in self.tdnn_context))
        widths = parse_widths(self.widths)
        object.__setattr__(self, "widths", widths if self.encoder == "tdnn" else ())
        if self.vocab_size < 2:
            raise ValueError(f"vocab_size must be at least 2, got {self.vocab_size}")
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {self.num_classes}")
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {one_of(ENCODERS)}, got {self.encoder!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {one_of(POOLINGS)}, got {self.pooling!r}")
        if self.nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {self.nonlinearity!r}")
        if self.encoder == "tdnn" and self.bidirectional:
            raise ValueError(
                "a TDNN sees both sides through its context; bidirectional must be False"
            )
        if self.pooling == "flatten" and not self.max_len:
            raise ValueError("pooling='flatten' needs max_len, the fixed input length")
        for name in ("dropout", "embedding_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {value}")
        for name in ("embedding_dim", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        check_sizes(self, vocab_size=MAX_VOCAB, num_classes=MAX_VOCAB, embedding_dim=MAX_WIDTH,
                    hidden_size=MAX_WIDTH, num_layers=MAX_LAYERS)
        if self.init not in INITS:
            raise ValueError(f"init must be one of {one_of(INITS)}, got {self.init!r}")
        if self.truncate not in TRUNCATIONS:
            raise ValueError(f"truncate must be one of {one_of(TRUNCATIONS)}, got {self.truncate!r}")
        if self.max_len is not None and self.max_len < 1:
            raise ValueError(f"max_len must be positive or None, got {self.max_len}")
        if not 0 <= self.padding_idx < self.vocab_size:
            raise ValueError(
                f"padding_idx must be in [0, {self.vocab_size}), got {self.padding_idx}"
            )

    @property
    def num_directions(self) -> int:
        """D: 2 for a bidirectional encoder, else 1."""
        return 2 if self.bidirectional else 1

    @property
    def encoder_size(self) -> int:
        """The width of each encoder state: D*H, or H per TDNN window width."""
        return self.hidden_size * self.num_directions * max(1, len(self.widths))


MAX_WINDOW = 64  # the widest TDNN window (words) and the most widths


def parse_widths(value: str | tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """TDNN window widths from "3,4,5" (the command line, TOML) or a sequence of ints.

    Raises:
        ValueError: a width that is not an integer in [1, 64], a repeated width, or more
            than 64 widths.
    """
    if isinstance(value, str):
        parts = [part.strip() for part in value.split(",")] if value.strip() else []
        if not all(part.isascii() and part.isdigit() for part in parts):
            raise ValueError(f"widths must be window widths such as 3,4,5, got {value!r}")
        value = [int(part) for part in parts]
    widths = tuple(value)
    if any(isinstance(w, bool) or not isinstance(w, int) or not 1 <= w <= MAX_WINDOW
           for w in widths):
        raise ValueError(f"widths must be integers in [1, {MAX_WINDOW}], got "
                         f"{','.join(map(str, widths))}")
    if len(set(widths)) != len(widths) or len(widths) > MAX_WINDOW:
        raise ValueError(f"widths must be distinct (at most {MAX_WINDOW}), got "
                         f"{','.join(map(str, widths))}")
    return widths


def build_encoder(config: ClassifierConfig) -> nn.Module:
    """The recurrent stack (or TDNN stack) named by the config: (B, T, E) -> (B, T, D*H),
    or (B, T, len(widths)*H) for a TDNN of several widths."""
    if config.widths:
        return MultiWidthTDNN(config.embedding_dim, config.hidden_size, config.widths,
                              config.num_layers,
                              dropout=config.dropout if config.num_layers > 1 else 0.0)
    return build_sequence_encoder(
        config.encoder, config.embedding_dim, config.hidden_size, config.num_layers,
        config.bidirectional, config.dropout if config.num_layers > 1 else 0.0,
        config.nonlinearity, config.tdnn_context,
    )


class SequenceClassifier(nn.Module):
    """Embeddings -> encoder -> pooling -> dropout -> linear.

    The embedding table is drawn from N(0, 1) (torch's default; the padding row is zero)
    unless `load_embeddings` copies pretrained vectors into it.

    Args:
        config: the architecture.

    Shape:
        forward(ids (B, T) int64, lengths (B,) int64, labels (B,) int64 or None)
        -> (logits, loss): logits (B,) when binary (one logit: log-odds of class 1),
        else (B, C); loss is the mean cross-entropy, or None without labels.
    """

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(
            config.vocab_size, config.embedding_dim, padding_idx=config.padding_idx
        )
        self.embedding.weight.requires_grad_(not config.freeze_embeddings)
        self.embedding_dropout = nn.Dropout(config.embedding_dropout)
        self.encoder = build_encoder(config)
        self.pooling = SequencePooling(config.pooling, config.encoder_size,
                                       config.num_directions, config.max_len)
        self.dropout = nn.Dropout(config.dropout)
        self.binary = config.num_classes == 2
        self.output = nn.Linear(self.pooling.out_features, 1 if self.binary else config.num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise as `config.init` says (see `ClassifierConfig`); the padding row is zero."""
        if self.config.init == "torch":
            nn.init.normal_(self.embedding.weight)
        else:
            nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
            _keras_init(self)
        with torch.no_grad():
            self.embedding.weight[self.config.padding_idx].zero_()

    def load_embeddings(self, matrix: np.ndarray | Tensor, freeze: bool | None = None) -> None:
        """Copy pretrained vectors (V, E), rows aligned with the vocabulary, into the table.

        Args:
            matrix: (V, E) array.
            freeze: keep the table fixed in training; None uses `config.freeze_embeddings`.
        """
        copy_into_embedding(self.embedding, matrix)
        frozen = self.config.freeze_embeddings if freeze is None else freeze
        self.embedding.weight.requires_grad_(not frozen)

    def encode(self, ids: Tensor, lengths: Tensor) -> Tensor:
        """The pooled representation (B, W) of each sequence."""
        embedded = self.embedding_dropout(self.embedding(ids))  # (B, T, E)
        states = self.encoder(embedded, lengths)  # (B, T, D*H)
        return self.pooling(states, lengths)  # (B, W)

    def forward(
        self, ids: Tensor, lengths: Tensor, labels: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Logits and, given labels, the mean cross-entropy; see the class docstring."""
        logits = self.output(self.dropout(self.encode(ids, lengths)))  # (B, 1) or (B, C)
        if self.binary:
            logits = logits.squeeze(-1)  # (B,)
        if labels is None:
            return logits, None
        if self.binary:
            loss = F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
        else:
            loss = F.cross_entropy(logits, labels)
        return logits, loss

    @torch.no_grad()
    def predict_proba(self, ids: Tensor, lengths: Tensor) -> Tensor:
        """Class probabilities (B, C), also for the binary (sigmoid) case.

        Dropout is active in training mode: call `eval()` first.
        """
        logits, _ = self.forward(ids, lengths)
        return probabilities(logits, self.binary)


def _keras_init(model: SequenceClassifier) -> None:
    """Keras' default initialisers on the encoder, attention and output layers."""
    for name, weight in model.named_parameters():
        if name.startswith("embedding"):
            continue
        if "bias" in name:
            nn.init.zeros_(weight)
        elif "weight_hh" in name:
            nn.init.orthogonal_(weight)  # (G*H, H): orthonormal columns, as Keras' (H, G*H)
        elif weight.dim() >= 2:
            nn.init.xavier_uniform_(weight)
    if model.config.encoder == "lstm":
        hidden = model.config.hidden_size
        for name, weight in model.encoder.named_parameters():
            if "bias_ih" in name:
                with torch.no_grad():
                    weight[hidden:2 * hidden] = 1.0  # gates i, f, g, o: the forget gate


def probabilities(logits: Tensor, binary: bool) -> Tensor:
    """(B, C) class probabilities from the logits of `SequenceClassifier.forward`."""
    if binary:
        positive = torch.sigmoid(logits)  # (B,)
        return torch.stack([1 - positive, positive], dim=1)  # (B, 2)
    return torch.softmax(logits, dim=1)


@dataclass
class LoadedClassifier(LoadedModel):
    """A classifier read back by `load_model`, ready for prediction (eval mode).

    Attributes:
        label_names: one name per class, index = label id.
    """

    label_names: tuple[str, ...] = ()
    extra_fields: ClassVar[tuple[str, ...]] = ("label_names",)

    def __post_init__(self) -> None:
        if not isinstance(self.label_names, (list, tuple)):
            raise ValueError("label_names is missing")
        self.label_names = tuple(str(n) for n in self.label_names)

    def check(self) -> None:
        """The vocabulary and the label names fit the model."""
        super().check()
        if len(self.label_names) != self.config.num_classes:
            raise IncompatibleModelError(
                f"{self.path}: {len(self.label_names)} label names for a model of "
                f"{self.config.num_classes} classes")


def save_classifier(
    path: str | os.PathLike[str],
    model: SequenceClassifier,
    vocab: Vocab,
    label_names: tuple[str, ...] | list[str],
    extra: dict[str, Any] | None = None,
) -> None:
    """Write config, vocabulary, label names and weights to one file (atomic).

    Args:
        path: the model file.
        model: the trained classifier.
        vocab: the vocabulary its ids come from.
        label_names: one name per class, index = label id.
        extra: other JSON-able facts to keep (tokenizer, metrics, training configuration).
    """
    if len(label_names) != model.config.num_classes:
        raise ValueError(
            f"{len(label_names)} label names for a model of {model.config.num_classes} classes"
        )
    if len(vocab) != model.config.vocab_size:
        raise ValueError(
            f"vocabulary of {len(vocab)} tokens for vocab_size {model.config.vocab_size}"
        )
    payload = {**(extra or {}), "label_names": list(label_names)}
    save_model(path, ARTIFACT_KIND, model, {"tokens": vocab}, payload)


def load_classifier(path: str | os.PathLike[str]) -> LoadedClassifier:
    """Rebuild a classifier saved by `save_classifier` (`load_model` for this kind).

    Raises:
        ArtifactError: the file is missing, damaged, of another kind, or its contents do
            not fit together.
    """
    return load_model(path, expect=ARTIFACT_KIND)  # type: ignore[return-value]


register_model(ModelKind(ARTIFACT_KIND, ClassifierConfig, SequenceClassifier, "classify",
                         "sequence classifier", LoadedClassifier))
