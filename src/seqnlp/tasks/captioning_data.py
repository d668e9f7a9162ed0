"""Captioning data from real handwriting: the 1,797 8x8 digit images of scikit-learn's
`load_digits` (UCI optical recognition of handwritten digits; no download), placed 1-4
side by side and captioned with the digits' English names ("three one four").

The digit IMAGES are split first (train / dev / test, stratified by digit, by a seed), and
each split's composites are drawn from its own images only, so the test set holds
handwriting the model never saw, not merely unseen combinations of seen images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
IMAGE_SIZE = 8
MAX_DIGITS = 4


@dataclass
class CaptionSplit:
    """Composite images and their captions.

    Attributes:
        images: (8, 8n) float arrays in [0, 1], n digits each.
        digits: the digits of each image, left to right.
    """

    images: list[np.ndarray]
    digits: list[tuple[int, ...]]

    @property
    def captions(self) -> list[list[str]]:
        return [[DIGIT_NAMES[d] for d in ds] for ds in self.digits]

    def __len__(self) -> int:
        return len(self.images)


@dataclass
class DigitPools:
    """The digit images of each split, by digit: `pools[split][d]` is (N_d, 8, 8)."""

    pools: dict[str, list[np.ndarray]]
    seed: int


def load_digit_pools(seed: int = 0, dev_share: float = 0.1, test_share: float = 0.2
                     ) -> DigitPools:
    """Split `load_digits` into train / dev / test images, stratified by digit.

    Raises:
        ValueError: shares outside [0, 1) or summing to 1 or more.
    """
    from sklearn.datasets import load_digits

    if not (0 <= dev_share < 1 and 0 < test_share < 1 and dev_share + test_share < 1):
        raise ValueError(f"bad split shares: dev {dev_share}, test {test_share}")
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)  # (1797, 8, 8) in [0, 1]
    rng = np.random.default_rng(seed)
    pools: dict[str, list[np.ndarray]] = {"train": [], "dev": [], "test": []}
    for digit in range(10):
        index = rng.permutation(np.flatnonzero(digits.target == digit))
        n_test, n_dev = int(round(len(index) * test_share)), int(round(len(index) * dev_share))
        pools["test"].append(images[index[:n_test]])
        pools["dev"].append(images[index[n_test:n_test + n_dev]])
        pools["train"].append(images[index[n_test + n_dev:]])
    return DigitPools(pools, seed)


def compose(pool: list[np.ndarray], digits: tuple[int, ...], rng: np.random.Generator,
            shift: int = 0) -> np.ndarray:
    """One image of `digits` side by side, each a random image of that digit from `pool`,
    each moved by up to `shift` pixels up/down and left/right within its 8x8 cell (zeros
    fill what it leaves; 0: as drawn)."""
    parts = [pool[d][rng.integers(len(pool[d]))] for d in digits]
    if shift:
        parts = [shifted(part, *rng.integers(-shift, shift + 1, size=2)) for part in parts]
    return np.concatenate(parts, axis=1)  # (8, 8n)


def shifted(image: np.ndarray, down: int, right: int) -> np.ndarray:
    """`image` moved `down` rows and `right` columns (negative: up, left), zero-filled."""
    out = np.zeros_like(image)
    height, width = image.shape
    rows = slice(max(down, 0), height + min(down, 0))
    cols = slice(max(right, 0), width + min(right, 0))
    out[rows, cols] = image[max(-down, 0):height - max(down, 0),
                            max(-right, 0):width - max(right, 0)]
    return out


def make_split(pools: DigitPools, split: str, count: int, seed: int,
               min_digits: int = 1, max_digits: int = MAX_DIGITS, shift: int = 0
               ) -> CaptionSplit:
    """`count` composites of `min_digits`-`max_digits` random digits from one split's
    images (the number of digits uniform, each digit uniform); `shift`: each digit moved
    by up to that many pixels (`compose`; augmentation for training composites)."""
    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"need 1 <= min_digits <= max_digits, got {min_digits}, {max_digits}")
    if not 0 <= shift < IMAGE_SIZE:
        raise ValueError(f"shift must be in [0, {IMAGE_SIZE}), got {shift}")
    rng = np.random.default_rng([seed, ("train", "dev", "test").index(split)])
    images, labels = [], []
    for _ in range(count):
        n = int(rng.integers(min_digits, max_digits + 1))
        digits = tuple(int(d) for d in rng.integers(0, 10, size=n))
        images.append(compose(pools.pools[split], digits, rng, shift))
        labels.append(digits)
    return CaptionSplit(images, labels)


def parse_digits(text: str) -> tuple[int, ...]:
    """"3 1 4", "314" or "three one four" -> (3, 1, 4).

    Raises:
        ValueError: anything else, or more than `MAX_DIGITS` * 4 digits.
    """
    words = text.replace(",", " ").split()
    if len(words) == 1 and words[0].isdigit():
        words = list(words[0])
    digits = []
    for word in words:
        if word.isdigit() and len(word) == 1:
            digits.append(int(word))
        elif word.lower() in DIGIT_NAMES:
            digits.append(DIGIT_NAMES.index(word.lower()))
        else:
            raise ValueError(f"{word!r} is not a digit (give digits like '3 1 4')")
    if not digits or len(digits) > 4 * MAX_DIGITS:
        raise ValueError(f"give 1 to {4 * MAX_DIGITS} digits, got {len(digits)}")
    return tuple(digits)
