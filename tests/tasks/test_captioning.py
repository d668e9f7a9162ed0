"""Captioning on digit composites: held-out IMAGES (not only combinations), the image
encoder's padding, the captioner reusing the seq2seq decoder (step == teacher forcing,
beam 1 == greedy), scores, save/load, and a small model that learns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import seqnlp.models.captioner  # noqa: F401  (registers the kind)
from seqnlp.models.captioner import Captioner, CaptionerConfig, image_tensor
from seqnlp.models.seq2seq import BOS_INDEX, EOS_INDEX, AttentionDecoder
from seqnlp.tasks.captioning import caption_images, caption_scores, caption_vocab
from seqnlp.tasks.captioning_data import (
    DIGIT_NAMES,
    compose,
    load_digit_pools,
    make_split,
    parse_digits,
    shifted,
)

pytest.importorskip("sklearn")
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def pools():  # type: ignore[no-untyped-def]
    return load_digit_pools(seed=0)


def test_test_images_are_held_out_from_training_images(pools) -> None:  # type: ignore[no-untyped-def]
    def keys(split: str) -> set[bytes]:
        return {image.tobytes() for group in pools.pools[split] for image in group}

    train, dev, test = keys("train"), keys("dev"), keys("test")
    assert not train & test and not dev & test and not train & dev
    assert all(len(group) > 0 for split in ("train", "dev", "test")
               for group in pools.pools[split])


def test_composites_stand_side_by_side_and_are_captioned_by_name(pools) -> None:  # type: ignore[no-untyped-def]
    split = make_split(pools, "test", 50, seed=3)
    assert {len(d) for d in split.digits} <= {1, 2, 3, 4}
    for image, digits, caption in zip(split.images, split.digits, split.captions):
        assert image.shape == (8, 8 * len(digits))
        assert caption == [DIGIT_NAMES[d] for d in digits]
    test_pixels = {im.tobytes() for group in pools.pools["test"] for im in group}
    first = split.images[0]
    assert all(first[:, 8 * k:8 * k + 8].tobytes() in test_pixels
               for k in range(first.shape[1] // 8))
    again = make_split(pools, "test", 50, seed=3)
    assert again.digits == split.digits


def test_a_shifted_digit_moves_whole_pixels_and_fills_with_zeros() -> None:
    image = np.arange(1, 65, dtype=np.float32).reshape(8, 8)
    assert np.array_equal(shifted(image, 0, 0), image)
    down_left = shifted(image, 1, -2)
    assert np.array_equal(down_left[1:, :6], image[:7, 2:])
    assert not down_left[0].any() and not down_left[:, 6:].any()
    up_right = shifted(image, -3, 1)
    assert np.array_equal(up_right[:5, 1:], image[3:, :7])
    assert not up_right[5:].any() and not up_right[:, 0].any()


def test_shifted_composites_hold_each_digit_moved_at_most_shift_pixels(pools) -> None:  # type: ignore[no-untyped-def]
    split = make_split(pools, "train", 40, seed=3, shift=1)
    moves = {(down, right) for down in (-1, 0, 1) for right in (-1, 0, 1)}
    seen = set()
    for image, digits in zip(split.images, split.digits):
        for k, digit in enumerate(digits):
            cell = image[:, 8 * k:8 * (k + 1)]
            found = {move for move in moves for candidate in pools.pools["train"][digit]
                     if np.array_equal(shifted(candidate, *move), cell)}
            assert found, f"cell {k} of {digits} is no training {digit} moved by 1 pixel"
            seen |= found
    assert len(seen) > 4  # the moves vary
    with pytest.raises(ValueError, match="shift"):
        make_split(pools, "train", 1, seed=0, shift=8)


def test_batches_build_the_captions_of_a_split_once(pools) -> None:  # type: ignore[no-untyped-def]
    # `captions` builds every caption of the split; read per item it made building an
    # epoch's batches quadratic (20,000 composites: minutes per epoch).
    from seqnlp.tasks.captioning import CaptioningTask
    from seqnlp.tasks.captioning_data import CaptionSplit

    class Counting(CaptionSplit):
        reads = 0

        @property
        def captions(self) -> list[list[str]]:
            Counting.reads += 1
            return super().captions

    task = CaptioningTask(pools, 100, 20, 16, seed=0)
    split = Counting(task.train.images, task.train.digits)
    batches = task._batches(split, False, 0)
    assert Counting.reads == 1 and sum(len(b["target"]) for b in batches) == 100


def test_fresh_training_composites_are_new_each_epoch_and_dev_stays(pools) -> None:  # type: ignore[no-untyped-def]
    from seqnlp.tasks.captioning import CaptioningTask

    fixed = CaptioningTask(pools, 200, 50, 32, seed=1)
    fresh = CaptioningTask(pools, 200, 50, 32, seed=1, fresh=True)
    first, again = fresh.train_batches(fresh.vocabs, None, 1)(0), \
        fixed.train_batches(fixed.vocabs, None, 1)(0)
    assert all(torch.equal(a["images"], b["images"]) for a, b in zip(first, again))
    second = fresh.train_batches(fresh.vocabs, None, 1)(1)
    assert sum(len(b["target"]) for b in second) == 200
    assert not all(a["images"].shape == b["images"].shape and torch.equal(a["images"], b["images"])
                   for a, b in zip(fresh.train_batches(fresh.vocabs, None, 1)(1),
                                   fixed.train_batches(fixed.vocabs, None, 1)(1)))
    assert [b["images"].shape for b in second] == \
        [b["images"].shape for b in fresh.train_batches(fresh.vocabs, None, 1)(1)]  # seeded
    assert all(torch.equal(a["images"], b["images"]) for a, b in
               zip(fresh.dev_batches(fresh.vocabs, None), fixed.dev_batches(fixed.vocabs, None)))


@pytest.mark.parametrize("text, digits", [("3 1 4", (3, 1, 4)), ("314", (3, 1, 4)),
                                          ("three One", (3, 1))])
def test_digits_are_parsed_from_figures_or_names(text: str, digits: tuple[int, ...]) -> None:
    assert parse_digits(text) == digits


@pytest.mark.parametrize("text", ["", "3 x", "12 3"])
def test_other_text_is_not_digits(text: str) -> None:
    with pytest.raises(ValueError):
        parse_digits(text)


def test_the_padding_of_a_batch_does_not_change_an_image_s_memory(pools) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    model = Captioner(CaptionerConfig(vocab_size=14, channels=8, hidden_size=6)).eval()
    rng = np.random.default_rng(0)
    short = compose(pools.pools["test"], (3,), rng)
    wide = compose(pools.pools["test"], (1, 2, 3, 4), rng)
    with torch.no_grad():
        alone = model.encode(*image_tensor([short]))
        batched = model.encode(*image_tensor([short, wide]))
    assert torch.allclose(alone[0][0], batched[0][0, :4], atol=1e-6)
    assert torch.allclose(alone[2][0], batched[2][0], atol=1e-6)
    assert batched[1][0].tolist() == [True] * 4 + [False] * 12


def test_the_captioner_reuses_the_seq2seq_decoder_and_steps_like_its_forward(pools) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(1)
    model = Captioner(CaptionerConfig(vocab_size=14, channels=8, hidden_size=6,
                                      attention="bahdanau")).eval()
    assert isinstance(model.decoder, AttentionDecoder)
    split = make_split(pools, "dev", 3, seed=0)
    images, widths = image_tensor(split.images)
    inputs = torch.tensor([[BOS_INDEX, 5, 6, 7]] * 3)
    with torch.no_grad():
        hidden, weights = model.teacher_forced(images, widths, inputs)
        forced = torch.log_softmax(model.decoder.output(hidden), -1)
        state = model.start(images, widths)
        for t in range(4):
            log_probs, state = model.step(state, inputs[:, t])
            assert torch.allclose(log_probs, forced[:, t], atol=1e-5)
    assert weights.shape == (3, 4, int(widths.max()) // 2)


def test_beam_of_one_equals_greedy_for_the_captioner(pools) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(2)
    model = Captioner(CaptionerConfig(vocab_size=14, channels=8, hidden_size=6)).eval()
    images = make_split(pools, "dev", 4, seed=0).images
    vocab = caption_vocab()
    assert [c.words for c in caption_images(model, vocab, images, beam=1)] == \
        [c.words for c in caption_images(model, vocab, images, beam=1, batch_size=1)]
    from seqnlp.decoding import beam_search, greedy_search

    pixels, widths = image_tensor(images)
    bos = torch.full((4,), BOS_INDEX)
    greedy = greedy_search(model.step, model.start(pixels, widths), bos, EOS_INDEX, 10)
    beams = beam_search(model.step, model.start(pixels, widths), bos, EOS_INDEX, 1, 10)
    for row in range(4):
        assert list(beams[row][0].tokens) == \
            greedy.tokens[row, : int(greedy.lengths[row])].tolist()


def test_scores_count_exact_captions_and_words_by_length() -> None:
    gold = [["one"], ["two", "three"], ["four", "five"]]
    predicted = [["one"], ["two", "four"], ["four", "five", "six"]]
    scores = caption_scores(predicted, gold)
    assert scores["exact"] == pytest.approx(1 / 3)
    assert scores["token_accuracy"] == pytest.approx(4 / 5)
    assert scores["exact_2"] == 0.0 and scores["token_accuracy_2"] == pytest.approx(3 / 4)


def test_a_saved_captioner_loads_back(tmp_path: Path) -> None:
    from seqnlp.models.registry import load_model, save_model

    model = Captioner(CaptionerConfig(vocab_size=14, channels=8, hidden_size=6))
    save_model(tmp_path / "c.pt", "captioner", model, {"tokens": caption_vocab()},
               {"split_seed": 0})
    loaded = load_model(tmp_path / "c.pt", expect="captioner")
    assert loaded.config == model.config and loaded.vocab.itos == caption_vocab().itos


def test_a_small_captioner_learns_to_read_single_digits(pools) -> None:  # type: ignore[no-untyped-def]
    from seqnlp.tasks.captioning import CaptioningTask
    from seqnlp.tasks.pipeline import train_task
    from seqnlp.training import TrainerConfig

    task = CaptioningTask(pools, train_examples=2000, dev_examples=200, batch_size=32,
                          max_digits=1)
    options = {"channels": 16, "hidden_size": 24, "embedding_dim": 8, "dropout": 0.0}
    trained = train_task(task, options, TrainerConfig(epochs=4, lr=5e-3, progress=False))
    assert trained.dev["exact"] > 0.7
