"""Decoders over any ``step(state, tokens) -> (log_probs, state)`` function: greedy search,
sampling (temperature, top-k, top-p) and batched beam search with length normalisation.

The language model, the seq2seq decoder and captioning decoders all reuse them unchanged;
this package never imports `seqnlp.models`.
"""

from seqnlp.decoding.beam import Hypothesis, beam_search
from seqnlp.decoding.constraints import block_repeated_ngrams, with_history
from seqnlp.decoding.greedy import GenerationResult, generate, greedy_search
from seqnlp.decoding.penalties import LengthPenalty
from seqnlp.decoding.sampling import filter_logits, sample, top_k_filter, top_p_filter
from seqnlp.decoding.state import map_state, reorder_state, repeat_state

__all__ = [
    "GenerationResult",
    "Hypothesis",
    "LengthPenalty",
    "beam_search",
    "block_repeated_ngrams",
    "filter_logits",
    "generate",
    "greedy_search",
    "map_state",
    "reorder_state",
    "repeat_state",
    "sample",
    "top_k_filter",
    "top_p_filter",
    "with_history",
]
