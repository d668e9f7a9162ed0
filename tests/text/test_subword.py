"""Subword tokenizers: SentencePiece trained on the training side, kept inside a dict that
a model file stores; the word tokenizer and detokenizer."""

from __future__ import annotations

import json

import pytest

from seqnlp.text.mt_tokenize import detokenize_mt, tokenize_mt
from seqnlp.text.subword import (
    SentencePieceTokenizer,
    WordTokenizer,
    tokenizers_from_dict,
    tokenizers_to_dict,
    train_tokenizer,
)

TEXT = [f"Ein Mann mit {w} Hut fährt Fahrrad Nummer {i}." for i, w in
        enumerate(["rotem", "blauem", "grünem", "gelbem"] * 25)]


@pytest.mark.parametrize("model_type", ["bpe", "unigram"])
def test_sentencepiece_detokenizes_its_own_tokens_exactly(model_type: str) -> None:
    tokenizer = SentencePieceTokenizer.train(TEXT, vocab_size=60, model_type=model_type)
    pieces = tokenizer.tokenize("Ein Mann mit rotem Hut.")
    assert len(pieces) > 1 and pieces[0].startswith("▁")
    assert tokenizer.detokenize(pieces) == "Ein Mann mit rotem Hut."
    assert "<unk>" not in tokenizer.pieces() and len(tokenizer.pieces()) <= 59


def test_tokenizers_survive_a_json_round_trip_with_the_model_bytes_inside() -> None:
    source = train_tokenizer("sentencepiece", TEXT, vocab_size=50)
    target = train_tokenizer("sentencepiece", [t.lower() for t in TEXT], vocab_size=40)
    data = json.loads(json.dumps(tokenizers_to_dict(source, target)))
    again_source, again_target = tokenizers_from_dict(data)
    text = "Ein Mann mit gelbem Hut fährt."
    assert again_source.tokenize(text) == source.tokenize(text)
    assert again_target.tokenize(text.lower()) == target.tokenize(text.lower())


def test_damaged_model_bytes_are_refused() -> None:
    with pytest.raises(ValueError, match="SentencePiece"):
        tokenizers_from_dict({"kind": "sentencepiece", "source": "!!", "target": "AAAA"})
    with pytest.raises(ValueError, match="unknown tokenizer kind"):
        tokenizers_from_dict({"kind": "bytes"})


def test_training_needs_text_and_a_known_model_type() -> None:
    with pytest.raises(ValueError, match="no text"):
        SentencePieceTokenizer.train(["", "  "], vocab_size=50)
    with pytest.raises(ValueError, match="bpe or unigram"):
        SentencePieceTokenizer.train(TEXT, model_type="char-ngrams")


@pytest.mark.parametrize("text, tokens", [
    ("Ein Mann (rechts) fährt.", ["Ein", "Mann", "(", "rechts", ")", "fährt", "."]),
    ('A man says "hi" to a dog.', ["A", "man", "says", '"', "hi", '"', "to", "a", "dog", "."]),
    ("A man's T-Shirt, blue!", ["A", "man's", "T-Shirt", ",", "blue", "!"]),
])
def test_word_tokenizer_splits_punctuation_and_the_detokenizer_glues_it_back(
        text: str, tokens: list[str]) -> None:
    assert tokenize_mt(text) == tokens
    assert detokenize_mt(tokens) == text
    assert WordTokenizer(lowercase=True).tokenize(text) == [t.lower() for t in tokens]
