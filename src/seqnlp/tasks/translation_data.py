"""The data of translation: sentence pairs from Multi30k (Elliott et al., 2016; German and
English image descriptions: 29,000 train, 1,014 val, 1,000 test2016 pairs) in the data home,
or from any two parallel text files (`SRC_FILE,TGT_FILE`, line i translating line i).

Sentences are kept raw (cased, untokenized): the tokenizer is part of the model, and
sacreBLEU scores detokenized output against the raw references.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from seqnlp.errors import DataFormatError, DatasetError
from seqnlp.text.batching import split_dev

MULTI30K = "multi30k"
MULTI30K_LANGUAGES = ("de", "en")
MULTI30K_SPLITS = {"train": "train", "dev": "val", "test": "test2016"}
SPLIT_NAMES = ("test2016", "val", "test", "dev")  # eval's --split; test = test2016, dev = val

Pair = tuple[str, str]


@dataclass
class ParallelData:
    """The splits of a translation data set, as raw `(source, target)` sentence pairs.

    Attributes:
        name: the data set or the two files.
        source_lang, target_lang: language codes ("de", "en"; "src", "tgt" for files).
        train, dev, test: the pairs (dev and test may be empty).
        dropped: training pairs left out (an empty side).
    """

    name: str
    source_lang: str
    target_lang: str
    train: list[Pair]
    dev: list[Pair] = field(default_factory=list)
    test: list[Pair] = field(default_factory=list)
    dropped: int = 0


def count_lines(path: str | Path) -> int:
    """The lines of a text file (decompressing `.xz`/`.gz`; checked as UTF-8)."""
    from seqnlp.fileio import iter_lines

    count = 0
    for count, _ in iter_lines(path, allow_empty=True):
        pass
    return count


def read_pairs(source_path: str | Path, target_path: str | Path) -> list[Pair]:
    """The sentence pairs of two parallel files.

    Raises:
        DataFormatError: the files have different numbers of lines (one line naming both
            files and both counts), invalid UTF-8, an empty file.
    """
    from seqnlp.text.parallel import read_parallel

    counts = count_lines(source_path), count_lines(target_path)
    if counts[0] != counts[1]:
        raise DataFormatError(
            source_path, None, f"has {counts[0]:,} lines but its parallel file "
            f"{target_path} has {counts[1]:,}; line i of one must translate line i of the "
            "other")
    if counts[0] == 0:
        raise DataFormatError(source_path, None, "is empty: no sentence pairs")
    return list(read_parallel(source_path, target_path))


def split_data_argument(data: str) -> tuple[str, str] | None:
    """`SRC_FILE,TGT_FILE` -> the two paths; a data set name -> None.

    Raises:
        DatasetError: a value with a comma that is not two non-empty paths.
    """
    if "," not in data:
        return None
    parts = data.split(",")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise DatasetError(f"--data {data!r}: give a data set name or two parallel files "
                           "as SRC_FILE,TGT_FILE")
    return parts[0].strip(), parts[1].strip()


def load_parallel_data(data: str, source_lang: str = "de", target_lang: str = "en",
                       dev_fraction: float = 0.05, seed: int = 0) -> ParallelData:
    """Read `data`: "multi30k" (from the data home) or `SRC_FILE,TGT_FILE`.

    Files have no dev split of their own: a random `dev_fraction` of their pairs is held out.

    Raises:
        DatasetError: an unknown name, a pair Multi30k does not hold, a data set missing
            from the data home, a missing file, too few pairs to hold out a dev share.
        DataFormatError: a malformed file or files of different line counts.
    """
    files = split_data_argument(data)
    if files is None:
        if data != MULTI30K:
            raise DatasetError(f"unknown translation data {data!r}: give {MULTI30K} or two "
                               "parallel files as SRC_FILE,TGT_FILE")
        return _load_multi30k(source_lang, target_lang)
    for path in files:
        _check_file(path)
    pairs = read_pairs(*files)
    train, dev = hold_out(pairs, dev_fraction, seed, data)
    kept, dropped = drop_empty(train)
    return ParallelData(data, source_lang or "src", target_lang or "tgt", kept, dev,
                        dropped=dropped)


def _load_multi30k(source_lang: str, target_lang: str) -> ParallelData:
    from seqnlp.datasets import split_files

    pair = {source_lang, target_lang}
    if pair != set(MULTI30K_LANGUAGES):
        raise DatasetError(f"multi30k holds de and en; --src {source_lang} --tgt "
                           f"{target_lang} is not a pair of them")
    files = split_files(MULTI30K)
    splits = {}
    for key, stem in MULTI30K_SPLITS.items():
        splits[key] = read_pairs(files[f"{stem}.{source_lang}"], files[f"{stem}.{target_lang}"])
    train, dropped = drop_empty(splits["train"])
    return ParallelData(MULTI30K, source_lang, target_lang, train, splits["dev"],
                        splits["test"], dropped)


def eval_pairs(data: str, split: str, source_lang: str, target_lang: str) -> tuple[str, list[Pair]]:
    """The pairs to score a model on: a Multi30k split ("test2016", "val"), or two files.

    Returns:
        (a name for the report, the pairs).
    """
    files = split_data_argument(data)
    if files is not None:
        for path in files:
            _check_file(path)
        return data, read_pairs(*files)
    if split not in SPLIT_NAMES:
        raise DatasetError(f"--split must be one of {', '.join(SPLIT_NAMES)}, got {split!r}")
    loaded = load_parallel_data(data, source_lang, target_lang)
    pairs = loaded.test if split in ("test2016", "test") else loaded.dev
    return f"{data} {'test2016' if split in ('test2016', 'test') else 'val'}", pairs


def drop_empty(pairs: Sequence[Pair]) -> tuple[list[Pair], int]:
    """The pairs whose two sides hold text, and how many were left out."""
    kept = [(s, t) for s, t in pairs if s.strip() and t.strip()]
    return kept, len(pairs) - len(kept)


def hold_out(pairs: list[Pair], fraction: float, seed: int, name: str
             ) -> tuple[list[Pair], list[Pair]]:
    """A random `fraction` of the pairs as dev, the rest (in file order) as train."""
    count = int(round(len(pairs) * fraction))
    if fraction > 0 and (count < 1 or count >= len(pairs)):
        raise DatasetError(f"{name}: {len(pairs):,} sentence pair(s) cannot be cut into train "
                           f"and a dev share of {fraction:g}; give more pairs or "
                           "--dev-fraction 0")
    return split_dev(pairs, fraction, seed)


def _check_file(path: str) -> None:
    target = Path(path)
    if target.is_dir():
        raise DatasetError(f"{path}: is a folder; --data takes SRC_FILE,TGT_FILE")
    if not target.exists():
        raise DatasetError(f"{path}: no such file (--data takes {MULTI30K} or SRC_FILE,TGT_FILE)")
