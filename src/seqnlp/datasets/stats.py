"""Statistics of a fetched dataset, counted by the readers of `seqnlp.text` in the same
units as the registry's published split sizes (`SplitSize`), so that the two can be
compared line by line (`seqnlp data info NAME`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from seqnlp.datasets.home import split_files
from seqnlp.datasets.registry import get_spec
from seqnlp.datasets.spec import SplitSize

_Counter = Callable[[dict[str, Path]], list[SplitSize]]


@dataclass(frozen=True)
class SizeCheck:
    """A counted split size beside the published one (None when none is published)."""

    measured: SplitSize
    expected: int | None

    @property
    def ok(self) -> bool:
        """True when a published size exists and equals the count."""
        return self.expected == self.measured.count


def compute_statistics(name: str) -> list[SplitSize]:
    """Count the splits of fetched dataset `name` with the `seqnlp.text` readers.

    Raises:
        DatasetError: when the dataset is unknown or not (completely) in the data home.
        DataFormatError: when a file does not parse.
    """
    paths = split_files(name)
    return _COUNTERS[get_spec(name).name](paths)


def compare_statistics(name: str) -> list[SizeCheck]:
    """`compute_statistics(name)`, each count paired with the published size."""
    published = {(s.split, s.unit): s.count for s in get_spec(name).splits}
    return [
        SizeCheck(size, published.get((size.split, size.unit)))
        for size in compute_statistics(name)
    ]


def _lm(paths: dict[str, Path], unit: str) -> list[SplitSize]:
    """Lines, tokens with one <eos> per line, and train word types (PTB, WikiText)."""
    from seqnlp.text.corpus import read_lm_lines

    sizes, types = [], set()
    for split in ("train", "valid", "test"):
        lines = tokens = 0
        for words in read_lm_lines(paths[split]):
            lines += 1
            tokens += len(words)
            if split == "train":
                types.update(words)
        sizes += [SplitSize(split, lines, unit), SplitSize(split, tokens, "tokens incl. <eos>")]
    return [*sizes, SplitSize("train", len(types), "word types incl. <eos>")]


def _text8(paths: dict[str, Path]) -> list[SplitSize]:
    from seqnlp.text.corpus import read_word_stream

    words = sum(len(chunk) for chunk in read_word_stream(paths["train"]))
    size = paths["train"].stat().st_size
    return [SplitSize("train", size, "bytes"), SplitSize("train", words, "words")]


def _sst(paths: dict[str, Path]) -> list[SplitSize]:
    from seqnlp.text.trees import read_trees

    sizes = []
    for split in ("train", "dev", "test"):
        trees = nodes = 0
        for tree in read_trees(paths[split]):
            trees += 1
            nodes += len(tree.nodes())
        sizes += [SplitSize(split, trees, "trees"), SplitSize(split, nodes, "labelled nodes")]
    return sizes


def _imdb(paths: dict[str, Path]) -> list[SplitSize]:
    from seqnlp.text.corpus import read_labeled

    sizes = []
    for split in ("train", "test"):
        labels = [item.label for item in read_labeled(paths[split], num_labels=2)]
        sizes += [SplitSize(split, len(labels), "reviews"),
                  SplitSize(split, sum(labels), "positive reviews")]
    return sizes


def _sighan(paths: dict[str, Path]) -> list[SplitSize]:
    from seqnlp.text.chinese import read_raw_lines, read_segmented, read_word_list

    sizes = []
    for corpus in ("pku", "msr"):
        test = sum(1 for _ in read_raw_lines(paths[f"{corpus}_test"]))
        gold = list(read_segmented(paths[f"{corpus}_test_gold"]))
        words = sum(1 for _ in read_word_list(paths[f"{corpus}_training_words"]))
        sizes += [
            SplitSize(f"{corpus}_test", test, "sentences"),
            SplitSize(f"{corpus}_test_gold", len(gold), "sentences"),
            SplitSize(f"{corpus}_test_gold", sum(map(len, gold)), "words"),
            SplitSize(f"{corpus}_training_words", words, "words"),
        ]
    return sizes


def _pfr(paths: dict[str, Path]) -> list[SplitSize]:
    from seqnlp.text.chinese import read_segmented

    sizes = []
    for split in ("1998-01", "1998-02"):
        lengths = [len(words) for words in read_segmented(paths[split])]
        sizes += [SplitSize(split, len(lengths), "paragraphs"),
                  SplitSize(split, sum(lengths), "words")]
    return sizes


def _multi30k(paths: dict[str, Path]) -> list[SplitSize]:
    from seqnlp.text.parallel import read_parallel

    return [
        SplitSize(split, _count(read_parallel(paths[f"{split}.de"], paths[f"{split}.en"])),
                  "sentence pairs")
        for split in ("train", "val", "test2016")
    ]


def _conll(paths: dict[str, Path]) -> list[SplitSize]:
    from seqnlp.text.conll import DOCSTART, read_conll

    sizes = []
    for split in ("train", "dev", "test"):
        sentences = list(read_conll(paths[split], include_docstart=True))
        documents = [s for s in sentences if s.tokens == (DOCSTART,)]
        tokens = sum(len(s.tokens) for s in sentences) - len(documents)
        sizes += [
            SplitSize(split, len(sentences), "sentences incl. -DOCSTART-"),
            SplitSize(split, len(documents), "documents"),
            SplitSize(split, tokens, "tokens"),
        ]
    return sizes


def _wordsim(paths: dict[str, Path]) -> list[SplitSize]:
    from seqnlp.text.evalsets import read_analogies, read_word_pairs

    questions = list(read_analogies(paths["analogies"]))
    return [
        SplitSize("analogies", len(questions), "questions"),
        SplitSize("analogies", len({q.section for q in questions}), "sections"),
        SplitSize("wordsim353", _count(read_word_pairs(paths["wordsim353"])), "pairs"),
        SplitSize("simlex999", _count(read_word_pairs(paths["simlex999"])), "pairs"),
    ]


def _count(items: Iterable[object]) -> int:
    return sum(1 for _ in items)


_COUNTERS: dict[str, _Counter] = {
    "ptb": lambda paths: _lm(paths, "sentences"),
    "wikitext-2": lambda paths: _lm(paths, "lines"),
    "text8": _text8,
    "sst": _sst,
    "imdb": _imdb,
    "sighan2005": _sighan,
    "pfr1998": _pfr,
    "multi30k": _multi30k,
    "conll2003": _conll,
    "wordsim": _wordsim,
}
