"""A sequence tagger: one output tag per input position (Chinese word segmentation with
BMES tags over characters, named entities with BIO/IOB1/BIOES tags over words).

    token ids (B, T) -> embeddings (E)
        [+ left and right character-bigram embeddings (2 x Eb), for Chinese]
        [+ character CNN features of each word (F), for English]
    -> encoder: BiLSTM / BiGRU (the shared `RecurrentEncoder`), or a dilated CNN ("idcnn",
       Strubell et al. 2017: layers reading offsets +-1, +-2, +-4, ...) for speed
    -> emission scores (B, T, K)
    -> a linear-chain CRF (Huang et al. 2015; Lample et al. 2016), decoding under the tag
       scheme's constraints, or a softmax per position ("softmax", the baseline).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqnlp.errors import one_of
from seqnlp.models.embeddings import copy_into_embedding
from seqnlp.models.registry import (
    MAX_LAYERS,
    MAX_VOCAB,
    MAX_WIDTH,
    LoadedModel,
    ModelKind,
    check_sizes,
    register_model,
)
from seqnlp.nn.crf import LinearChainCRF
from seqnlp.nn.rnn import build_sequence_encoder, sequence_mask
from seqnlp.text.tagging import SCHEMES
from seqnlp.text.transitions import allowed_transitions

ARTIFACT_KIND = "tagger"
ENCODERS = ("lstm", "gru", "rnn", "idcnn")
UNK_ID = 1  # <unk> in the tagging vocabularies (tasks.tagging.SPECIALS: <pad>, <unk>)
OUTPUTS = ("crf", "softmax")


@dataclass(frozen=True)
class TaggerConfig:
    """Configuration of a `Tagger`.

    Attributes:
        vocab_size: rows of the token embedding (id 0 is padding).
        tags: the tag of each output index, e.g. ("B", "M", "E", "S").
        scheme: the tag scheme ("bmes", "bio", "iob1", "bioes"): its transition
            constraints apply when decoding with a CRF.
        embedding_dim: E.
        bigram_vocab_size, bigram_dim: character-bigram embeddings (0: none); each
            position reads the bigram ending at it and the one starting at it.
        char_vocab_size, char_dim, char_filters, char_width: a CNN over each word's
            characters, max-pooled to `char_filters` features (0 filters: none).
        encoder: "lstm" | "gru" | "rnn" | "idcnn".
        hidden_size: per direction (recurrent) or channels (idcnn).
        num_layers: recurrent layers, or dilated blocks of the idcnn (offsets +-1, +-2, +-4
            in each block).
        bidirectional: recurrent encoders read both ways (a tagger nearly always should).
        dropout: on the embedded inputs' concatenation and on the encoder's output, and
            between stacked layers.
        word_dropout: in training, each token id (and each bigram id) reads as <unk> with
            this probability, so that the <unk> vector learns to stand for words never seen
            and the encoder learns to read a word from its context (Lample et al. 2016).
        output_layer: "crf" or "softmax".
        constrained: decode the CRF under the scheme's allowed transitions.
    """

    vocab_size: int
    tags: tuple[str, ...]
    scheme: str = "bmes"
    embedding_dim: int = 100
    bigram_vocab_size: int = 0
    bigram_dim: int = 0
    char_vocab_size: int = 0
    char_dim: int = 30
    char_filters: int = 0
    char_width: int = 3
    encoder: str = "lstm"
    hidden_size: int = 100
    num_layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.2
    word_dropout: float = 0.0
    output_layer: str = "crf"
    constrained: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", tuple(str(t) for t in self.tags))
        check_sizes(self, vocab_size=MAX_VOCAB, bigram_vocab_size=MAX_VOCAB,
                    char_vocab_size=MAX_VOCAB, embedding_dim=MAX_WIDTH, bigram_dim=MAX_WIDTH,
                    char_dim=MAX_WIDTH, char_filters=MAX_WIDTH, char_width=MAX_WIDTH,
                    hidden_size=MAX_WIDTH, num_layers=MAX_LAYERS)
        if self.vocab_size < 2:
            raise ValueError(f"vocab_size must be at least 2, got {self.vocab_size}")
        if len(self.tags) < 2 or len(set(self.tags)) != len(self.tags):
            raise ValueError(f"tags must be at least two distinct tags, got {self.tags}")
        if self.scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {one_of(SCHEMES)}, got {self.scheme!r}")
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {one_of(ENCODERS)}, got {self.encoder!r}")
        if self.output_layer not in OUTPUTS:
            raise ValueError(f"output_layer must be one of {one_of(OUTPUTS)}, got {self.output_layer!r}")
        if self.encoder == "idcnn" and self.bidirectional:
            object.__setattr__(self, "bidirectional", False)  # it sees both sides already
        for name in ("embedding_dim", "hidden_size", "num_layers", "char_dim", "char_width"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("bigram_vocab_size", "bigram_dim", "char_vocab_size", "char_filters"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if bool(self.bigram_dim) != bool(self.bigram_vocab_size):
            raise ValueError("bigram_dim and bigram_vocab_size go together (both 0 or both > 0)")
        if bool(self.char_filters) != bool(self.char_vocab_size):
            raise ValueError("char_filters and char_vocab_size go together")
        for name in ("dropout", "word_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")

    @property
    def input_size(self) -> int:
        """The width of what the encoder reads at each position."""
        return self.embedding_dim + 2 * self.bigram_dim + self.char_filters

    @property
    def encoded_size(self) -> int:
        return self.hidden_size * (2 if self.bidirectional else 1)


class CharCNN(nn.Module):
    """Features of a word from its characters: embed, convolve, max-pool (Ma & Hovy 2016).

    Shape: forward(chars (B, T, L) ids, 0 = padding) -> (B, T, filters)
    """

    def __init__(self, vocab_size: int, dim: int, filters: int, width: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.conv = nn.Conv1d(dim, filters, width, padding=width // 2)

    def forward(self, chars: Tensor) -> Tensor:
        batch, length, letters = chars.shape
        flat = chars.reshape(batch * length, letters)
        features = self.conv(self.embedding(flat).transpose(1, 2))  # (B*T, F, L')
        pad = (flat == 0)[:, : features.size(2)].unsqueeze(1)
        features = features.masked_fill(pad, float("-inf")).amax(dim=2)
        features = torch.where(torch.isinf(features), torch.zeros_like(features), features)
        return features.reshape(batch, length, -1)


def idcnn_contexts(blocks: int) -> tuple[tuple[int, ...], ...]:
    """The offsets of an iterated dilated CNN: blocks of (+-1, +-2, +-4) windows."""
    return tuple((-d, 0, d) for _ in range(blocks) for d in (1, 2, 4))


class Tagger(nn.Module):
    """Embeddings -> encoder -> emissions -> CRF or softmax; see the module docstring.

    `forward(tokens, lengths, tags=None, bigrams=None, chars=None)` returns `(emissions
    (B, T, K), loss)`: the CRF's negative log-likelihood per sentence, averaged, or the
    mean cross-entropy over real positions; loss is None without tags.
    """

    def __init__(self, config: TaggerConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=0)
        self.bigram_embedding = (nn.Embedding(config.bigram_vocab_size, config.bigram_dim,
                                              padding_idx=0) if config.bigram_dim else None)
        self.char_features = (CharCNN(config.char_vocab_size, config.char_dim,
                                      config.char_filters, config.char_width)
                              if config.char_filters else None)
        self.dropout = nn.Dropout(config.dropout)
        if config.encoder == "idcnn":
            from seqnlp.nn.tdnn import TDNNStack

            self.encoder: nn.Module = TDNNStack(
                config.input_size, config.hidden_size,
                contexts=idcnn_contexts(config.num_layers), activation="relu",
                dropout=config.dropout)
        else:
            self.encoder = build_sequence_encoder(
                config.encoder, config.input_size, config.hidden_size, config.num_layers,
                config.bidirectional, config.dropout)
        self.emissions = nn.Linear(config.encoded_size, len(config.tags))
        self.crf = LinearChainCRF(len(config.tags), *self._constraints()) \
            if config.output_layer == "crf" else None

    def _constraints(self) -> tuple[Any, Any, Any]:
        if not self.config.constrained:
            return None, None, None
        rules = allowed_transitions(self.config.tags, self.config.scheme)
        return rules.allowed, rules.start, rules.end

    def load_embeddings(self, matrix: np.ndarray) -> None:
        """Copy pretrained vectors (V, E) into the token embedding."""
        copy_into_embedding(self.embedding, matrix)

    def load_bigram_embeddings(self, matrix: np.ndarray) -> None:
        """Copy pretrained vectors (Vb, Eb) into the character-bigram embedding."""
        if self.bigram_embedding is None:
            raise ValueError("this tagger reads no character bigrams")
        copy_into_embedding(self.bigram_embedding, matrix)

    def features(self, tokens: Tensor, lengths: Tensor, bigrams: Tensor | None = None,
                 chars: Tensor | None = None) -> Tensor:
        """Emission scores (B, T, K)."""
        tokens = self._drop_words(tokens)
        parts = [self.embedding(tokens)]
        if self.bigram_embedding is not None:
            if bigrams is None:
                raise ValueError("this tagger reads character bigrams: pass bigrams (B, T, 2)")
            bigrams = self._drop_words(bigrams)
            parts.append(self.bigram_embedding(bigrams).flatten(2))
        if self.char_features is not None:
            if chars is None:
                raise ValueError("this tagger reads word characters: pass chars (B, T, L)")
            parts.append(self.char_features(chars))
        inputs = self.dropout(torch.cat(parts, dim=2) if len(parts) > 1 else parts[0])
        states = self.encoder(inputs, lengths)
        return self.emissions(self.dropout(states))

    def _drop_words(self, ids: Tensor) -> Tensor:
        """`ids` with each real id (not padding, not <unk>) turned to <unk> with probability
        `word_dropout`, in training only."""
        if not self.training or not self.config.word_dropout:
            return ids
        drop = torch.rand(ids.shape, device=ids.device) < self.config.word_dropout
        return ids.masked_fill(drop & (ids > UNK_ID), UNK_ID)

    def forward(self, tokens: Tensor, lengths: Tensor, tags: Tensor | None = None,
                bigrams: Tensor | None = None, chars: Tensor | None = None
                ) -> tuple[Tensor, Tensor | None]:
        emissions = self.features(tokens, lengths, bigrams, chars)
        if tags is None:
            return emissions, None
        mask = sequence_mask(lengths, tokens.size(1))
        if self.crf is not None:
            return emissions, self.crf(emissions, tags, mask, reduction="mean")
        return emissions, F.cross_entropy(emissions[mask], tags[mask])

    @torch.no_grad()
    def decode(self, emissions: Tensor, lengths: Tensor) -> Tensor:
        """The best tags (B, T) (0 at padding): Viterbi with a CRF, argmax without."""
        mask = sequence_mask(lengths, emissions.size(1))
        if self.crf is not None:
            return self.crf.decode(emissions, mask)[0]
        return emissions.argmax(2).masked_fill(~mask, 0)


@dataclass
class LoadedTagger(LoadedModel):
    """A tagger read back by `load_model`.

    Attributes:
        task: "cws" (words from BMES tags over characters) or "ner" (spans over tokens).
        normalize: how text was normalised before tagging ("nfkc" for Chinese, "" none).
        lowercase_unknown: a token the vocabulary lacks is looked up lower-cased (models
            whose vocabulary holds the words of lower-cased pretrained vectors).
    """

    task: str = "cws"
    normalize: str = ""
    lowercase_unknown: bool = False
    extra_fields: ClassVar[tuple[str, ...]] = ("task", "normalize", "lowercase_unknown")

    def __post_init__(self) -> None:
        if self.task not in ("cws", "ner"):
            raise ValueError(f"unknown tagging task {self.task!r}")
        self.normalize = self.normalize or ""
        self.lowercase_unknown = bool(self.lowercase_unknown)


def describe(config: TaggerConfig) -> dict[str, Any]:
    """A short summary of the architecture, for logs and benchmark tables."""
    return {"encoder": config.encoder, "hidden": config.hidden_size, "layers": config.num_layers,
            "emb": config.embedding_dim, "bigram": config.bigram_dim,
            "char_filters": config.char_filters, "output": config.output_layer}


register_model(ModelKind(ARTIFACT_KIND, TaggerConfig, Tagger, "tagger", "sequence tagger",
                         LoadedTagger))
