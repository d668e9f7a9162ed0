"""Encoder-decoder translation with attention (Sutskever et al., 2014; Cho et al., 2014;
Bahdanau et al., 2015; Luong et al., 2015).

    source ids (B, S) -> embeddings (E) -> (bi)GRU/LSTM encoder (the shared
    `RecurrentEncoder`) -> memory (B, S, K = D*H)
    target ids (B, T) -> `AttentionDecoder` over the memory -> attentional states (B, T, Hd)
    -> output layer (Hd -> V), softmax

`AttentionDecoder` takes plain sizes and any memory (encoder states, an image encoder's
feature columns), so the image captioner (`seqnlp.models.captioner`) reuses it unchanged.
Decoding runs through `seqnlp.decoding` with `step(state, tokens) -> (log_probs, state)`.

Shape legend: B batch, S source length, T target length, E embedding, H encoder hidden per
direction, D directions, K memory size, Hd decoder hidden, V target vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqnlp.models.registry import (
    MAX_LAYERS,
    MAX_VOCAB,
    MAX_WIDTH,
    IncompatibleModelError,
    LoadedModel,
    ModelKind,
    check_sizes,
    register_model,
)
from seqnlp.nn.attention import SCORES, Attention
from seqnlp.nn.cells import GRUCell, LSTMCell
from seqnlp.nn.linear_cross_entropy import LogitBuffer, linear_cross_entropy
from seqnlp.nn.rnn import build_sequence_encoder, sequence_mask

ARTIFACT_KIND = "seq2seq"
CELLS = ("gru", "lstm")
STYLES = ("luong", "bahdanau", "none")
DEFAULT_SCORE = {"luong": "scaled_general", "bahdanau": "additive", "none": ""}
PAD_INDEX, UNK_INDEX, BOS_INDEX, EOS_INDEX = 0, 1, 2, 3  # text.vocab's DEFAULT_SPECIALS


class AttentionDecoder(nn.Module):
    """A one-layer recurrent decoder attending over a memory, one step at a time.

    With s the decoder state, y the previous token, c the context, h~ the attentional
    state that the output layer reads (W_c, W_o the combination and output weights):

        luong:     s_t = cell([emb(y_(t-1)); h~_(t-1)], s_(t-1))   (input feeding; without
                   it the input is emb(y_(t-1)) alone)
                   c_t = attend(s_t, memory)
        bahdanau:  c_t = attend(s_(t-1), memory)
                   s_t = cell([emb(y_(t-1)); c_t], s_(t-1))
        none:      c_t = c, the memory's summary, at every step (Cho et al., 2014)
                   s_t = cell([emb(y_(t-1)); c], s_(t-1))
        all:       h~_t = tanh(W_c [s_t; c_t]),  p(y_t) = softmax(W_o h~_t + b_o)

    The state starts at s_0 = tanh(W_s summary) (an LSTM's cell at zero).

    Args:
        vocab_size: V (id `pad` is padding).
        embedding_dim: E.
        hidden_size: Hd, of s and h~.
        memory_size: K.
        cell: "gru" | "lstm".
        style: "luong" | "bahdanau" | "none".
        score: the attention score (`seqnlp.nn.attention.SCORES`), unused by "none".
        input_feeding: luong: feed h~_(t-1) into the cell.
        dropout: on the target embeddings and on h~ before the output layer.
        tie_embeddings: the output weight is the target embedding (needs E == Hd).
        pad: the padding id.

    Shape:
        start(memory (B, S, K), mask (B, S), summary (B, K)) -> state;
        step(state, tokens (B,)) -> (log_probs (B, V), state);
        forward(state, inputs (B, T)) -> (h~ (B, T, Hd), weights (B, T, S) or None).
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int,
                 memory_size: int, cell: str = "gru", style: str = "luong",
                 score: str = "scaled_general", input_feeding: bool = True, dropout: float = 0.0,
                 tie_embeddings: bool = False, pad: int = PAD_INDEX) -> None:
        super().__init__()
        self.style, self.cell_kind, self.input_feeding = style, cell, input_feeding
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad)
        self.bridge = nn.Linear(memory_size, hidden_size)
        feed = {"luong": hidden_size if input_feeding else 0}.get(style, memory_size)
        self.cell = (GRUCell if cell == "gru" else LSTMCell)(embedding_dim + feed, hidden_size)
        self.attention = Attention(score, hidden_size, memory_size, hidden_size) \
            if style != "none" else None
        self.combine = nn.Linear(hidden_size + memory_size, hidden_size, bias=False)
        self.output = nn.Linear(hidden_size, vocab_size)
        if tie_embeddings:
            self.output.weight = self.embedding.weight  # one (V, E = Hd) parameter
        self.dropout = nn.Dropout(dropout)

    def start(self, memory: Tensor, mask: Tensor, summary: Tensor) -> dict[str, Tensor]:
        """The decoder state before the first token; every leaf has the batch on dim 0."""
        hidden = torch.tanh(self.bridge(summary))  # (B, Hd)
        state = {"hidden": hidden, "memory": memory, "mask": mask}
        if self.cell_kind == "lstm":
            state["cell"] = torch.zeros_like(hidden)
        if self.style == "none":
            state["context"] = summary  # (B, K)
        elif self.attention is not None:
            prepared = self.attention.prepare(memory)
            if prepared is not None:
                state["prepared"] = prepared  # (B, S, A)
        if self.style == "luong" and self.input_feeding:
            state["feed"] = torch.zeros_like(hidden)
        return state

    def advance(self, state: dict[str, Tensor], embedded: Tensor
                ) -> tuple[Tensor, Tensor | None, dict[str, Tensor]]:
        """One step from embedded previous tokens (B, E): (h~ (B, Hd), weights (B, S) or
        None, the next state)."""
        state = dict(state)
        weights = None
        if self.style == "bahdanau":
            context, weights = self._attend(state["hidden"], state)
            inputs = torch.cat([embedded, context], dim=1)
        elif self.style == "none":
            context = state["context"]
            inputs = torch.cat([embedded, context], dim=1)
        else:
            inputs = torch.cat([embedded, state["feed"]], 1) if self.input_feeding else embedded
        if self.cell_kind == "lstm":
            state["hidden"], state["cell"] = self.cell(inputs, (state["hidden"], state["cell"]))
        else:
            state["hidden"] = self.cell(inputs, state["hidden"])
        if self.style == "luong":
            context, weights = self._attend(state["hidden"], state)
        combined = torch.tanh(self.combine(torch.cat([state["hidden"], context], dim=1)))
        if "feed" in state:
            state["feed"] = combined
        return combined, weights, state

    def _attend(self, query: Tensor, state: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        assert self.attention is not None
        return self.attention(query, state["memory"], state["mask"], state.get("prepared"))

    def forward(self, state: dict[str, Tensor], inputs: Tensor, teacher_forcing: float = 1.0
                ) -> tuple[Tensor, Tensor | None]:
        """Run over target inputs (B, T) (BOS first); with `teacher_forcing` < 1 in training,
        each row's next input is the model's own argmax with probability 1 - ratio."""
        embedded = self.embedding(inputs)  # (B, T, E)
        if self.style == "luong" and not self.input_feeding and \
                (teacher_forcing >= 1.0 or not self.training):
            return self._parallel(state, self.dropout(embedded))
        outputs, weights = [], []
        tokens = inputs[:, 0]
        for t in range(inputs.size(1)):
            if t > 0 and teacher_forcing < 1.0 and self.training:
                own = self.output(outputs[-1]).argmax(-1)  # (B,)
                keep = torch.rand(own.shape, device=own.device) < teacher_forcing
                tokens = torch.where(keep, inputs[:, t], own)
                step_input = self.embedding(tokens)
            else:
                step_input = embedded[:, t]
            combined, weight, state = self.advance(state, self.dropout(step_input))
            outputs.append(self.dropout(combined))
            if weight is not None:
                weights.append(weight)
        stacked = torch.stack(weights, dim=1) if weights else None  # (B, T, S)
        return torch.stack(outputs, dim=1), stacked  # (B, T, Hd)

    def _parallel(self, state: dict[str, Tensor], embedded: Tensor) -> tuple[Tensor, Tensor]:
        """Luong attention without input feeding, all steps at once: the decoder's states do
        not depend on the attention, so the cell runs as one fused recurrent kernel over
        the whole target (the cell's weights in torch's layout) and the attention is one
        batched product; the same numbers as `advance` step by step."""
        cell = self.cell
        weights = [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh]
        h0 = state["hidden"].unsqueeze(0)  # (1, B, Hd)
        if self.cell_kind == "lstm":
            hx = (h0, state["cell"].unsqueeze(0))
            states = torch.lstm(embedded, hx, weights, True, 1, 0.0, False, False, True)[0]
        else:
            states = torch.gru(embedded, h0, weights, True, 1, 0.0, False, False, True)[0]
        assert self.attention is not None
        context, attention = self.attention(states, state["memory"], state["mask"],
                                            state.get("prepared"))  # (B, T, K), (B, T, S)
        combined = torch.tanh(self.combine(torch.cat([states, context], dim=2)))
        return self.dropout(combined), attention  # (B, T, Hd)

    def step(self, state: dict[str, Tensor], tokens: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """The `seqnlp.decoding` step: log-probabilities of the next token (B, V)."""
        combined, _, state = self.advance(state, self.dropout(self.embedding(tokens)))
        return torch.log_softmax(self.output(self.dropout(combined)), dim=-1), state

    def loss(self, hidden: Tensor, targets: Tensor, label_smoothing: float,
             buffer: LogitBuffer | None = None, pad: int = PAD_INDEX) -> Tensor:
        """Mean cross-entropy per real target token (label-smoothed when asked; the fused
        output layer and loss of `seqnlp.nn.linear_cross_entropy` when not)."""
        keep = targets != pad  # (B, T)
        rows, gold = hidden[keep], targets[keep]  # (N, Hd), (N,)
        if label_smoothing == 0.0:
            return linear_cross_entropy(rows, self.output.weight, self.output.bias, gold, buffer)
        return F.cross_entropy(self.output(rows), gold, label_smoothing=label_smoothing)


@dataclass(frozen=True)
class Seq2SeqConfig:
    """Configuration of a `Seq2Seq` model.

    Attributes:
        source_vocab_size, target_vocab_size: with ids 0-3 `<pad> <unk> <bos> <eos>`.
        embedding_dim: E, source and target.
        hidden_size: H, the encoder's per direction.
        decoder_hidden_size: Hd (0: the memory size K = D*H).
        num_layers: encoder layers.
        cell: "gru" | "lstm", encoder and decoder.
        bidirectional: the encoder reads both ways.
        attention: "luong" | "bahdanau" | "none" (no attention: the baseline).
        score: the attention score (default: scaled_general for luong, additive for
            bahdanau; see `seqnlp.nn.attention` for why not general).
        input_feeding: luong: feed the previous attentional state to the decoder.
        dropout: on embeddings, between encoder layers and before the output layer (not
            on the memory the attention reads).
        teacher_forcing: the share of training steps fed the gold previous token.
        label_smoothing: spread this much of each target's probability over the vocabulary.
        tie_embeddings: the output layer's weight is the target embedding (E == Hd).
    """

    source_vocab_size: int
    target_vocab_size: int
    embedding_dim: int = 256
    hidden_size: int = 256
    decoder_hidden_size: int = 0
    num_layers: int = 1
    cell: str = "gru"
    bidirectional: bool = True
    attention: str = "luong"
    score: str = ""
    input_feeding: bool = True
    dropout: float = 0.2
    teacher_forcing: float = 1.0
    label_smoothing: float = 0.1
    tie_embeddings: bool = False

    def __post_init__(self) -> None:
        check_sizes(self, source_vocab_size=MAX_VOCAB, target_vocab_size=MAX_VOCAB,
                    embedding_dim=MAX_WIDTH, hidden_size=MAX_WIDTH,
                    decoder_hidden_size=MAX_WIDTH, num_layers=MAX_LAYERS)
        for name in ("source_vocab_size", "target_vocab_size"):
            if getattr(self, name) < 5:
                raise ValueError(f"{name} must be at least 5 (4 specials), got "
                                 f"{getattr(self, name)}")
        for name in ("embedding_dim", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.decoder_hidden_size < 0:
            raise ValueError(f"decoder_hidden_size must be >= 0, got {self.decoder_hidden_size}")
        _check_choice("cell", self.cell, CELLS)
        _check_choice("attention", self.attention, STYLES)
        object.__setattr__(self, "score", self.score or DEFAULT_SCORE[self.attention])
        if self.attention != "none":
            _check_choice("score", self.score, SCORES)
        if self.score in ("dot", "scaled_dot") and self.decoder_size != self.memory_size:
            raise ValueError(f"{self.score} attention needs decoder_hidden_size == the memory "
                             f"size {self.memory_size}, got {self.decoder_size}")
        for name, value, high in (("dropout", self.dropout, 1.0),
                                  ("label_smoothing", self.label_smoothing, 1.0)):
            if not 0.0 <= value < high:
                raise ValueError(f"{name} must be in [0, 1), got {value}")
        if not 0.0 <= self.teacher_forcing <= 1.0:
            raise ValueError(f"teacher_forcing must be in [0, 1], got {self.teacher_forcing}")
        if self.tie_embeddings and self.embedding_dim != self.decoder_size:
            raise ValueError(f"tie_embeddings needs embedding_dim == decoder_hidden_size, got "
                             f"{self.embedding_dim} and {self.decoder_size}")

    @property
    def memory_size(self) -> int:
        """K, the width of the encoder states."""
        return self.hidden_size * (2 if self.bidirectional else 1)

    @property
    def decoder_size(self) -> int:
        """Hd."""
        return self.decoder_hidden_size or self.memory_size


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


class Seq2Seq(nn.Module):
    """Encoder, attention decoder and output layer; see the module docstring.

    `forward(source, source_lengths, target)` takes target ids with `<bos>` first and
    `<eos>` last (padded with 0) and returns `(h~ (B, T-1, Hd), loss)`: the mean
    (label-smoothed) cross-entropy per real target token.
    """

    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__()
        self.config = config
        self.source_embedding = nn.Embedding(config.source_vocab_size, config.embedding_dim,
                                             padding_idx=PAD_INDEX)
        self.encoder = build_sequence_encoder(config.cell, config.embedding_dim,
                                              config.hidden_size, config.num_layers,
                                              config.bidirectional, config.dropout)
        self.decoder = AttentionDecoder(
            config.target_vocab_size, config.embedding_dim, config.decoder_size,
            config.memory_size, config.cell, config.attention, config.score or "dot",
            config.input_feeding, config.dropout, config.tie_embeddings)
        self.dropout = nn.Dropout(config.dropout)
        self._buffer = LogitBuffer()

    def encode(self, source: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The memory (B, S, K), its mask (B, S) and its summary (B, K): the forward
        direction's last state and the backward direction's first."""
        lengths = lengths.to(source.device)
        embedded = self.dropout(self.source_embedding(source))  # (B, S, E)
        memory = self.encoder(embedded, lengths)  # (B, S, K)
        mask = sequence_mask(lengths, source.size(1))
        rows = torch.arange(source.size(0), device=source.device)
        hidden = self.config.hidden_size
        last = memory[rows, lengths - 1, :hidden]  # (B, H)
        summary = torch.cat([last, memory[:, 0, hidden:]], 1) if self.config.bidirectional \
            else last
        # No dropout on the memory: with it (0.3), the attention model trailed the one
        # without attention on Multi30k (val BLEU after 2 epochs 15.9 against 18.1; 18.6
        # without it), its contexts noisier than the no-attention model's summary.
        return memory.masked_fill(~mask.unsqueeze(-1), 0.0), mask, summary

    def start(self, source: Tensor, lengths: Tensor) -> dict[str, Tensor]:
        """The decoder's initial state for `step` (every leaf batch-first)."""
        return self.decoder.start(*self.encode(source, lengths))

    def step(self, state: dict[str, Tensor], tokens: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """`step(state, tokens (B,)) -> (log_probs (B, V), state)` for `seqnlp.decoding`."""
        return self.decoder.step(state, tokens)

    def teacher_forced(self, source: Tensor, source_lengths: Tensor, inputs: Tensor,
                       teacher_forcing: float = 1.0) -> tuple[Tensor, Tensor | None]:
        """h~ (B, T, Hd) and attention weights (B, T, S) (None without attention) for
        target inputs (B, T) that start with `<bos>`."""
        return self.decoder(self.start(source, source_lengths), inputs, teacher_forcing)

    def forward(self, source: Tensor, source_lengths: Tensor, target: Tensor
                ) -> tuple[Tensor, Tensor]:
        hidden, _ = self.teacher_forced(source, source_lengths, target[:, :-1],
                                        self.config.teacher_forcing)
        loss = self.decoder.loss(hidden, target[:, 1:], self.config.label_smoothing,
                                 self._buffer if self.training else None)
        return hidden, loss

    def extra_repr(self) -> str:
        c = self.config
        return f"attention={c.attention!r}, score={c.score!r}, cell={c.cell!r}"


@torch.no_grad()
def decode_ids(step: Any, state: Any, batch: int, beam_size: int, max_len: int,
               min_len: int = 0, alpha: float = 0.0, n_best: int = 1,
               stopping: str = "exact") -> list[list[tuple[list[int], float]]]:
    """Decode B rows from a decoder `state` with greedy search (beam 1) or beam search.

    Args:
        step: `step(state, tokens) -> (log_probs, state)` (`Seq2Seq.step`, ...).
        state: the decoder's initial state, batch-first leaves.
        batch: B.
        beam_size: 1 for greedy search.
        max_len, min_len: bounds on the generated tokens, `<eos>` included.
        alpha: the GNMT length-penalty exponent of beam search (0: raw log-probability).
        n_best: hypotheses per row (beam search; at most `beam_size`).
        stopping: beam search's stopping rule, "exact" or "heuristic"
            (`seqnlp.decoding.beam`).

    Returns:
        For each row, up to `n_best` pairs (token ids without `<eos>`, log-probability),
        best first.
    """
    from seqnlp.decoding import beam_search, greedy_search, reorder_state

    bos = torch.full((batch,), BOS_INDEX, dtype=torch.long)
    if beam_size == 1:
        found = greedy_search(step, state, bos, EOS_INDEX, max_len, min_len=min_len,
                              pad=PAD_INDEX)
        rows = found.tokens.tolist()
        return [[(_strip(rows[b]), float(found.log_prob[b]))] for b in range(batch)]
    hypotheses = beam_search(step, state, bos, EOS_INDEX, beam_size, max_len, min_len=min_len,
                             alpha=alpha, n_best=n_best, reorder=_reorder_beams,
                             stopping=stopping, select=reorder_state)
    return [[(_strip(list(h.tokens)), h.log_prob) for h in row] for row in hypotheses]


# Decoder state leaves that are the same for every beam of a sentence: the source's memory,
# its mask and its prepared keys, and the no-attention model's fixed context.
SENTENCE_CONSTANT = frozenset({"memory", "mask", "prepared", "context"})


def _reorder_beams(state: dict[str, Tensor], rows: Tensor) -> dict[str, Tensor]:
    """Beam search's reorder for an `AttentionDecoder` state: a beam's new parent is always
    a beam of its own sentence (`seqnlp.decoding.beam`'s row layout), so the leaves that
    are constant across a sentence's beams keep their rows (copying the memory took 12% of
    beam-5 decoding's time)."""
    return {key: value if key in SENTENCE_CONSTANT else value.index_select(0, rows)
            for key, value in state.items()}


def _strip(tokens: list[int]) -> list[int]:
    """Tokens up to (without) the first `<eos>` or padding."""
    for index, token in enumerate(tokens):
        if token in (EOS_INDEX, PAD_INDEX):
            return tokens[:index]
    return tokens


@dataclass
class LoadedSeq2Seq(LoadedModel):
    """A translation model read back by `load_model`.

    Attributes:
        tokenizer: how text becomes tokens and back: `{"kind": "sentencepiece", "source":
            base64 model, "target": base64 model}` or `{"kind": "words", "lowercase": bool}`
            (see `seqnlp.text.subword.tokenizer_from_dict`).
        languages: `[source, target]` language codes.
    """

    tokenizer: dict[str, Any] | None = None
    languages: list[str] | None = None
    extra_fields: ClassVar[tuple[str, ...]] = ("tokenizer", "languages")

    def __post_init__(self) -> None:
        if not isinstance(self.tokenizer, dict) or "kind" not in self.tokenizer:
            raise ValueError("no tokenizer description")
        self.languages = list(self.languages or ["src", "tgt"])

    def check(self) -> None:
        for side, size in (("source", self.config.source_vocab_size),
                           ("target", self.config.target_vocab_size)):
            if side not in self.vocabs or len(self.vocabs[side]) != size:
                found = len(self.vocabs[side]) if side in self.vocabs else "no"
                raise IncompatibleModelError(f"{self.path}: its {side} vocabulary has {found} "
                                             f"tokens but the model has {size}")


register_model(ModelKind(ARTIFACT_KIND, Seq2SeqConfig, Seq2Seq, "translate",
                         "translation model", LoadedSeq2Seq))
