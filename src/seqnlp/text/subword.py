"""Subword units for translation: SentencePiece BPE or unigram models (Sennrich et al., 2016;
Kudo, 2018; Kudo and Richardson, 2018), trained on the training side only, and the plain
word tokenizer, behind one interface that a saved model can rebuild.

A tokenizer turns raw text into tokens (`tokenize`) and tokens back into text
(`detokenize`). SentencePiece reads raw, untokenized text and marks word starts with "▁",
so its detokenization is exact. A model file keeps its tokenizers as a JSON-able dict
(`tokenizers_to_dict`): the SentencePiece model bytes are stored inside it, base64-encoded.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from seqnlp.text.mt_tokenize import detokenize_mt, tokenize_mt

SUBWORD_TYPES = ("bpe", "unigram")
TOKENIZERS = ("sentencepiece", "words")


class Tokenizer(Protocol):
    """Raw text <-> tokens."""

    def tokenize(self, text: str) -> list[str]:
        """The tokens of `text`."""

    def detokenize(self, tokens: Sequence[str]) -> str:
        """Text from tokens (the inverse of `tokenize` on ordinary text)."""


class WordTokenizer:
    """Words and punctuation (`seqnlp.text.mt_tokenize`), optionally lowercased."""

    def __init__(self, lowercase: bool = False) -> None:
        self.lowercase = lowercase

    def tokenize(self, text: str) -> list[str]:
        return tokenize_mt(text, self.lowercase)

    def detokenize(self, tokens: Sequence[str]) -> str:
        return detokenize_mt(tokens)


class SentencePieceTokenizer:
    """A trained SentencePiece model (its serialized bytes in `model_bytes`)."""

    def __init__(self, model_bytes: bytes) -> None:
        import sentencepiece as spm

        self.model_bytes = bytes(model_bytes)
        try:
            self.processor = spm.SentencePieceProcessor(model_proto=self.model_bytes)
        except (RuntimeError, TypeError) as exc:  # not a SentencePiece model
            raise ValueError(f"not a SentencePiece model ({exc})") from None

    @classmethod
    def train(cls, sentences: Iterable[str], vocab_size: int = 8000,
              model_type: str = "bpe", character_coverage: float = 1.0
              ) -> SentencePieceTokenizer:
        """Train on `sentences` (raw text, one per item).

        Args:
            sentences: the training side of one language.
            vocab_size: the most pieces, `<unk>` included; fewer on a small text (the
                limit is soft).
            model_type: "bpe" or "unigram".
            character_coverage: the share of characters covered by single pieces.

        Raises:
            ValueError: a bad option, or no text to learn from.
        """
        import sentencepiece as spm

        if model_type not in SUBWORD_TYPES:
            raise ValueError(f"model_type must be bpe or unigram, got {model_type!r}")
        if vocab_size < 8:
            raise ValueError(f"vocab_size must be at least 8, got {vocab_size}")
        lines = [s for s in sentences if s.strip()]
        if not lines:
            raise ValueError("no text to learn subword units from")
        out = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(lines), model_writer=out, vocab_size=vocab_size,
                model_type=model_type, character_coverage=character_coverage,
                unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1, hard_vocab_limit=False,
                minloglevel=2, num_threads=1, input_sentence_size=0)
        except RuntimeError as exc:
            raise ValueError(f"SentencePiece training failed: {exc}") from None
        return cls(out.getvalue())

    def tokenize(self, text: str) -> list[str]:
        return self.processor.encode(text, out_type=str)

    def detokenize(self, tokens: Sequence[str]) -> str:
        return self.processor.decode_pieces(list(tokens))

    def pieces(self) -> list[str]:
        """Every piece of the model but `<unk>`, in id order."""
        size = self.processor.get_piece_size()
        return [self.processor.id_to_piece(i) for i in range(size)
                if not self.processor.is_unknown(i) and not self.processor.is_control(i)]


def train_tokenizer(kind: str, sentences: Sequence[str], vocab_size: int = 8000,
                    model_type: str = "bpe", lowercase: bool = False) -> Tokenizer:
    """A tokenizer of `kind` ("sentencepiece" or "words") for one language's training side."""
    if kind == "sentencepiece":
        return SentencePieceTokenizer.train(sentences, vocab_size, model_type)
    if kind == "words":
        return WordTokenizer(lowercase)
    raise ValueError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, got {kind!r}")


def tokenizers_to_dict(source: Tokenizer, target: Tokenizer) -> dict[str, Any]:
    """A JSON-able description of both sides' tokenizers, stored in a model file."""
    if isinstance(source, SentencePieceTokenizer) and isinstance(target, SentencePieceTokenizer):
        return {"kind": "sentencepiece",
                "source": base64.b64encode(source.model_bytes).decode("ascii"),
                "target": base64.b64encode(target.model_bytes).decode("ascii")}
    if isinstance(source, WordTokenizer) and isinstance(target, WordTokenizer):
        return {"kind": "words", "lowercase": bool(source.lowercase)}
    raise TypeError("both sides must use the same kind of tokenizer")


def tokenizers_from_dict(data: dict[str, Any]) -> tuple[Tokenizer, Tokenizer]:
    """The (source, target) tokenizers described by `tokenizers_to_dict`.

    Raises:
        ValueError: an unknown kind or damaged model bytes.
    """
    kind = data.get("kind")
    if kind == "words":
        return WordTokenizer(bool(data.get("lowercase"))), WordTokenizer(bool(data.get("lowercase")))
    if kind == "sentencepiece":
        try:
            sides = [base64.b64decode(data[side], validate=True) for side in ("source", "target")]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"damaged SentencePiece models ({exc})") from None
        return SentencePieceTokenizer(sides[0]), SentencePieceTokenizer(sides[1])
    raise ValueError(f"unknown tokenizer kind {kind!r}")
