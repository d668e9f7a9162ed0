"""Applying a trained tagger to raw input: Chinese word segmentation of lines as the user
wrote them, and tags for tokenized sentences.

Segmentation keeps every character of the input: whitespace already separates words (and
is not a word), a full-width form is read as its ASCII twin but written back as typed, a
run of Latin letters and digits is never cut inside, a URL is one word, and the words of a
user list (`user_words`) are never cut inside and always cut at their edges. Long
stretches without whitespace are read in pieces of at most `max_chunk` characters, cut
after sentence punctuation where possible. Pieces are batched by length for speed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

import torch

from seqnlp.nn.rnn import sequence_mask
from seqnlp.text.chinese import normalize_width

_URL = re.compile(r"(?:https?://|www\.)[\x21-\x7e]+")
_LATIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_%@'+]*")
_CUT_AFTER = set("。！？；，、!?;,")


def segment_lines(loaded: Any, lines: Iterable[str], batch_size: int = 256,
                  user_words: Collection[str] = (), max_chunk: int = 256) -> list[list[str]]:
    """The words of each line (an empty list for a blank line).

    Args:
        loaded: a `LoadedTagger` of task "cws", or a list of them: an ensemble, whose
            words are the tag path of the best mean score (`mean_decoder`).
        lines: the texts, one sentence (or paragraph) each.
        batch_size: pieces per forward pass.
        user_words: words never to cut inside, always cut around.
        max_chunk: the longest piece read at once.
    """
    lines = list(lines)
    pieces: list[tuple[int, str]] = []  # (line number, text without whitespace)
    for number, line in enumerate(lines):
        for match in re.finditer(r"\S+", line):
            pieces.extend((number, chunk) for chunk in _chunks(match.group(), max_chunk))
    cuts = _model_cuts(loaded, [text for _, text in pieces], batch_size)
    lexicon = _Lexicon(user_words)
    words: dict[int, list[str]] = {}
    for (number, text), piece_cuts in zip(pieces, cuts):
        words.setdefault(number, []).extend(_split(text, _forced(text, piece_cuts, lexicon)))
    return [words.get(number, []) for number in range(len(lines))]


def _chunks(text: str, size: int) -> list[str]:
    """`text` in pieces of at most `size`, each cut after punctuation where there is one."""
    chunks = []
    while len(text) > size:
        cut = max((i + 1 for i in range(size // 2, size) if text[i] in _CUT_AFTER), default=size)
        chunks.append(text[:cut])
        text = text[cut:]
    return [*chunks, text] if text else chunks


def _model_cuts(loaded: Any, texts: Sequence[str], batch_size: int) -> list[set[int]]:
    """For each text, the offsets where the model (or ensemble) starts a new word (0
    excluded)."""
    from seqnlp.tasks.tagging import CharacterEncoder

    members = list(loaded) if isinstance(loaded, (list, tuple)) else [loaded]
    encoded = []
    for member in members:  # each reads the texts through its own vocabularies
        encoder = getattr(member, "_character_encoder", None)
        if encoder is None:  # built once per loaded model
            encoder = member._character_encoder = CharacterEncoder(member.vocabs)
        normalize = member.normalize == "width"
        encoded.append(encoder.encode([normalize_width(t) if normalize else t for t in texts]))
    tags = members[0].model.config.tags
    starts = {i for i, tag in enumerate(tags) if tag in ("B", "S")}
    ends = {i for i, tag in enumerate(tags) if tag in ("E", "S")}
    return [{t for t in range(1, len(path)) if path[t] in starts or path[t - 1] in ends}
            for path in _decode([m.model for m in members], encoded, batch_size)]


def _decode(models: Sequence[Any], encoded: Sequence[Any], batch_size: int
            ) -> list[list[int]]:
    """The best tag ids of each item, in input order, batched by length; `encoded[i]` is
    the items as `models[i]` reads them. Several models decode their mean (`mean_decoder`)."""
    from seqnlp.tasks.tagging import make_tagging_batch

    for model in models:
        model.eval()
    decode = mean_decoder(models)
    lengths = [len(t) for t in encoded[0].tokens]
    paths: list[list[int]] = [[] for _ in lengths]
    with torch.no_grad():
        for group in length_batches(lengths, batch_size):
            emissions = []
            for model, items in zip(models, encoded):
                batch = make_tagging_batch(items, group)
                emissions.append(model(**batch)[0])
            decoded = decode(emissions, batch["lengths"]).tolist()
            for row, index in enumerate(group):
                paths[index] = decoded[row][: lengths[index]]
    return paths


def mean_decoder(models: Sequence[Any]) -> Callable[[Sequence[torch.Tensor], torch.Tensor],
                                                    torch.Tensor]:
    """A function from the models' emissions and the lengths to the tag path of the best
    mean score over taggers of the same tags: with CRFs, Viterbi over the mean of their
    emissions and of their transition, start and end scores (a path's score under those is
    the mean of its scores under each model); without, the argmax of the mean emissions.
    One model decodes as it does alone. The checks and the mean CRF are made once here.

    Raises:
        ValueError: models with other tags, or CRFs with other allowed transitions.
    """
    first = models[0]
    if len(models) == 1:
        return lambda emissions, lengths: first.decode(emissions[0], lengths)
    for other in models[1:]:
        if other.config.tags != first.config.tags:
            raise ValueError(f"an ensemble's taggers must share their tags: "
                             f"{first.config.tags} and {other.config.tags}")
        if (other.crf is None) != (first.crf is None) or (
                first.crf is not None and not all(
                    torch.equal(getattr(first.crf, name), getattr(other.crf, name))
                    for name in ("transition_penalty", "start_penalty", "end_penalty"))):
            raise ValueError("an ensemble's taggers must all have a CRF with the same allowed "
                             "transitions, or none")
    crf = None
    if first.crf is not None:
        crf = copy.deepcopy(first.crf)
        for name in ("transitions", "start", "end"):
            getattr(crf, name).data = torch.stack(
                [getattr(m.crf, name).data for m in models]).mean(0)

    def decode(emissions: Sequence[torch.Tensor], lengths: torch.Tensor) -> torch.Tensor:
        mean = torch.stack(list(emissions)).mean(0)
        mask = sequence_mask(lengths, mean.size(1))
        if crf is None:
            return mean.argmax(2).masked_fill(~mask, 0)
        return crf.decode(mean, mask)[0]

    return decode


MAX_BATCH_CHARS = 16_384  # padded characters per forward pass: bounds the activations' memory


def length_batches(lengths: Sequence[int], batch_size: int,
                   max_chars: int = MAX_BATCH_CHARS) -> list[list[int]]:
    """Indices grouped shortest first into batches of at most `batch_size` items and
    about `max_chars` padded positions (one long item may exceed it alone)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        if current and (len(current) == batch_size
                        or (len(current) + 1) * lengths[index] > max_chars):
            batches.append(current)
            current = []
        current.append(index)
    return [*batches, current] if current else batches


class _Lexicon:
    """User words, matched longest first at each position."""

    def __init__(self, words: Collection[str]) -> None:
        self.words = {w for w in words if len(w) > 1}
        self.lengths = sorted({len(w) for w in self.words}, reverse=True)

    def spans(self, text: str) -> list[tuple[int, int]]:
        found, i = [], 0
        while i < len(text) and self.words:
            for size in self.lengths:
                if text[i : i + size] in self.words:
                    found.append((i, i + size))
                    i += size
                    break
            else:
                i += 1
        return found


def _forced(text: str, cuts: set[int], lexicon: _Lexicon) -> set[int]:
    """The model's cuts, corrected: none inside a Latin run, a URL or a user word; cuts
    around URLs and user words."""
    cuts = set(cuts)
    normalized = normalize_width(text)
    whole = [(m.start(), m.end()) for m in _URL.finditer(normalized)]
    inside_only = [(m.start(), m.end()) for m in _LATIN.finditer(normalized)]
    whole += lexicon.spans(text)
    for start, end in inside_only + whole:
        cuts -= set(range(start + 1, end))
    for start, end in whole:
        cuts |= {start, end} - {0, len(text)}
    return cuts


def _split(text: str, cuts: set[int]) -> list[str]:
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(text)), len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:])]


def tag_sentences(loaded: Any, sentences: Sequence[Sequence[str]], batch_size: int = 64
                  ) -> list[list[str]]:
    """The tags of each tokenized sentence (an empty list for an empty one)."""
    from seqnlp.tasks.tagging import encode_tagging

    tags = loaded.model.config.tags
    result: list[list[str]] = [[] for _ in sentences]
    real = [i for i, s in enumerate(sentences) if len(s)]
    encoded = encode_tagging([sentences[i] for i in real], loaded.vocabs, with_tags=False,
                             lowercase_unknown=getattr(loaded, "lowercase_unknown", False))
    for index, path in zip(real, _decode([loaded.model], [encoded], batch_size)):
        result[index] = [tags[t] for t in path]
    return result
