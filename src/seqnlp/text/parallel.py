"""Reader of sentence-aligned parallel text (e.g. Multi30k, Elliott et al., 2016): line i of
the source file translates line i of the target file."""

from __future__ import annotations

from collections.abc import Iterator

from seqnlp.errors import DataFormatError
from seqnlp.fileio import PathLike, iter_lines


def read_parallel(src_path: PathLike, tgt_path: PathLike) -> Iterator[tuple[str, str]]:
    """Yield `(source, target)` sentence pairs, reading both files in step.

    Lines are returned as stored (only the LF or CRLF ending is removed), so an empty
    line stays an empty sentence and the pairing never shifts.

    Args:
        src_path: the source-language file, optionally `.xz` or `.gz`.
        tgt_path: the target-language file, optionally `.xz` or `.gz`.

    Returns:
        An iterator over `(source_line, target_line)` tuples.

    Raises:
        DataFormatError: when one file ends before the other; the error is raised on the
            file that ended, at its last line, and the message names the other file and
            the line it continues with. Also on invalid UTF-8, a truncated archive or an
            empty file.
    """
    src_lines = iter_lines(src_path)
    tgt_lines = iter_lines(tgt_path)
    count = 0
    for src in src_lines:
        tgt = next(tgt_lines, None)
        if tgt is None:
            raise _mismatch(tgt_path, src_path, count)
        count += 1
        yield src[1], tgt[1]
    if next(tgt_lines, None) is not None:
        raise _mismatch(src_path, tgt_path, count)


def _mismatch(ended: PathLike, longer: PathLike, count: int) -> DataFormatError:
    """The error for `ended` having `count` lines while `longer` has more."""
    return DataFormatError(
        ended,
        count,
        f"file ended after line {count}, but its parallel file {longer} "
        f"continues with line {count + 1}",
    )
