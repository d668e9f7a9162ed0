"""Image captioning on the shared pipeline: `CaptioningTask` trains the captioner on
composites of handwritten digits (`captioning_data`) and selects it on dev exact match;
`caption_images` decodes captions (greedy or beam) with the attention over image columns
of each generated word, and `caption_scores` gives exact match and token accuracy, overall
and by the number of digits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from seqnlp.models.seq2seq import BOS_INDEX, EOS_INDEX, decode_ids
from seqnlp.tasks.captioning_data import DIGIT_NAMES, CaptionSplit, DigitPools, make_split
from seqnlp.text.vocab import DEFAULT_SPECIALS, Vocab

KIND = "captioner"


@dataclass
class Caption:
    """A generated caption: its words, log-probability and attention (T+1, W) over the
    image's columns (the last row for `<eos>`; None unless asked for)."""

    words: list[str]
    log_prob: float
    attention: np.ndarray | None = None


def caption_vocab() -> Vocab:
    """The specials and the ten digit names."""
    return Vocab([*DEFAULT_SPECIALS, *DIGIT_NAMES], specials=DEFAULT_SPECIALS)


@torch.no_grad()
def caption_images(model: Any, vocab: Vocab, images: Sequence[np.ndarray], beam: int = 1,
                   batch_size: int = 256, attention: bool = False) -> list[Caption]:
    """Caption images (each (8, W) in [0, 1]) in batches; output in input order."""
    from seqnlp.models.captioner import image_tensor
    from seqnlp.tasks.translation import pad_ids

    model.eval()
    device = next(model.parameters()).device
    out: list[Caption] = []
    for start in range(0, len(images), batch_size):
        chunk = list(images[start:start + batch_size])
        pixels, widths = image_tensor(chunk, device)
        # at most twice the digits an image could hold, plus 4: a caption that never ends is
        # cut at its own image's limit, so the batch it was decoded in does not matter
        limits = [image.shape[1] // 8 * 2 + 4 for image in chunk]
        found = decode_ids(model.step, model.start(pixels, widths), len(chunk), beam,
                           max(limits))
        found = [[(ids[:limit], lp) for ids, lp in row] for row, limit in zip(found, limits)]
        best = [row[0][0] for row in found]
        weights = None
        if attention and model.config.attention != "none":
            inputs, _ = pad_ids([np.asarray([BOS_INDEX, *ids]) for ids in best], device)
            _, stacked = model.teacher_forced(pixels, widths, inputs)
            columns = (widths // 2).tolist()
            weights = [stacked[b, : len(best[b]) + 1, : columns[b]].cpu().numpy()
                       for b in range(len(chunk))]
        for b, row in enumerate(found):
            out.append(Caption([vocab.itos[i] for i in best[b]], row[0][1],
                               None if weights is None else weights[b]))
    return out


def caption_scores(predicted: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]
                   ) -> dict[str, float]:
    """Exact match and token accuracy (gold positions whose word the prediction has at the
    same position), overall and by the number of gold words (`exact_4`, ...)."""
    scores: dict[str, float] = {}
    lengths = sorted({len(g) for g in gold})
    for name, keep in [("", None), *((f"_{n}", n) for n in lengths)]:
        rows = [(p, g) for p, g in zip(predicted, gold) if keep is None or len(g) == keep]
        exact = np.mean([list(p) == list(g) for p, g in rows]) if rows else 0.0
        right = sum(sum(a == b for a, b in zip(p, g)) for p, g in rows)
        total = sum(len(g) for _, g in rows)
        scores[f"exact{name}"] = float(exact)
        scores[f"token_accuracy{name}"] = right / max(total, 1)
    scores["examples"] = float(len(gold))
    return scores


class CaptioningTask:
    """Digit captioning for `train_task`.

    Args:
        pools: the split digit images.
        train_examples, dev_examples: composites generated per split.
        batch_size: images per update.
        seed: seeds the composites (the image split has its own seed in `pools`).
        max_digits: the most digits per composite.
        shift: training composites move each digit by up to this many pixels
            (augmentation; dev composites are never moved).
        fresh: draw `train_examples` new training composites every epoch (epoch 1 reads
            the same ones as without it), rather than reading the same ones again.
    """

    kind = KIND
    metric = "exact"
    mode = "max"

    def __init__(self, pools: DigitPools, train_examples: int = 20_000,
                 dev_examples: int = 1_000, batch_size: int = 64, seed: int = 0,
                 max_digits: int = 4, shift: int = 0, fresh: bool = False) -> None:
        self.pools, self.batch_size, self.seed = pools, batch_size, seed
        self.max_digits, self.shift, self.fresh = max_digits, shift, fresh
        self.train = make_split(pools, "train", train_examples, seed, max_digits=max_digits,
                                shift=shift)
        self.dev = make_split(pools, "dev", dev_examples, seed, max_digits=max_digits)
        self.vocabs = {"tokens": caption_vocab()}

    def build_vocabs(self) -> dict[str, Vocab]:
        return self.vocabs

    def model_config(self, options: Mapping[str, Any], vocabs: dict[str, Vocab]) -> Any:
        from seqnlp.models.captioner import CaptionerConfig

        return CaptionerConfig(vocab_size=len(vocabs["tokens"]), **dict(options))

    def init_model(self, model: Any, vocabs: dict[str, Vocab], seed: int) -> dict[str, Any]:
        return {"train_examples": len(self.train), "dev_examples": len(self.dev)}

    def train_batches(self, vocabs: dict[str, Vocab], config: Any, seed: int) -> Callable:
        return lambda epoch: self._batches(self._train_split(epoch), True, seed + epoch)

    def _train_split(self, epoch: int) -> CaptionSplit:
        if not self.fresh or epoch == 0:
            return self.train
        return make_split(self.pools, "train", len(self.train), (self.seed << 16) + epoch,
                          max_digits=self.max_digits, shift=self.shift)

    def dev_batches(self, vocabs: dict[str, Vocab], config: Any) -> list[dict]:
        return self._batches(self.dev, False, 0)

    def _batches(self, split: CaptionSplit, shuffle: bool, seed: int) -> list[dict]:
        from seqnlp.models.captioner import image_tensor
        from seqnlp.tasks.translation import pad_ids

        vocab = self.vocabs["tokens"]
        captions = split.captions  # a property that builds every caption: read it once
        order = np.arange(len(split))
        if shuffle:
            order = np.random.default_rng(seed).permutation(len(split))
        batches = []
        for start in range(0, len(order), self.batch_size):
            chunk = order[start:start + self.batch_size]
            images, widths = image_tensor([split.images[i] for i in chunk])
            targets = [np.concatenate([[BOS_INDEX], vocab.encode(captions[i]), [EOS_INDEX]])
                       for i in chunk]
            batches.append({"images": images, "widths": widths, "target": pad_ids(targets)[0]})
        return batches

    def evaluate(self, model: Any, batches: Sequence[dict]) -> dict[str, float]:
        losses = [float(model(**batch)[1]) for batch in batches]
        found = caption_images(model, self.vocabs["tokens"], self.dev.images)
        scores = caption_scores([c.words for c in found], self.dev.captions)
        return {"exact": scores["exact"], "token_accuracy": scores["token_accuracy"],
                "loss": float(np.mean(losses))}

    def predict(self, loaded: Any, texts: Sequence[str]) -> list[str]:
        """Captions of composites of the given digits ("3 1 4"), drawn from test images."""
        from seqnlp.tasks.captioning_data import compose, parse_digits

        rng = np.random.default_rng(self.seed)
        images = [compose(self.pools.pools["test"], parse_digits(t), rng) for t in texts]
        return [" ".join(c.words) for c in caption_images(loaded.model, loaded.vocab, images)]

    def extra(self) -> dict[str, Any]:
        return {"data": "digits", "split_seed": self.pools.seed, "seed": self.seed,
                "max_digits": self.max_digits}
