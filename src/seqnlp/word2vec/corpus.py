"""Sentence streams for word2vec: a corpus file or a restartable iterable of token lists,
turned into chunks of int32 word indices that the kernels train on.

Nothing here holds a whole corpus: a file is read in 1 MiB blocks by the reader that
`seqnlp.text` uses too (`seqnlp.fileio.iter_text_blocks`; a text8-style single
line is cut into sentences of `max_sentence_length` words, none dropped), and sentences
are encoded into chunks of about `chunk_words` words, which can be spilled to a disk
cache so that later epochs skip the text entirely.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from seqnlp.errors import DataFormatError, FileAccessError, SeqnlpError
from seqnlp.fileio import PathLike, iter_text_blocks


class LineSentences:
    """The sentences of a UTF-8 text file, one per line, split on whitespace.

    Restartable: each iteration reads the file again, in 1 MiB blocks (`.xz`/`.gz`
    transparent, a byte-order mark dropped; `seqnlp.fileio.iter_text_blocks`), so memory
    stays bounded however long a line is. A line longer than `max_sentence_length` words
    is yielded as consecutive pieces of that many words (the last piece holds the rest);
    blank lines yield nothing.

    Args:
        path: the corpus file.
        max_sentence_length: the most words per yielded sentence.

    Raises:
        FileAccessError: (at construction) no such file, or a directory.
        DataFormatError: (while iterating) invalid UTF-8 or a corrupt archive, naming the
            line; a file without any word.
    """

    def __init__(self, path: PathLike, max_sentence_length: int = 10_000) -> None:
        if max_sentence_length < 1:
            raise ValueError(f"max_sentence_length must be positive, got {max_sentence_length}")
        self.path = os.fspath(path)
        self.max_sentence_length = max_sentence_length
        if os.path.isdir(self.path):
            raise FileAccessError(self.path, "is a directory, not a corpus file", errno.EISDIR)
        if not os.path.exists(self.path):
            raise FileAccessError(self.path, "no such file", errno.ENOENT)

    def __iter__(self) -> Iterator[list[str]]:
        limit = self.max_sentence_length
        pending: list[str] = []  # words of the line being read, not yet yielded
        empty = True
        for piece in iter_text_blocks(self.path):
            *lines, last = piece.split("\n")  # `last` may continue in the next piece
            for line in lines:
                words = line.split()
                if pending:
                    words, pending = pending + words, []
                if words:
                    empty = False
                    yield from _cut(words, limit) if len(words) > limit else (words,)
            pending.extend(last.split())
            if len(pending) >= limit:  # a long line streams: hand over its full pieces
                empty = False
                full = len(pending) - len(pending) % limit
                yield from _cut(pending[:full], limit)
                del pending[:full]
        if pending:
            yield pending
        elif empty:
            raise DataFormatError(self.path, None, "file has no words")

    def __repr__(self) -> str:
        return f"LineSentences({self.path!r}, max_sentence_length={self.max_sentence_length})"


def _cut(words: list[str], limit: int) -> Iterator[list[str]]:
    """`words` in consecutive pieces of `limit` words (the last one holds the rest)."""
    for start in range(0, len(words), limit):
        yield words[start : start + limit]


def as_sentences(corpus: object, max_sentence_length: int = 10_000) -> Iterable[list[str]]:
    """Accept a corpus path or a restartable iterable of token lists.

    Args:
        corpus: a path (str or os.PathLike) to a one-sentence-per-line file, or an
            iterable that can be iterated once per epoch (a list, or an object whose
            `__iter__` starts again, like `LineSentences`).
        max_sentence_length: see `LineSentences`.

    Returns:
        A restartable iterable of token lists.

    Raises:
        SeqnlpError: for a one-shot iterator (a generator): it would be exhausted after
            the vocabulary pass.
        TypeError: for anything else that is not iterable.
    """
    if isinstance(corpus, (str, os.PathLike)):
        return LineSentences(corpus, max_sentence_length)
    try:
        iterator = iter(corpus)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(
            f"corpus must be a path or an iterable of token lists, got {type(corpus).__name__}"
        ) from None
    if iterator is corpus:
        raise SeqnlpError(
            "corpus is a one-shot iterator (e.g. a generator), but word2vec reads it once "
            "for the vocabulary and once per epoch; pass a list, a path, or an object whose "
            "__iter__ restarts (e.g. seqnlp.word2vec.corpus.LineSentences)"
        )
    return corpus  # type: ignore[return-value]


@dataclass(frozen=True)
class Chunk:
    """Encoded sentences for one kernel call.

    Attributes:
        ids: (N,) int32 word indices, out-of-vocabulary words removed.
        ends: (S,) int64 end offset in `ids` of each sentence (sentences left empty by
            the removal are dropped).
        raw_words: tokens the chunk covered, out-of-vocabulary ones included.
    """

    ids: np.ndarray
    ends: np.ndarray
    raw_words: int


def encode_chunks(
    sentences: Iterable[list[str]],
    key_to_index: dict[str, int],
    chunk_words: int,
    max_sentence_length: int = 10_000,
) -> Iterator[Chunk]:
    """Encode sentences into chunks of about `chunk_words` tokens.

    Sentences longer than `max_sentence_length` are cut into pieces of that length, so
    an iterable that yields one huge token list loses nothing either.
    """
    lookup = key_to_index.get
    ids: list[int] = []  # -1 for out-of-vocabulary tokens, removed by _make_chunk
    ends: list[int] = []
    for sentence in sentences:
        if len(sentence) <= max_sentence_length:
            ids.extend(map(lookup, sentence, repeat(-1)))
            ends.append(len(ids))
        else:
            for start in range(0, len(sentence), max_sentence_length):
                ids.extend(map(lookup, sentence[start:start + max_sentence_length], repeat(-1)))
                ends.append(len(ids))
        if len(ids) >= chunk_words:
            yield _make_chunk(ids, ends)
            ids, ends = [], []
    if ids:
        yield _make_chunk(ids, ends)


def _make_chunk(ids: list[int], ends: list[int]) -> Chunk:
    """Drop unknown tokens (-1) and the sentences left empty, keeping sentence ends right."""
    raw = np.array(ids, dtype=np.int32)
    known = raw >= 0
    kept_before = np.concatenate([[0], np.cumsum(known)])  # known tokens before each offset
    new_ends = kept_before[np.array(ends, dtype=np.int64)]
    starts = np.concatenate([[0], new_ends[:-1]])
    return Chunk(raw[known], new_ends[new_ends > starts].astype(np.int64), len(raw))


class ChunkCache:
    """A temporary file of encoded chunks: written in the first epoch, read in the next.

    Each chunk is stored as a header (int64: number of ids, number of sentences, raw
    words) followed by its ids (int32) and sentence ends (int64); reading it back gives
    the same chunks in the same order, one at a time. The file is removed by `close`.

    Args:
        directory: where to put the file; None uses the system temporary directory.
    """

    def __init__(self, directory: PathLike | None = None) -> None:
        fd, self.path = tempfile.mkstemp(prefix="seqnlp-w2v-", suffix=".chunks", dir=directory)
        self._file = os.fdopen(fd, "w+b")
        self.num_chunks = 0

    def append(self, chunk: Chunk) -> None:
        """Write one chunk at the end of the file."""
        header = np.array([len(chunk.ids), len(chunk.ends), chunk.raw_words], dtype=np.int64)
        self._file.write(header.tobytes())
        self._file.write(chunk.ids.tobytes())
        self._file.write(chunk.ends.tobytes())
        self.num_chunks += 1

    def __iter__(self) -> Iterator[Chunk]:
        self._file.flush()
        self._file.seek(0)
        for _ in range(self.num_chunks):
            num_ids, num_ends, raw = np.fromfile(self._file, dtype=np.int64, count=3).tolist()
            ids = np.fromfile(self._file, dtype=np.int32, count=num_ids)
            ends = np.fromfile(self._file, dtype=np.int64, count=num_ends)
            yield Chunk(ids, ends, raw)
        self._file.seek(0, os.SEEK_END)

    def close(self) -> None:
        """Close and delete the file."""
        self._file.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def __enter__(self) -> ChunkCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
