"""Sequence labelling on the shared pipeline: `TaggingTask` plugs the tagger into
`train_task`; evaluation gives word F1 (segmentation) or entity F1 (NER) on dev.

Inputs are encoded once per split: token ids, for Chinese the ids of the character bigram
ending and starting at each position, for English the character ids of each word, and the
tag ids. Batches group sentences of similar length.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from seqnlp.models.embeddings import WordVectors, pretrained_matrix
from seqnlp.tasks.tagging_data import TaggedSentence, TaggingData
from seqnlp.text import bucket_batches
from seqnlp.text.tagging import spans_from_tags
from seqnlp.text.vocab import PAD, UNK, Vocab
from seqnlp.training.chunk_metrics import span_scores

KIND = "tagger"
SPECIALS = (PAD, UNK)
BOS, EOS = "<s>", "</s>"  # the bigram sides beyond a sentence's ends
MAX_WORD_CHARS = 20  # a word's characters read by the character CNN


@dataclass
class EncodedTagging:
    """One split as id arrays: tokens (T,), bigrams (T, 2) or None, chars (T, L) or None,
    tags (T,) or None."""

    tokens: list[np.ndarray]
    bigrams: list[np.ndarray] | None
    chars: list[np.ndarray] | None
    tags: list[np.ndarray] | None

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(t) for t in self.tokens], dtype=np.int64)


def bigrams_of(tokens: Sequence[str]) -> list[tuple[str, str]]:
    """The bigram ending at and the one starting at each position (BOS/EOS beyond)."""
    padded = [BOS, *tokens, EOS]
    return [(padded[i] + padded[i + 1], padded[i + 1] + padded[i + 2])
            for i in range(len(tokens))]


def build_tagging_vocabs(data: TaggingData, max_vocab: int | None = None, min_count: int = 1,
                         bigrams: bool = False, bigram_min_count: int = 2,
                         chars: bool = False, bigram_max_vocab: int | None = None,
                         extra_tokens: Sequence[str] = ()) -> dict[str, Vocab]:
    """Vocabularies from the training split: tokens, tags, and optionally bigrams and chars.

    `extra_tokens` (the words of pretrained vectors, say) join the token vocabulary after
    the training tokens, those it does not hold yet, in their order.
    """
    sentences = data.train
    tokens = Vocab.build((s.tokens for s in sentences), min_count=min_count,
                         max_size=max_vocab, specials=SPECIALS)
    if extra_tokens:
        known = set(tokens.itos)
        added = [t for t in dict.fromkeys(extra_tokens) if t not in known]
        tokens = Vocab([*tokens.itos, *added], [*tokens.counts, *[0] * len(added)],
                       specials=SPECIALS)
    vocabs = {"tokens": tokens, "tags": Vocab(data.tag_names)}
    if bigrams:
        counts: Counter[str] = Counter()
        for s in sentences:  # each bigram once per occurrence (the pairs share them)
            padded = [BOS, *s.tokens, EOS]
            counts.update(a + b for a, b in zip(padded, padded[1:]))
        vocabs["bigrams"] = Vocab.from_counts(counts, min_count=bigram_min_count,
                                              max_size=bigram_max_vocab, specials=SPECIALS)
    if chars:
        vocabs["chars"] = Vocab.build((list(t) for s in sentences for t in s.tokens),
                                      specials=SPECIALS)
    return vocabs


def encode_tagging(sentences: Sequence[TaggedSentence] | Sequence[Sequence[str]],
                   vocabs: dict[str, Vocab], with_tags: bool = True,
                   lowercase_unknown: bool = False) -> EncodedTagging:
    """Id arrays of `sentences` (TaggedSentence, or plain token lists with `with_tags=False`);
    with `lowercase_unknown`, a token the vocabulary lacks reads as its lower-cased form
    when the vocabulary holds that (the words of lower-cased pretrained vectors).

    Raises:
        ValueError: a gold tag that the training data never showed.
    """
    tokens_of = [s.tokens if isinstance(s, TaggedSentence) else tuple(s) for s in sentences]
    vocab = vocabs["tokens"]
    lookup: Sequence[Sequence[str]] = tokens_of  # (the characters below read them as given)
    if lowercase_unknown:
        known = vocab.stoi
        lookup = [[t if t in known else t.lower() for t in ts] for ts in tokens_of]
    tokens = [vocab.encode(t) for t in lookup]
    bigrams = None
    if "bigrams" in vocabs:
        table = vocabs["bigrams"]
        bigrams = [table.encode([b for pair in bigrams_of(t) for b in pair]).reshape(-1, 2)
                   for t in tokens_of]
    chars = None
    if "chars" in vocabs:
        chars = [_word_chars(t, vocabs["chars"]) for t in tokens_of]
    tags = None
    if with_tags:
        tag_ids = vocabs["tags"].stoi
        try:
            tags = [np.array([tag_ids[t] for t in s.tags], dtype=np.int64)
                    for s in sentences]  # type: ignore[union-attr]
        except KeyError as exc:
            raise ValueError(f"tag {exc.args[0]!r} never occurs in the training data") from None
    return EncodedTagging(tokens, bigrams, chars, tags)


class CharacterEncoder:
    """Vectorised `encode_tagging` for raw character strings (segmentation at speed).

    Characters map to ids through a table indexed by code point; a bigram is the pair of its
    characters' ids, looked up by binary search in the sorted pairs of the bigram vocabulary.
    A bigram holding a character outside the token vocabulary reads as `<unk>`, as it does
    in `encode_tagging` unless a bigram was seen whose character was cut from the tokens.
    """

    def __init__(self, vocabs: dict[str, Vocab]) -> None:
        tokens = vocabs["tokens"]
        self.unk = tokens.unk_index if tokens.unk_index is not None else 0
        single = [(t, i) for i, t in enumerate(tokens.itos) if len(t) == 1]
        size = max((ord(t) for t, _ in single), default=0) + 1
        self.table = np.full(size, self.unk, dtype=np.int64)
        for token, index in single:
            self.table[ord(token)] = index
        self.bigrams = vocabs.get("bigrams")
        if self.bigrams is not None:
            self._index_bigrams(tokens, self.bigrams)

    def _index_bigrams(self, tokens: Vocab, bigrams: Vocab) -> None:
        self.base = len(tokens) + 2  # ids len(tokens), len(tokens) + 1: BOS, EOS
        side = {**tokens.stoi, BOS: len(tokens), EOS: len(tokens) + 1}
        keys, ids = [], []
        for index, bigram in enumerate(bigrams.itos):
            for cut in (1, len(bigram) - 1, len(BOS), len(bigram) - len(EOS)):
                left, right = bigram[:cut], bigram[cut:]
                if left in side and right in side and (left in (BOS,) or len(left) == 1) \
                        and (right == EOS or len(right) == 1):
                    keys.append(side[left] * self.base + side[right])
                    ids.append(index)
                    break
        order = np.argsort(np.array(keys, dtype=np.int64))
        self.keys = np.array(keys, dtype=np.int64)[order]
        self.ids = np.array(ids, dtype=np.int64)[order]
        self.bigram_unk = bigrams.unk_index if bigrams.unk_index is not None else 0

    def char_ids(self, text: str) -> np.ndarray:
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        inside = points < len(self.table)
        return np.where(inside, self.table[np.minimum(points, len(self.table) - 1)], self.unk)

    def bigram_ids(self, ids: np.ndarray) -> np.ndarray:
        n = self.base - 2
        padded = np.concatenate([[n], ids, [n + 1]])
        keys = padded[:-1] * self.base + padded[1:]
        where = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
        found = self.ids[where] if len(self.keys) else np.zeros_like(keys)
        hit = (self.keys[where] == keys) if len(self.keys) else np.zeros(len(keys), bool)
        pair_ids = np.where(hit, found, self.bigram_unk)
        return np.stack([pair_ids[:-1], pair_ids[1:]], axis=1)

    def encode(self, texts: Sequence[str]) -> EncodedTagging:
        tokens = [self.char_ids(t) for t in texts]
        bigrams = [self.bigram_ids(t) for t in tokens] if self.bigrams is not None else None
        return EncodedTagging(tokens, bigrams, None, None)


def _word_chars(words: Sequence[str], vocab: Vocab) -> np.ndarray:
    width = max(1, min(MAX_WORD_CHARS, max((len(w) for w in words), default=1)))
    table = np.zeros((len(words), width), dtype=np.int64)
    for i, word in enumerate(words):
        ids = vocab.encode(list(word[:width]))
        table[i, : len(ids)] = ids
    return table


def make_tagging_batch(split: EncodedTagging, indices: Sequence[int]) -> dict[str, torch.Tensor]:
    """The padded tensors of the sentences at `indices`."""
    lengths = split.lengths[list(indices)]
    width = int(lengths.max())
    batch = {"tokens": _pad([split.tokens[i] for i in indices], (width,)),
             "lengths": torch.from_numpy(lengths)}
    if split.bigrams is not None:
        batch["bigrams"] = _pad([split.bigrams[i] for i in indices], (width, 2))
    if split.chars is not None:
        letters = max(split.chars[i].shape[1] for i in indices)
        batch["chars"] = _pad([split.chars[i] for i in indices], (width, letters))
    if split.tags is not None:
        batch["tags"] = _pad([split.tags[i] for i in indices], (width,))
    return batch


def _pad(arrays: Sequence[np.ndarray], shape: tuple[int, ...]) -> torch.Tensor:
    out = np.zeros((len(arrays), *shape), dtype=np.int64)
    for row, array in enumerate(arrays):
        out[(row, *(slice(0, n) for n in array.shape))] = array
    return torch.from_numpy(out)


def tagging_batches(split: EncodedTagging, batch_size: int, shuffle: bool, seed: int = 0
                    ) -> list[dict[str, torch.Tensor]]:
    groups = bucket_batches(split.lengths, batch_size, shuffle=shuffle, seed=seed)
    return [make_tagging_batch(split, group) for group in groups]


class TaggingTask:
    """Sequence labelling for `train_task`: vocabularies from train, `TaggerConfig` from the
    options, length-bucketed batches, dev F1 (words for cws, entities for ner).

    Args:
        data: the splits.
        batch_size: sentences per update.
        max_vocab, min_count: the token vocabulary's bounds.
        bigram_min_count: drop rarer character bigrams (cws with bigram embeddings).
        bigram_max_vocab: keep at most this many bigrams, the most frequent (None: all).
        vectors: pretrained token vectors for the embedding (their size wins).
        bigrams: the model reads character bigrams (build their vocabulary).
        chars: the model reads each word's characters (build their vocabulary).
        vector_words: with `vectors`, up to this many of their words (in their order, most
            frequent first for word2vec files) join the token vocabulary, so that a dev or
            test word the training data lacks still gets its pretrained vector; a word the
            vocabulary lacks is then also looked up lower-cased. 0: training words only.
        bigram_vectors: pretrained character-bigram vectors for the bigram embedding (their
            size wins); bigrams they lack start random.
    """

    kind = KIND
    metric = "f1"
    mode = "max"

    def __init__(self, data: TaggingData, batch_size: int = 32, max_vocab: int | None = None,
                 min_count: int = 1, bigram_min_count: int = 2,
                 vectors: WordVectors | None = None, bigrams: bool = False,
                 chars: bool = False, bigram_max_vocab: int | None = None,
                 vector_words: int = 0, bigram_vectors: WordVectors | None = None) -> None:
        if vector_words < 0:
            raise ValueError(f"vector_words must be >= 0, got {vector_words}")
        self.data = data
        self.vector_words = vector_words if vectors is not None else 0
        self.bigram_max_vocab = bigram_max_vocab
        self.batch_size = batch_size
        self.max_vocab = max_vocab
        self.min_count = min_count
        self.bigram_min_count = bigram_min_count
        self.vectors = vectors
        self.bigram_vectors = bigram_vectors
        if bigram_vectors is not None and not bigrams:
            raise ValueError("bigram_vectors need a model that reads bigrams (bigrams=True)")
        self.bigrams = bigrams
        self.chars = chars
        self._cache: dict[tuple[int, int], EncodedTagging] = {}

    def build_vocabs(self) -> dict[str, Vocab]:
        extra: Sequence[str] = ()
        if self.vector_words and self.vectors is not None:
            extra = list(self.vectors.index_to_key[:self.vector_words])
        return build_tagging_vocabs(
            self.data, self.max_vocab, self.min_count,
            bigrams=self.bigrams, bigram_min_count=self.bigram_min_count, chars=self.chars,
            bigram_max_vocab=self.bigram_max_vocab, extra_tokens=extra)

    def model_config(self, options: Mapping[str, Any], vocabs: dict[str, Vocab]) -> Any:
        from seqnlp.models.tagger import TaggerConfig

        options = dict(options)
        if self.vectors is not None:
            options["embedding_dim"] = int(np.asarray(self.vectors.vectors).shape[1])
        if self.bigram_vectors is not None:
            options["bigram_dim"] = int(np.asarray(self.bigram_vectors.vectors).shape[1])
        if "bigrams" in vocabs and options.get("bigram_dim"):
            options["bigram_vocab_size"] = len(vocabs["bigrams"])
        if "chars" in vocabs and options.get("char_filters"):
            options["char_vocab_size"] = len(vocabs["chars"])
        return TaggerConfig(vocab_size=len(vocabs["tokens"]), tags=vocabs["tags"].itos,
                            scheme=self.data.scheme, **options)

    def init_model(self, model: Any, vocabs: dict[str, Vocab], seed: int) -> dict[str, Any]:
        train = self._encoded(self.data.train, vocabs)
        info: dict[str, Any] = {"train_tokens": int(train.lengths.sum())}
        if self.vectors is not None:
            matrix, coverage = pretrained_matrix(vocabs["tokens"].itos, self.vectors,
                                                 SPECIALS, 0, seed)
            info["coverage"] = coverage.rate  # the share of non-special words found
            model.load_embeddings(matrix)
        if self.bigram_vectors is not None:
            matrix, coverage = pretrained_matrix(vocabs["bigrams"].itos, self.bigram_vectors,
                                                 SPECIALS, 0, seed + 1)
            info["bigram_coverage"] = coverage.rate
            model.load_bigram_embeddings(matrix)
        return info

    def train_batches(self, vocabs: dict[str, Vocab], config: Any, seed: int) -> Callable:
        split = self._encoded(self.data.train, vocabs)
        return lambda epoch: tagging_batches(split, self.batch_size, True, seed + epoch)

    def dev_batches(self, vocabs: dict[str, Vocab], config: Any) -> list[dict] | None:
        if not self.data.dev:
            return None
        return tagging_batches(self._encoded(self.data.dev, vocabs), self.batch_size, False)

    def evaluate(self, model: Any, batches: Sequence[dict]) -> dict[str, float]:
        return evaluate_batches(model, batches, model.config.tags, model.config.scheme)

    def predict(self, loaded: Any, texts: Sequence[str]) -> list[list[str]]:
        """cws: the words of each text; ner: the tags of each whitespace-tokenized text."""
        from seqnlp.tasks.segment import segment_lines, tag_sentences

        if self.data.task == "cws":
            return segment_lines(loaded, texts)
        return tag_sentences(loaded, [text.split() for text in texts])

    def extra(self) -> dict[str, Any]:
        return {"data": self.data.name, "task": self.data.task,
                "normalize": "width" if self.data.task == "cws" else "",
                "lowercase_unknown": bool(self.vector_words)}

    def _encoded(self, sentences: list[TaggedSentence], vocabs: dict[str, Vocab]
                 ) -> EncodedTagging:
        key = (id(sentences), id(vocabs["tokens"]))
        if key not in self._cache:
            self._cache[key] = encode_tagging(sentences, vocabs,
                                              lowercase_unknown=bool(self.vector_words))
        return self._cache[key]


def evaluate_batches(model: Any, batches: Sequence[dict], tags: Sequence[str], scheme: str
                     ) -> dict[str, float]:
    """Span F1 (precision, recall, f1) and the mean loss over tagged batches."""
    gold, predicted, total, count = [], [], 0.0, 0
    model.eval()
    with torch.no_grad():
        for batch in batches:
            emissions, loss = model(**batch)
            decoded = model.decode(emissions, batch["lengths"])
            total += float(loss) * len(batch["lengths"])
            count += len(batch["lengths"])
            for row, length in enumerate(batch["lengths"].tolist()):
                gold.append(_spans(batch["tags"][row, :length].tolist(), tags, scheme))
                predicted.append(_spans(decoded[row, :length].tolist(), tags, scheme))
    scores = span_scores(gold, predicted).overall
    return {"f1": scores.f1, "precision": scores.precision, "recall": scores.recall,
            "loss": total / max(count, 1)}


def _spans(ids: Sequence[int], tags: Sequence[str], scheme: str) -> list[tuple[int, int, str]]:
    return [tuple(span) for span in spans_from_tags([tags[i] for i in ids], scheme)]
