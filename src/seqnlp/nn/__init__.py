"""Torch building blocks, math only: recurrent cells and layers, time-delay layers,
sequence dropout, a linear-chain CRF, parameter counts, a fused decoder + cross-entropy. Everything here takes
tensors and numbers, never paths, vocabularies or configs."""

from seqnlp.nn.cells import GRUCell, LSTMCell, RNNCell, gru_cell, lstm_cell, rnn_cell
from seqnlp.nn.crf import LinearChainCRF
from seqnlp.nn.dropout import (
    EmbeddingWithDropout,
    LockedDropout,
    embedding_dropout,
    locked_dropout,
)
from seqnlp.nn.linear_cross_entropy import LogitBuffer, linear_cross_entropy
from seqnlp.nn.params import count_parameters, rnn_parameter_count
from seqnlp.nn.rnn import (
    GRU,
    LSTM,
    RNN,
    RecurrentEncoder,
    build_sequence_encoder,
    reverse_padded,
    sequence_mask,
    unroll,
)
from seqnlp.nn.tdnn import TDNN, TDNNStack, context_offsets

__all__ = [
    "LinearChainCRF",
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "RNN",
    "RNNCell",
    "RecurrentEncoder",
    "TDNN",
    "TDNNStack",
    "EmbeddingWithDropout",
    "LockedDropout",
    "LogitBuffer",
    "context_offsets",
    "build_sequence_encoder",
    "count_parameters",
    "embedding_dropout",
    "gru_cell",
    "linear_cross_entropy",
    "locked_dropout",
    "lstm_cell",
    "reverse_padded",
    "rnn_cell",
    "rnn_parameter_count",
    "sequence_mask",
    "unroll",
]
