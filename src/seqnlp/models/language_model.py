"""Recurrent neural network language models (Mikolov et al., 2010; Zaremba et al., 2014).

embedding -> dropout -> rnn | lstm | gru (layers, dropout between) -> dropout -> decoder,
the decoder optionally tied to the embedding (Press & Wolf, 2017; Inan et al., 2017).
Trained with truncated backpropagation through time: the hidden state is carried from one
BPTT window to the next and detached between them, so gradients stop at the window edge
while information flows on. A sampled softmax (see `seqnlp.nn.sampled_softmax`) can replace
the full softmax during training; evaluation is always exact.

Shape legend: B batch, T time, E embedding size, H hidden size, L layers, V vocabulary,
N decoding rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from seqnlp.models.artifact import IncompatibleModelError
from seqnlp.models.registry import (
    MAX_LAYERS,
    MAX_VOCAB,
    MAX_WIDTH,
    LoadedModel,
    ModelKind,
    check_sizes,
    register_model,
)
from seqnlp.nn.linear_cross_entropy import LogitBuffer, linear_cross_entropy
from seqnlp.nn.sampled_softmax import log_uniform_sample, sampled_softmax_loss
from seqnlp.errors import one_of

CELLS = ("rnn", "lstm", "gru")
ARTIFACT_KIND = "language_model"
LEVELS = ("word", "char")
UNK = "<unk>"
EOS = "<eos>"
DECODER_DTYPES = {"float32": None, "bfloat16": torch.bfloat16}
PRIME_WINDOW = 1024  # a prompt is read this many steps at a time, the state carried

# torch.Tensor (L, B, H) for rnn and gru, a pair (h, c) of them for lstm.
State = Any


@dataclass(frozen=True)
class LanguageModelConfig:
    """Configuration of an `RNNLanguageModel`.

    Attributes:
        vocab_size: V.
        embedding_dim: E.
        hidden_size: H.
        num_layers: L, stacked recurrent layers.
        cell: "rnn" | "lstm" | "gru".
        dropout: on the non-recurrent connections only (Zaremba et al., 2014): after the
            embedding, between layers and before the decoder.
        tie_weights: share the decoder's (V, H) weight with the embedding (needs E == H).
        init_range: draw every weight from U(-init_range, init_range), as Zaremba et al.
            do; 0 keeps each layer's own initialisation.
        sampled_softmax: train with this many log-uniform samples instead of the full
            softmax (0: full softmax). Evaluation always uses the full softmax.
        decoder_dtype: "float32" | "bfloat16", the precision of the full-softmax
            decoder's three matrix products in training (see
            `seqnlp.nn.linear_cross_entropy`); bfloat16 halves their time on CPUs with
            AVX512-BF16 or AMX. Weights, softmax and evaluation stay float32.
    """

    vocab_size: int
    embedding_dim: int = 200
    hidden_size: int = 200
    num_layers: int = 2
    cell: str = "lstm"
    dropout: float = 0.0
    tie_weights: bool = False
    init_range: float = 0.1
    sampled_softmax: int = 0
    decoder_dtype: str = "float32"

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embedding_dim", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        check_sizes(self, vocab_size=MAX_VOCAB, embedding_dim=MAX_WIDTH, hidden_size=MAX_WIDTH,
                    num_layers=MAX_LAYERS)
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {one_of(CELLS)}, got {self.cell!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.init_range < 0:
            raise ValueError(f"init_range must be >= 0, got {self.init_range}")
        if self.tie_weights and self.embedding_dim != self.hidden_size:
            raise ValueError(
                "tie_weights needs embedding_dim == hidden_size, got "
                f"{self.embedding_dim} and {self.hidden_size}"
            )
        if self.decoder_dtype not in DECODER_DTYPES:
            raise ValueError(f"decoder_dtype must be one of {one_of(DECODER_DTYPES)}, "
                             f"got {self.decoder_dtype!r}")
        if not 0 <= self.sampled_softmax < self.vocab_size:
            raise ValueError(
                f"sampled_softmax must be in [0, vocab_size={self.vocab_size}), "
                f"got {self.sampled_softmax}"
            )


def detach_state(state: State) -> State:
    """Cut the graph at a BPTT window edge, keeping the values."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def _swap_batch_axis(state: State) -> State:
    """(L, N, H) <-> (N, L, H) for every tensor of the state (the decoding layout has the
    batch on dim 0)."""
    if isinstance(state, tuple):
        return tuple(s.transpose(0, 1).contiguous() for s in state)
    return state.transpose(0, 1).contiguous()


class RNNLanguageModel(nn.Module):
    """A word- or character-level recurrent language model.

    `forward(inputs, targets)` carries the hidden state across calls while `carry_state`
    is True (truncated BPTT): the state left by one window starts the next, detached.
    Call `reset_state()` at the start of each pass over a stream (the Trainer does so at
    each epoch start and around each evaluation). A call whose batch size differs from the
    carried state's starts from zeros.

    Args:
        config: the architecture (see `LanguageModelConfig`).

    Shape:
        inputs (B, T), targets (B, T) -> logits (B, T, V), mean cross-entropy per token.
    """

    def __init__(self, config: LanguageModelConfig) -> None:
        super().__init__()
        from seqnlp.nn import GRU, LSTM, RNN

        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
        self.dropout = nn.Dropout(config.dropout)
        layer = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[config.cell]
        self.rnn = layer(
            config.embedding_dim, config.hidden_size, num_layers=config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0, batch_first=True,
        )
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        if config.tie_weights:
            self.decoder.weight = self.embedding.weight  # one (V, H) parameter
        self.carry_state = True
        self._state: State = None
        self._logit_buffer = LogitBuffer()  # reused by every training update
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-init_range, init_range) for every weight and bias, then a zero decoder bias
        (Zaremba et al., 2014). With `init_range` 0, each layer keeps its own default."""
        if self.config.init_range <= 0:
            return
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -self.config.init_range, self.config.init_range)
        nn.init.zeros_(self.decoder.bias)

    def extra_repr(self) -> str:
        options = []
        if self.config.tie_weights:
            options.append("tie_weights=True")
        if self.config.sampled_softmax:
            options.append(f"sampled_softmax={self.config.sampled_softmax}")
        return ", ".join(options)

    # ------------------------------------------------------------------ training

    def reset_state(self) -> None:
        """Forget the carried hidden state (start of a new stream or epoch)."""
        self._state = None

    def run(self, inputs: torch.Tensor, state: State = None) -> tuple[torch.Tensor, State]:
        """Read token ids from `state` (zeros when None).

        Args:
            inputs: (B, T) token ids.
            state: (L, B, H), or `(h, c)` for an LSTM; None for zeros.

        Returns:
            The top layer's outputs after dropout (B, T, H) and the final state.
        """
        embedded = self._drop(self.embedding(inputs))  # (B, T, E)
        outputs, state = self.rnn(embedded, hx=state)  # (B, T, H)
        return self._drop(outputs), state

    def forward(
        self, inputs: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Read one BPTT window, starting from the carried state.

        Args:
            inputs: (B, T) token ids.
            targets: (B, T) the next token of each input, or None.

        Returns:
            `(logits (B, T, V), loss)`, the loss the mean cross-entropy per target token
            (None without targets). In training mode with targets the logits are not
            returned: `(None, loss)`, the loss computed by the fused
            `seqnlp.nn.linear_cross_entropy` (or the sampled softmax when configured).
        """
        hidden, state = self.run(inputs, self._carried(inputs))
        if self.carry_state:
            self._state = detach_state(state)
        if targets is not None and self.training:
            if self.config.sampled_softmax:
                return None, self._sampled_loss(hidden, targets)
            loss = linear_cross_entropy(
                hidden.reshape(-1, hidden.size(-1)), self.decoder.weight, self.decoder.bias,
                targets.reshape(-1), self._logit_buffer,
                matmul_dtype=DECODER_DTYPES[self.config.decoder_dtype],
            )  # the (B*T, V) logits live only inside the fused step
            return None, loss
        logits = self.decoder(hidden)  # (B, T, V)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss

    def _drop(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x) if self.config.dropout > 0 else x

    def _carried(self, inputs: torch.Tensor) -> State:
        if not self.carry_state or self._state is None:
            return None
        first = self._state[0] if isinstance(self._state, tuple) else self._state
        return self._state if first.size(1) == inputs.size(0) else None

    def _sampled_loss(self, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        flat = hidden.reshape(-1, hidden.size(-1))  # (B*T, H)
        sampled = log_uniform_sample(
            self.config.sampled_softmax, self.config.vocab_size, device=flat.device
        )  # (S,), shared by every row of the window
        return sampled_softmax_loss(
            flat, self.decoder.weight, self.decoder.bias, targets.reshape(-1), sampled
        )

    # ------------------------------------------------------------------ decoding

    def initial_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        """A zero state in the decoding layout: (N, L, H), or a pair of them for an LSTM."""
        zeros = torch.zeros(
            batch_size, self.config.num_layers, self.config.hidden_size, device=device
        )
        return (zeros, zeros.clone()) if self.config.cell == "lstm" else zeros

    def step(self, state: State, tokens: torch.Tensor) -> tuple[torch.Tensor, State]:
        """One decoding step, the step function of `seqnlp.decoding`.

        Args:
            state: (N, L, H), or `(h, c)` of them for an LSTM (batch on dim 0).
            tokens: (N,) the last token of each row.

        Returns:
            `(log_probs (N, V), next state)` in the same layout.
        """
        hidden, rnn_state = self.run(tokens.unsqueeze(1), _swap_batch_axis(state))  # (N, 1, H)
        log_probs = F.log_softmax(self.decoder(hidden[:, 0]), dim=-1)  # (N, V)
        return log_probs, _swap_batch_axis(rnn_state)

    def prime(self, prompt: torch.Tensor) -> tuple[State, torch.Tensor]:
        """Read a prompt and return what decoding starts from.

        Args:
            prompt: (B, T) token ids, T >= 1.

        Returns:
            The decoding state after reading all but the last prompt token, and that last
            token (B,), which the first `step` reads.
        """
        if prompt.dim() != 2 or prompt.size(1) < 1:
            raise ValueError(f"prompt must be (B, T) with T >= 1, got {tuple(prompt.shape)}")
        if prompt.size(1) == 1:
            return self.initial_state(prompt.size(0), prompt.device), prompt[:, 0]
        state, body = None, prompt[:, :-1]
        for start in range(0, body.size(1), PRIME_WINDOW):  # memory O(window), not O(T)
            _, state = self.run(body[:, start: start + PRIME_WINDOW], state)
        return _swap_batch_axis(state), prompt[:, -1]


@dataclass
class LoadedLM(LoadedModel):
    """A language model read back by `load_model`, with what it needs to read text.

    Attributes:
        level: "word" (whitespace tokens) or "char" (every character), plus `<eos>` at each
            line end.
    """

    level: str = "word"
    extra_fields: ClassVar[tuple[str, ...]] = ("level",)

    def check(self) -> None:
        """The level is known and the vocabulary holds `<unk>` and `<eos>` and fits."""
        if self.level not in LEVELS or UNK not in self.vocab or EOS not in self.vocab:
            raise IncompatibleModelError(
                f"{self.path}: a language model needs a level (word or char) and a vocabulary "
                f"with {UNK} and {EOS}; this one has level {self.level!r}")
        if len(self.vocab) != self.config.vocab_size:
            raise IncompatibleModelError(
                f"{self.path}: its vocabulary has {len(self.vocab)} tokens but the model "
                f"predicts {self.config.vocab_size}")


register_model(ModelKind(ARTIFACT_KIND, LanguageModelConfig, RNNLanguageModel, "lm",
                         "language model", LoadedLM))
