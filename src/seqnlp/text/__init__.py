"""Text plumbing without torch: corpus readers, tokenizers, the Vocab, batching of token
ids, and chunk tag schemes. Importing it loads only NumPy and the standard library.
"""

from seqnlp.text.batching import batchify, bptt_windows, bucket_batches, pad_sequences
from seqnlp.text.chinese import normalize_width, read_raw_lines, read_segmented, read_word_list
from seqnlp.text.conll import ConllSentence, read_conll
from seqnlp.text.corpus import LabeledText, read_labeled, read_lm_lines, read_word_stream
from seqnlp.text.evalsets import AnalogyQuestion, WordPair, read_analogies, read_word_pairs
from seqnlp.text.parallel import read_parallel
from seqnlp.text.tagging import (
    Span,
    bmes_from_words,
    convert_tags,
    spans_from_tags,
    tags_from_spans,
    words_from_bmes,
)
from seqnlp.text.tokenize import chinese_chars, english_tokenize, get_tokenizer, whitespace_tokenize
from seqnlp.text.trees import Tree, parse_tree, read_trees
from seqnlp.text.vocab import UnknownTokenError, Vocab

__all__ = [
    # vocabulary and tokenizers
    "UnknownTokenError",
    "Vocab",
    "chinese_chars",
    "english_tokenize",
    "get_tokenizer",
    "whitespace_tokenize",
    # batching
    "batchify",
    "bptt_windows",
    "bucket_batches",
    "pad_sequences",
    # tag schemes
    "Span",
    "bmes_from_words",
    "convert_tags",
    "spans_from_tags",
    "tags_from_spans",
    "words_from_bmes",
    # readers
    "AnalogyQuestion",
    "ConllSentence",
    "LabeledText",
    "Tree",
    "WordPair",
    "normalize_width",
    "parse_tree",
    "read_analogies",
    "read_conll",
    "read_labeled",
    "read_lm_lines",
    "read_parallel",
    "read_raw_lines",
    "read_segmented",
    "read_trees",
    "read_word_list",
    "read_word_pairs",
    "read_word_stream",
]
