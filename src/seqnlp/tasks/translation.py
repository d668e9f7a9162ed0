"""Translation on the shared pipeline: `TranslationTask` plugs the seq2seq model into
`train_task` (tokenizers and vocabularies from the training side only, length-bucketed
batches, dev sacreBLEU of greedy output for model selection); `Translator` turns raw
sentences into translations with greedy or beam search, returns the attention of the
chosen hypothesis, and can replace unknown words by their most-attended source token.

The attention weights of a hypothesis are recomputed after the search by reading its tokens
back through the decoder (teacher forcing): the decoder is deterministic in eval mode, so
they are the weights the search saw, and `seqnlp.decoding` keeps its step-only interface.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from seqnlp.models.seq2seq import BOS_INDEX, EOS_INDEX, PAD_INDEX, UNK_INDEX, decode_ids
from seqnlp.tasks.translation_data import ParallelData
from seqnlp.tasks.translation_eval import translation_scores
from seqnlp.text import bucket_batches
from seqnlp.text.subword import Tokenizer, tokenizers_to_dict, train_tokenizer
from seqnlp.text.vocab import DEFAULT_SPECIALS, Vocab

KIND = "seq2seq"
MAX_DECODE_LEN = 256  # generated tokens per sentence, at most
DEFAULT_STOPPING = "heuristic"  # beam search's stopping rule (seqnlp.decoding.beam.STOPPING)


@dataclass
class Translation:
    """One translated sentence.

    Attributes:
        text: the detokenized translation.
        tokens: its target tokens (after any unknown-word replacement).
        source_tokens: the tokens the model read.
        log_prob: the model's log-probability of the tokens (`<eos>` included).
        attention: (len(tokens) + 1, len(source_tokens)) weights, the last row for `<eos>`
            (None unless asked for, or without attention).
        alternatives: the other n-best translations as (text, log_prob).
    """

    text: str
    tokens: list[str]
    source_tokens: list[str]
    log_prob: float = 0.0
    attention: np.ndarray | None = None
    alternatives: list[tuple[str, float]] = field(default_factory=list)


class Translator:
    """A seq2seq model with its tokenizers and vocabularies, translating raw text."""

    def __init__(self, model: Any, source_tokenizer: Tokenizer, target_tokenizer: Tokenizer,
                 source_vocab: Vocab, target_vocab: Vocab) -> None:
        self.model = model
        self.source_tokenizer, self.target_tokenizer = source_tokenizer, target_tokenizer
        self.source_vocab, self.target_vocab = source_vocab, target_vocab

    @classmethod
    def from_loaded(cls, loaded: Any) -> Translator:
        """The translator of a `load_model` result."""
        from seqnlp.text.subword import tokenizers_from_dict

        source, target = tokenizers_from_dict(loaded.tokenizer)
        return cls(loaded.model, source, target, loaded.vocabs["source"], loaded.vocabs["target"])

    def translate(self, texts: Sequence[str], beam: int = 1, batch_size: int = 64,
                  alpha: float = 0.0, n_best: int = 1, replace_unk: bool = False,
                  attention: bool = False, min_len: int = 0,
                  stopping: str = DEFAULT_STOPPING) -> list[Translation]:
        """Translate raw sentences, in batches of similar length; output in input order.

        Args:
            texts: raw source sentences (an empty one translates to "").
            beam: the beam size (1: greedy search).
            batch_size: sentences decoded together.
            alpha: beam search's GNMT length-penalty exponent.
            n_best: translations per sentence (the best in `text`, others in alternatives).
            replace_unk: replace each `<unk>` by the source token it attends to most.
            attention: return the attention matrix of each translation.
            min_len: the fewest tokens generated, `<eos>` included.
            stopping: beam search's stopping rule (`seqnlp.decoding.beam`): "heuristic"
                closes a sentence once no alive prefix would beat its K finished ones by
                ending now; "exact" keeps it open while any could by the length penalty's
                bound (slower, the same translations without a length penalty).
        """
        self.model.eval()
        source_tokens = [self.source_tokenizer.tokenize(t) for t in texts]
        results: list[Translation | None] = [None] * len(texts)
        for index, tokens in enumerate(source_tokens):
            if not tokens:
                results[index] = Translation("", [], [])
        todo = [i for i, tokens in enumerate(source_tokens) if tokens]
        todo.sort(key=lambda i: -len(source_tokens[i]))
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            done = self._translate_batch([source_tokens[i] for i in chunk], beam, alpha, n_best,
                                         replace_unk, attention, min_len, stopping)
            for i, translation in zip(chunk, done):
                results[i] = translation
        return [r for r in results if r is not None]

    @torch.no_grad()
    def _translate_batch(self, sources: list[list[str]], beam: int, alpha: float, n_best: int,
                         replace_unk: bool, attention: bool, min_len: int,
                         stopping: str = "exact") -> list[Translation]:
        device = next(self.model.parameters()).device
        source, lengths = pad_ids([self.source_vocab.encode(s) for s in sources], device)
        max_len = min(MAX_DECODE_LEN, int(1.5 * source.size(1)) + 10)
        state = self.model.start(source, lengths)
        found = decode_ids(self.model.step, state, len(sources), beam, max_len,
                           min(min_len, max_len), alpha, n_best, stopping)
        best = [row[0][0] for row in found]
        weights = None
        if (attention or replace_unk) and self.model.config.attention != "none":
            weights = self.attention(source, lengths, best)
        out = []
        for b, row in enumerate(found):
            matrix = None if weights is None else weights[b][: len(best[b]) + 1, : len(sources[b])]
            tokens = self._tokens(best[b], sources[b], matrix if replace_unk else None)
            alternatives = [(self.target_tokenizer.detokenize(self._tokens(ids, sources[b])), lp)
                            for ids, lp in row[1:]]
            out.append(Translation(self.target_tokenizer.detokenize(tokens), tokens, sources[b],
                                   row[0][1], matrix if attention else None, alternatives))
        return out

    def attention(self, source: torch.Tensor, lengths: torch.Tensor, outputs: list[list[int]]
                  ) -> list[np.ndarray]:
        """The attention (T+1, S) of each output (ids without `<eos>`), `<eos>` step last."""
        rows = [[BOS_INDEX, *ids] for ids in outputs]
        inputs, _ = pad_ids([np.asarray(r, dtype=np.int64) for r in rows], source.device)
        _, weights = self.model.teacher_forced(source, lengths, inputs)
        return [w.cpu().numpy() for w in weights]

    def _tokens(self, ids: list[int], source: list[str], weights: np.ndarray | None = None
                ) -> list[str]:
        itos = self.target_vocab.itos
        tokens = [itos[i] for i in ids]
        if weights is not None:
            tokens = [source[int(weights[j].argmax())] if i == UNK_INDEX else tok
                      for j, (i, tok) in enumerate(zip(ids, tokens))]
        return tokens


def pad_ids(rows: Sequence[np.ndarray], device: torch.device | None = None
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids (B, T) and lengths (B,)."""
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    ids = np.full((len(rows), int(lengths.max())), PAD_INDEX, dtype=np.int64)
    for row, array in zip(ids, rows):
        row[: len(array)] = array
    return torch.from_numpy(ids).to(device), torch.from_numpy(lengths).to(device)


def evaluate_translator(translator: Translator, pairs: Sequence[tuple[str, str]],
                        beam: int = 1, batch_size: int = 64, alpha: float = 0.0,
                        replace_unk: bool = False, stopping: str = DEFAULT_STOPPING
                        ) -> dict[str, Any]:
    """sacreBLEU, chrF and tokenized BLEU of `pairs`, with decoding speed."""
    start = time.perf_counter()
    outputs = translator.translate([s for s, _ in pairs], beam, batch_size, alpha,
                                   replace_unk=replace_unk, stopping=stopping)
    seconds = time.perf_counter() - start
    scores = translation_scores([o.text for o in outputs], [t for _, t in pairs])
    scores.update({"beam": beam, "decode_seconds": seconds,
                   "sentences_per_second": len(pairs) / max(seconds, 1e-9)})
    return scores


class TranslationTask:
    """Translation for `train_task`: tokenizers and vocabularies from the training pairs,
    `Seq2SeqConfig` from the options, length-bucketed batches, dev sacreBLEU (greedy).

    Args:
        data: the sentence pairs.
        tokenizer: "sentencepiece" (subword units, one model per language) or "words".
        vocab_size: sentencepiece: pieces per language; words: the most tokens kept (0 all).
        subword_type: "bpe" or "unigram".
        min_count: words: drop rarer training tokens.
        lowercase: words: lowercase everything.
        batch_size: sentence pairs per update.
        max_length: leave out training pairs longer than this (tokens, either side).
    """

    kind = KIND
    metric = "bleu"
    mode = "max"

    def __init__(self, data: ParallelData, tokenizer: str = "sentencepiece",
                 vocab_size: int = 8000, subword_type: str = "bpe", min_count: int = 1,
                 lowercase: bool = False, batch_size: int = 64, max_length: int = 100) -> None:
        self.data = data
        self.tokenizer, self.vocab_size, self.subword_type = tokenizer, vocab_size, subword_type
        self.min_count, self.lowercase = min_count, lowercase
        self.batch_size, self.max_length = batch_size, max_length
        self.tokenizers: tuple[Tokenizer, Tokenizer] | None = None
        self.vocabs: dict[str, Vocab] = {}  # set by build_vocabs
        self._encoded: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}

    def build_vocabs(self) -> dict[str, Vocab]:
        sides = []
        for column in (0, 1):
            text = [pair[column] for pair in self.data.train]
            tokenizer = train_tokenizer(self.tokenizer, text, self.vocab_size,
                                        self.subword_type, self.lowercase)
            sides.append((tokenizer, [tokenizer.tokenize(t) for t in text]))
        self.tokenizers = (sides[0][0], sides[1][0])
        vocabs = {name: self._vocab(tokenizer, tokens)
                  for name, (tokenizer, tokens) in zip(("source", "target"), sides)}
        self._encoded["train"] = self._encode_tokens(sides[0][1], sides[1][1], vocabs, True)
        self.vocabs = vocabs
        return vocabs

    def _vocab(self, tokenizer: Any, tokenized: list[list[str]]) -> Vocab:
        from collections import Counter

        counts = Counter(token for tokens in tokenized for token in tokens)
        if self.tokenizer == "sentencepiece":  # every piece, so that none reads as <unk>
            counts.update({piece: 0 for piece in tokenizer.pieces() if piece not in counts})
            return Vocab.from_counts(counts, min_count=0, specials=DEFAULT_SPECIALS)
        return Vocab.from_counts(counts, min_count=self.min_count,
                                 max_size=self.vocab_size or None, specials=DEFAULT_SPECIALS)

    def _encode_tokens(self, sources: list[list[str]], targets: list[list[str]],
                       vocabs: dict[str, Vocab], limit: bool
                       ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        out_s, out_t = [], []
        for s, t in zip(sources, targets):
            if not s or (limit and max(len(s), len(t)) > self.max_length):
                continue
            out_s.append(vocabs["source"].encode(s))
            out_t.append(np.concatenate([[BOS_INDEX], vocabs["target"].encode(t), [EOS_INDEX]]))
        return out_s, out_t

    def model_config(self, options: Mapping[str, Any], vocabs: dict[str, Vocab]) -> Any:
        from seqnlp.models.seq2seq import Seq2SeqConfig

        return Seq2SeqConfig(source_vocab_size=len(vocabs["source"]),
                             target_vocab_size=len(vocabs["target"]), **dict(options))

    def init_model(self, model: Any, vocabs: dict[str, Vocab], seed: int) -> dict[str, Any]:
        sources, targets = self._encoded["train"]
        return {"train_pairs": len(sources), "left_out": len(self.data.train) - len(sources),
                "source_tokens": int(sum(len(s) for s in sources)),
                "target_tokens": int(sum(len(t) - 2 for t in targets))}

    def train_batches(self, vocabs: dict[str, Vocab], config: Any, seed: int) -> Callable:
        sources, targets = self._encoded["train"]
        return lambda epoch: self._batches(sources, targets, True, seed + epoch)

    def dev_batches(self, vocabs: dict[str, Vocab], config: Any) -> list[dict] | None:
        if not self.data.dev:
            return None
        assert self.tokenizers is not None
        source, target = self.tokenizers
        sources = [source.tokenize(s) for s, _ in self.data.dev]
        targets = [target.tokenize(t) for _, t in self.data.dev]
        return self._batches(*self._encode_tokens(sources, targets, vocabs, False), False, 0)

    def _batches(self, sources: list[np.ndarray], targets: list[np.ndarray], shuffle: bool,
                 seed: int) -> list[dict[str, torch.Tensor]]:
        groups = bucket_batches([len(s) for s in sources], self.batch_size, shuffle, seed)
        batches = []
        for group in groups:
            source, lengths = pad_ids([sources[i] for i in group])
            target, _ = pad_ids([targets[i] for i in group])
            batches.append({"source": source, "source_lengths": lengths, "target": target})
        return batches

    def evaluate(self, model: Any, batches: Sequence[dict]) -> dict[str, float]:
        """Mean dev loss, and sacreBLEU / chrF of greedy translations of the dev sources."""
        losses = [float(model(**batch)[1]) for batch in batches]
        translator = self.translator(model, self.vocabs)
        scores = evaluate_translator(translator, self.data.dev, beam=1, batch_size=128)
        return {"bleu": scores["bleu"], "chrf": scores["chrf"],
                "loss": float(np.mean(losses)) if losses else float("nan")}

    def translator(self, model: Any, vocabs: dict[str, Vocab]) -> Translator:
        assert self.tokenizers is not None, "build_vocabs first"
        return Translator(model, *self.tokenizers, vocabs["source"], vocabs["target"])

    def predict(self, loaded: Any, texts: Sequence[str]) -> list[str]:
        return [t.text for t in Translator.from_loaded(loaded).translate(texts)]

    def extra(self) -> dict[str, Any]:
        assert self.tokenizers is not None, "build_vocabs first"
        return {"data": self.data.name, "tokenizer": tokenizers_to_dict(*self.tokenizers),
                "languages": [self.data.source_lang, self.data.target_lang]}
