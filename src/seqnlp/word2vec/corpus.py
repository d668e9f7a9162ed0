"""Sentence streams for word2vec: a corpus file or a restartable iterable of token lists,
turned into chunks of int32 word indices that the kernels train on.

Nothing here holds a whole corpus: a file is read in 1 MiB blocks (a text8-style single
line is cut into sentences of `max_sentence_length` words, none dropped), and sentences
are encoded into chunks of about `chunk_words` words, which can be spilled to a disk
cache so that later epochs skip the text entirely.
"""

from __future__ import annotations

import codecs
import gzip
import lzma
import os
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from typing import BinaryIO

import numpy as np

from seqnlp.errors import DataFormatError, SeqnlpError
from seqnlp.fileio import PathLike, open_binary

_BLOCK_BYTES = 1 << 20
# What a truncated or corrupt .xz/.gz stream raises while it is being read.
_COMPRESSION_ERRORS = (EOFError, lzma.LZMAError, gzip.BadGzipFile, zlib.error)


class LineSentences:
    """The sentences of a UTF-8 text file, one per line, split on whitespace.

    Restartable: each iteration reads the file again, in 1 MiB blocks (`.xz`/`.gz`
    transparent), so memory stays bounded however long a line is. A line longer than
    `max_sentence_length` words is yielded as consecutive pieces of that many words (the
    last piece holds the rest); blank lines yield nothing.

    Args:
        path: the corpus file.
        max_sentence_length: the most words per yielded sentence.
    """

    def __init__(self, path: PathLike, max_sentence_length: int = 10_000) -> None:
        if max_sentence_length < 1:
            raise ValueError(f"max_sentence_length must be positive, got {max_sentence_length}")
        self.path = os.fspath(path)
        self.max_sentence_length = max_sentence_length
        if not os.path.isfile(self.path):
            raise DataFormatError(self.path, None, "no such file")

    def __iter__(self) -> Iterator[list[str]]:
        limit = self.max_sentence_length
        pending: list[str] = []  # words of the line being read, not yet yielded
        for words, line_ends in _iter_block_lines(self.path):
            pending.extend(words)
            if line_ends or len(pending) >= limit:
                cut = len(pending) if line_ends else len(pending) - len(pending) % limit
                for start in range(0, cut, limit):
                    yield pending[start:min(start + limit, cut)]
                del pending[:cut]
        if pending:
            yield pending

    def __repr__(self) -> str:
        return f"LineSentences({self.path!r}, max_sentence_length={self.max_sentence_length})"


def _iter_block_lines(path: str) -> Iterator[tuple[list[str], bool]]:
    """Yield `(words, line_ends)` pieces of the file's lines, block by block.

    `line_ends` says that the words finish a line. The unfinished line at the end of a
    block hands over its complete words at once (so a single huge line streams); a word
    cut by the block boundary is carried into the next block whole.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    carry = ""
    lines_before = 0
    with open_binary(path) as stream:
        while True:
            block = _read_block(stream, path, lines_before + 1)
            text = carry + _decode(decoder, block, path, lines_before)
            if not block:  # end of file: what is left is the last, unterminated line
                yield text.split(), True
                return
            lines_before += block.count(b"\n")
            lines = text.split("\n")
            last = lines.pop()
            for line in lines:
                yield line.split(), True
            words = last.split()
            carry = words.pop() if words and not last[-1].isspace() else ""
            if words:
                yield words, False


def _read_block(stream: BinaryIO, path: str, line: int) -> bytes:
    try:
        return stream.read(_BLOCK_BYTES)
    except _COMPRESSION_ERRORS as exc:
        raise DataFormatError(
            path, line, f"compressed data is truncated or corrupt ({exc})"
        ) from None


def _decode(decoder: codecs.IncrementalDecoder, block: bytes, path: str, lines_before: int) -> str:
    """Decode one block (an empty block ends the stream); name the line of a bad byte."""
    try:
        return decoder.decode(block, final=not block)
    except UnicodeDecodeError as exc:
        line = lines_before + block[: max(exc.start, 0)].count(b"\n") + 1
        raise DataFormatError(path, line, "invalid UTF-8") from None


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
