"""Running text of a fetched dataset, one sentence (or review) per line, for word2vec.

`export_text("imdb", "imdb.txt")` writes the 50,000 labelled IMDB reviews (train, then
test; labels dropped) with `<br />` removed, lower-cased and cut into words, exactly as
`benchmarks/word2vec.py` prepares its corpus; "ptb" and "wikitext-2" write their training
text line by line. The file is written atomically.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from seqnlp.datasets.home import split_files
from seqnlp.datasets.registry import get_spec
from seqnlp.errors import DatasetError
from seqnlp.fileio import atomic_write, iter_lines

# Words of letters and digits, with inner apostrophes kept (don't, director's).
REVIEW_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
EXPORTABLE = ("imdb", "ptb", "wikitext-2")


def review_tokens(text: str) -> list[str]:
    """An IMDB review as words: `<br />` dropped, lower-cased, punctuation removed."""
    return REVIEW_TOKEN.findall(text.replace("<br />", " ").lower())


def corpus_lines(name: str) -> Iterator[list[str]]:
    """The tokens of each line of `name`'s running text (see the module docstring).

    Raises:
        DatasetError: `name` has no running text, or is not in the data home.
    """
    get_spec(name)  # an unknown name is told the known ones
    if name not in EXPORTABLE:
        raise DatasetError(f"no running text for {name!r}; choose one of {', '.join(EXPORTABLE)}")
    files = split_files(name)
    if name == "imdb":
        for split in ("train", "test"):
            for _, line in iter_lines(files[split]):
                yield review_tokens(line.partition("\t")[2])
    else:
        for _, line in iter_lines(files["train"], allow_empty=True):
            words = line.split()
            if words:
                yield words


def export_text(name: str, path: str | os.PathLike[str]) -> tuple[int, int]:
    """Write `name`'s running text to `path`; return (lines, tokens) written."""
    lines = tokens = 0
    with atomic_write(path, mode="w", encoding="utf-8") as out:
        for words in corpus_lines(name):
            out.write(" ".join(words) + "\n")
            lines += 1
            tokens += len(words)
    return lines, tokens
