"""The data of sequence labelling: sentences of tokens with one tag each, read from the
registered data sets or from a user's file, and encoded as id arrays for the tagger.

Chinese word segmentation ("cws"): characters tagged B/M/E/S from segmented text (words
separated by spaces). `pfr1998` trains on People's Daily, January 1998 (PKU standard; a
held-out share is dev) and tests on the SIGHAN 2005 PKU test set when `sighan2005` is in
the data home. Full-width ASCII forms are mapped to ASCII on every side, so that `１９９８`
in training and `1998` in the test are the same characters.

Named entities ("ner"): CoNLL-2003 (`eng.train`, `eng.testa` as dev, `eng.testb` as test;
IOB1 tags as stored) or any file of whitespace-separated columns with the tag last.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from seqnlp.errors import DataFormatError, DatasetError, one_of
from seqnlp.text.batching import split_dev
from seqnlp.text.chinese import normalize_width, read_segmented, split_to_lexicon
from seqnlp.text.conll import read_conll
from seqnlp.text.tagging import (
    bmes_from_words,
    convert_tags,
    spans_from_tags,
    words_from_bmes,
)

TASKS = ("cws", "ner")
# pfr1998: January 1998 (the PKU-standard training text); pfr1998-janfeb adds February (a
# "more data" setting, reported apart from the standard one).
CWS_DATA = {"pfr1998": ("1998-01",), "pfr1998-janfeb": ("1998-01", "1998-02")}
NER_DATA = ("conll2003",)


@dataclass(frozen=True)
class TaggedSentence:
    """Tokens (characters for cws, words for ner) and their tags."""

    tokens: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass
class TaggingData:
    """The splits of a tagging data set.

    Attributes:
        name: the data set or file.
        task: "cws" or "ner".
        scheme: the tag scheme of `tags` ("bmes", "iob1", "bio", "bioes").
        train, dev, test: the sentences (test may be empty).
        train_words: cws: the words of the training text (to tell OOV words in scoring).
    """

    name: str
    task: str
    scheme: str
    train: list[TaggedSentence]
    dev: list[TaggedSentence]
    test: list[TaggedSentence] = field(default_factory=list)
    train_words: frozenset[str] = frozenset()

    @property
    def tag_names(self) -> tuple[str, ...]:
        """The tags of the training split in a fixed order (BMES in that order)."""
        seen = sorted({tag for s in self.train for tag in s.tags})
        if self.scheme == "bmes":
            return tuple(t for t in "BMES" if t in seen) + tuple(t for t in seen if t not in "BMES")
        return tuple(sorted(seen, key=lambda t: (t != "O", t.partition("-")[2], t)))


def load_tagging_data(task: str, data: str, dev_fraction: float = 0.05, seed: int = 0,
                      scheme: str | None = None, lexicon: Iterable[str] | None = None
                      ) -> TaggingData:
    """Read `data` for `task`.

    Args:
        task: "cws" or "ner".
        data: a registered name (pfr1998, pfr1998-janfeb, conll2003) or a file (cws: segmented text, one
            sentence per line; ner: CoNLL columns, tag last, blank line between sentences).
        dev_fraction: the share of training sentences held out as dev, where the data has
            no dev split of its own.
        seed: seeds that cut.
        scheme: ner: convert the tags to this scheme ("bio", "bioes"); None keeps them.
        lexicon: cws: the word list of the segmentation revision to train toward; a word
            of the data that the list lacks but that is a sequence of its words is cut
            into them (`seqnlp.text.chinese.split_to_lexicon`), in every split read from
            the training data (the test set is kept as it is).

    Raises:
        DatasetError: an unknown name, a missing file, a data set not in the data home.
        DataFormatError: a malformed file (naming the line).
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {one_of(TASKS)}, got {task!r}")
    if task == "cws":
        return _load_cws(data, dev_fraction, seed, lexicon)
    if lexicon is not None:
        raise ValueError("a lexicon re-cuts Chinese words: it is for task 'cws'")
    return _load_ner(data, dev_fraction, seed, scheme)


def cws_sentence(words: Sequence[str]) -> TaggedSentence:
    """Characters and BMES tags of a segmented sentence (width-normalised)."""
    words = [normalize_width(w) for w in words if w]
    return TaggedSentence(tuple("".join(words)), tuple(bmes_from_words(words)))


def _load_cws(data: str, dev_fraction: float, seed: int,
              lexicon: Iterable[str] | None = None) -> TaggingData:
    if data in CWS_DATA:
        from seqnlp.datasets import dataset_status, split_files

        files = split_files("pfr1998")
        paragraphs = [words for month in CWS_DATA[data] for words in read_segmented(files[month])]
        test: list[TaggedSentence] = []
        if dataset_status("sighan2005").complete:
            gold = split_files("sighan2005")["pku_test_gold"]
            test = [cws_sentence(words) for words in read_segmented(gold)]
        name = data
    else:
        path = _existing_file(data, "segmented Chinese text (words separated by spaces)")
        paragraphs = list(read_segmented(path))
        test, name = [], path.name
    if lexicon is not None:
        target = frozenset(normalize_width(w) for w in lexicon)
        paragraphs = [split_to_lexicon([normalize_width(w) for w in words], target)
                      for words in paragraphs]
    sentences = [cws_sentence(words) for words in paragraphs]
    train, dev = _hold_out(sentences, dev_fraction, seed, name)
    train_words = frozenset(w for s in train for w in words_from_bmes(list(s.tokens),
                                                                       list(s.tags)))
    return TaggingData(name, "cws", "bmes", train, dev, test, train_words)


def _load_ner(data: str, dev_fraction: float, seed: int, scheme: str | None) -> TaggingData:
    if data in NER_DATA:
        from seqnlp.datasets import split_files

        files = split_files("conll2003")
        splits = {key: [TaggedSentence(s.tokens, s.tags) for s in read_conll(files[key])]
                  for key in ("train", "dev", "test")}  # the CoNLL-2003 reader, 4 columns
        name = "conll2003"
    else:
        path = _existing_file(data, "CoNLL columns (token ... tag)")
        train, dev = _hold_out(read_columns(path), dev_fraction, seed, path.name)
        splits, name = {"train": train, "dev": dev, "test": []}, path.name
    stored = guess_scheme(splits["train"], name)
    data_set = TaggingData(name, "ner", stored, splits["train"], splits["dev"], splits["test"])
    if scheme is not None and scheme != stored:
        for split in ("train", "dev", "test"):
            setattr(data_set, split, [TaggedSentence(s.tokens, tuple(convert_tags(s.tags, stored,
                                                                                   scheme)))
                                      for s in getattr(data_set, split)])
        data_set.scheme = scheme
    return data_set


def read_columns(path: str | Path) -> list[TaggedSentence]:
    """Sentences of a user's column file: token first, tag last (any number of columns in
    between, the same on every line), a blank line between sentences; `-DOCSTART-` lines
    are skipped. (CoNLL-2003 itself is read by `seqnlp.text.conll.read_conll`.)

    Raises:
        DataFormatError: a line with one column, or a tag column that changes width.
    """
    from seqnlp.fileio import iter_lines

    sentences, tokens, tags, width = [], [], [], None
    for lineno, line in iter_lines(path):
        fields = line.split()
        if not fields or fields[0] == "-DOCSTART-":
            if tokens:
                sentences.append(TaggedSentence(tuple(tokens), tuple(tags)))
                tokens, tags = [], []
            continue
        if len(fields) < 2:
            raise DataFormatError(path, lineno, f"expected a token and a tag, got {line[:60]!r}")
        if width is not None and len(fields) != width:
            raise DataFormatError(path, lineno, f"{len(fields)} columns where earlier lines "
                                  f"have {width}")
        width = len(fields)
        tokens.append(fields[0])
        tags.append(fields[-1])
    if tokens:
        sentences.append(TaggedSentence(tuple(tokens), tuple(tags)))
    return sentences


def guess_scheme(sentences: Sequence[TaggedSentence], name: str = "tags") -> str:
    """The tag scheme the sentences follow: "bioes" if E-/S- tags occur, "bio" if every
    chunk starts with B-, else "iob1"; checked by decoding every sentence.

    Raises:
        DataFormatError: a tag that is none of O, B-, I-, E-, S-.
    """
    prefixes = {tag.partition("-")[0] for s in sentences for tag in s.tags}
    unknown = prefixes - {"O", "B", "I", "E", "S"}
    if unknown:
        raise DataFormatError(name, None, f"tags with prefixes {', '.join(sorted(unknown))} "
                              "are not BIO, IOB1 or BIOES (the tag is the last column)")
    if prefixes & {"E", "S"}:
        return "bioes"
    starts_with_i = any(tag.startswith("I-") and (i == 0 or s.tags[i - 1] == "O")
                        for s in sentences for i, tag in enumerate(s.tags))
    scheme = "iob1" if starts_with_i else "bio"
    for s in sentences:
        spans_from_tags(s.tags, scheme)
    return scheme


def _existing_file(data: str, what: str) -> Path:
    path = Path(data)
    if path.is_dir():
        raise DatasetError(f"{data}: is a folder; give a file of {what}")
    if not path.exists():
        raise DatasetError(f"{data}: no such file (and not a known data set name)")
    return path


def _hold_out(sentences: list[TaggedSentence], fraction: float, seed: int, name: str
              ) -> tuple[list[TaggedSentence], list[TaggedSentence]]:
    """A random `fraction` of the sentences as dev, the rest (in file order) as train."""
    if not sentences:
        raise DatasetError(f"{name}: holds no sentences")
    count = int(round(len(sentences) * fraction))
    if fraction > 0 and (count < 1 or count >= len(sentences)):
        raise DatasetError(f"{name}: {len(sentences):,} sentence(s) cannot be cut into train "
                           f"and a dev share of {fraction:g} (dev {count}); give more text or "
                           "--dev-fraction 0")
    return split_dev(sentences, fraction, seed)
