"""An image captioner: the seq2seq attention decoder started from, and attending over, an
image encoder's feature columns (Vinyals et al., 2015; Xu et al., 2015).

    image (B, Hi, Wi) -> `ImageColumnEncoder` -> columns (B, W, C)
    -> + a learnt embedding of each column's position
    -> bidirectional GRU over the columns (the shared `RecurrentEncoder`, giving each column
       its place in the row) -> memory (B, W, K)
    -> `seqnlp.models.seq2seq.AttentionDecoder` (the translation decoder, unchanged)
    -> words

Shape legend: B batch, Hi/Wi image height/width, W columns, C channels, K memory size.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from seqnlp.models.registry import (
    MAX_VOCAB,
    MAX_WIDTH,
    LoadedModel,
    ModelKind,
    check_sizes,
    register_model,
)
from seqnlp.models.seq2seq import DEFAULT_SCORE, AttentionDecoder
from seqnlp.nn.attention import SCORES
from seqnlp.nn.image_encoder import ImageColumnEncoder
from seqnlp.nn.linear_cross_entropy import LogitBuffer
from seqnlp.nn.rnn import RecurrentEncoder, sequence_mask

ARTIFACT_KIND = "captioner"


@dataclass(frozen=True)
class CaptionerConfig:
    """Configuration of a `Captioner`.

    Attributes:
        vocab_size: V, with ids 0-3 `<pad> <unk> <bos> <eos>`.
        channels: C, the image encoder's column width.
        hidden_size: H, the column GRU's per direction (memory K = 2H) and the decoder's.
        embedding_dim: E, the word embedding.
        cell: the decoder's cell, "gru" | "lstm".
        attention: "luong" | "bahdanau" | "none".
        score: the attention score (default: scaled_general for luong, additive for
            bahdanau).
        dropout: on columns, memory, word embeddings and decoder outputs.
        label_smoothing: spread this much target probability over the vocabulary.
        max_columns: the most feature columns (image width / 2) read; each column index
            has a learnt position embedding added to its features.
    """

    vocab_size: int
    channels: int = 128
    hidden_size: int = 128
    embedding_dim: int = 32
    cell: str = "gru"
    attention: str = "luong"
    score: str = ""
    dropout: float = 0.1
    label_smoothing: float = 0.0
    max_columns: int = 64

    def __post_init__(self) -> None:
        check_sizes(self, vocab_size=MAX_VOCAB, channels=MAX_WIDTH, hidden_size=MAX_WIDTH,
                    embedding_dim=MAX_WIDTH, max_columns=MAX_WIDTH)
        if self.vocab_size < 5:
            raise ValueError(f"vocab_size must be at least 5 (4 specials), got {self.vocab_size}")
        for name in ("channels", "hidden_size", "embedding_dim", "max_columns"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.channels % 2:
            raise ValueError(f"channels must be even, got {self.channels}")
        if self.cell not in ("gru", "lstm"):
            raise ValueError(f"cell must be gru or lstm, got {self.cell!r}")
        if self.attention not in DEFAULT_SCORE:
            raise ValueError(f"attention must be one of {', '.join(DEFAULT_SCORE)}, got "
                             f"{self.attention!r}")
        object.__setattr__(self, "score", self.score or DEFAULT_SCORE[self.attention])
        if self.attention != "none" and self.score not in SCORES:
            raise ValueError(f"score must be one of {', '.join(SCORES)}, got {self.score!r}")
        if self.score in ("dot", "scaled_dot"):
            raise ValueError(f"{self.score} attention needs equal query and memory sizes; "
                             "the captioner's memory is 2 x hidden_size: use scaled_general")
        for name in ("dropout", "label_smoothing"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")


class Captioner(nn.Module):
    """Image encoder, column GRU and the shared attention decoder; see the module docstring.

    `forward(images, widths, target)` takes target ids with `<bos>` first and `<eos>` last
    (padded with 0) and returns `(h~ (B, T-1, H), loss)`.
    """

    def __init__(self, config: CaptionerConfig) -> None:
        super().__init__()
        self.config = config
        self.image_encoder = ImageColumnEncoder(config.channels, dropout=config.dropout)
        self.position = nn.Embedding(config.max_columns, config.channels)
        self.columns = RecurrentEncoder("gru", config.channels, config.hidden_size,
                                        bidirectional=True)
        memory = 2 * config.hidden_size
        self.decoder = AttentionDecoder(config.vocab_size, config.embedding_dim,
                                        config.hidden_size, memory, config.cell,
                                        config.attention, config.score or "scaled_general",
                                        True, config.dropout)
        self._buffer = LogitBuffer()

    def encode(self, images: Tensor, widths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The memory (B, W, K), its mask (B, W) and its summary (B, K), the masked mean."""
        columns, lengths = self.image_encoder(images, widths)
        if columns.size(1) > self.config.max_columns:
            raise ValueError(f"images of {columns.size(1)} columns ({2 * columns.size(1)} "
                             f"pixels); this captioner reads at most {self.config.max_columns}")
        steps = torch.arange(columns.size(1), device=columns.device)
        columns = columns + self.position(steps)  # (B, W, C): where each column is
        memory = self.columns(columns, lengths)  # (B, W, K)
        mask = sequence_mask(lengths, memory.size(1))
        memory = memory.masked_fill(~mask.unsqueeze(-1), 0.0)
        summary = memory.sum(1) / lengths.unsqueeze(1).to(memory.dtype)  # (B, K)
        return memory, mask, summary

    def start(self, images: Tensor, widths: Tensor) -> dict[str, Tensor]:
        """The decoder's initial state for `step`."""
        return self.decoder.start(*self.encode(images, widths))

    def step(self, state: dict[str, Tensor], tokens: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """`step(state, tokens (B,)) -> (log_probs (B, V), state)` for `seqnlp.decoding`."""
        return self.decoder.step(state, tokens)

    def teacher_forced(self, images: Tensor, widths: Tensor, inputs: Tensor
                       ) -> tuple[Tensor, Tensor | None]:
        """h~ (B, T, H) and the attention over columns (B, T, W) for inputs (B, T)."""
        return self.decoder(self.start(images, widths), inputs)

    def forward(self, images: Tensor, widths: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        hidden, _ = self.teacher_forced(images, widths, target[:, :-1])
        loss = self.decoder.loss(hidden, target[:, 1:], self.config.label_smoothing,
                                 self._buffer if self.training else None)
        return hidden, loss


@dataclass
class LoadedCaptioner(LoadedModel):
    """A captioner read back by `load_model` (its word vocabulary is "tokens")."""


def image_tensor(images: list, device: torch.device | None = None) -> tuple[Tensor, Tensor]:
    """Right-padded float images (B, Hi, Wmax) and their widths (B,), from (Hi, Wi) arrays."""
    import numpy as np

    widths = np.array([image.shape[1] for image in images], dtype=np.int64)
    height = images[0].shape[0]
    out = np.zeros((len(images), height, int(widths.max())), dtype=np.float32)
    for row, image in zip(out, images):
        row[:, : image.shape[1]] = image
    return torch.from_numpy(out).to(device), torch.from_numpy(widths).to(device)


register_model(ModelKind(ARTIFACT_KIND, CaptionerConfig, Captioner, "caption",
                         "image captioner", LoadedCaptioner))
