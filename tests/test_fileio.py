"""Transparent decompression, exact line numbers in errors, atomic writes."""

from __future__ import annotations

import gzip
import lzma
import random
import zlib
from pathlib import Path

import pytest

from seqnlp.errors import DataFormatError
from seqnlp.fileio import atomic_write, iter_lines, iter_text_blocks


@pytest.mark.parametrize("opener,suffix", [(open, ""), (lzma.open, ".xz"), (gzip.open, ".gz")])
def test_iter_lines_reads_plain_xz_and_gz_with_crlf(tmp_path: Path, opener, suffix) -> None:
    path = tmp_path / f"f.txt{suffix}"
    with opener(path, "wb") as f:
        f.write("a b\r\nc\n\u4e2d\u6587".encode())
    assert list(iter_lines(path)) == [(1, "a b"), (2, "c"), (3, "\u4e2d\u6587")]


def test_invalid_utf8_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok\nfine\nbad \xff byte\n")
    with pytest.raises(DataFormatError, match=r"bad\.txt, line 3: invalid UTF-8"):
        list(iter_lines(path))


def test_truncated_xz_is_reported(tmp_path: Path) -> None:
    full = lzma.compress(("line of text\n" * 20000).encode())
    path = tmp_path / "cut.txt.xz"
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(DataFormatError, match="truncated or corrupt"):
        list(iter_lines(path))


def _corpus(lines: int = 3000) -> bytes:
    rng = random.Random(0)
    words = [f"w{i}" for i in range(2000)]
    return "".join(" ".join(rng.choices(words, k=rng.randint(2, 15))) + "\n"
                   for _ in range(lines)).encode()


def _line_of_first_loss(archive: bytes, gz: bool) -> int:
    """The line holding the first byte a decoder fed one compressed byte at a time cannot
    deliver: the truth the readers' error must name."""
    decoder = zlib.decompressobj(wbits=31) if gz else lzma.LZMADecompressor()
    newlines = 0
    for position in range(len(archive)):
        try:
            newlines += decoder.decompress(archive[position : position + 1]).count(b"\n")
        except (zlib.error, lzma.LZMAError):
            break
    return newlines + 1


def _damaged(kind: str, gz: bool) -> bytes:
    archive = bytearray(gzip.compress(_corpus(), mtime=0) if gz else lzma.compress(_corpus()))
    middle = len(archive) // 2
    if kind == "cut":
        return bytes(archive[:middle])
    archive[middle : middle + 8] = bytes(b ^ 0xFF for b in archive[middle : middle + 8])
    return bytes(archive)


@pytest.mark.parametrize("gz", [False, True], ids=["xz", "gz"])
@pytest.mark.parametrize("kind", ["cut", "flipped"])
def test_a_damaged_archive_names_the_line_of_the_damage(
    tmp_path: Path, kind: str, gz: bool
) -> None:
    """Both readers name the line where decompression first fails, not the start of the
    buffer that the failing step was filling (word2vec's reader said line 1 for an .xz
    file damaged in its middle)."""
    archive = _damaged(kind, gz)
    path = tmp_path / ("c.txt.gz" if gz else "c.txt.xz")
    path.write_bytes(archive)
    truth = _line_of_first_loss(archive, gz)
    if kind == "cut":  # flipped bits may decode as garbage for a while before they fail
        assert 1000 < truth < 3000
    for read in (lambda: list(iter_lines(path)), lambda: list(iter_text_blocks(path))):
        with pytest.raises(DataFormatError) as info:
            read()
        if "truncated or corrupt" in str(info.value):
            assert info.value.line == truth
        else:  # bits flipped into garbage that is not UTF-8, found before the check fails
            assert kind == "flipped" and "invalid UTF-8" in str(info.value)
            assert info.value.line <= truth


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(DataFormatError, match="empty"):
        list(iter_lines(path))


def test_atomic_write_keeps_old_content_when_block_fails(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_write(path) as f:
            f.write(b"new but half")
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_write_replaces_on_success(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "out.txt"
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write("done")
    assert path.read_text() == "done"


def test_atomic_write_gives_the_usual_file_mode(tmp_path: Path) -> None:
    import os

    mask = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "f.bin") as f:
            f.write(b"x")
    finally:
        os.umask(mask)
    assert (tmp_path / "f.bin").stat().st_mode & 0o777 == 0o644


def test_a_line_longer_than_the_limit_is_refused(tmp_path: Path, monkeypatch) -> None:
    """So that /dev/zero or a big binary file cannot exhaust memory as one "line"."""
    from seqnlp import fileio

    monkeypatch.setattr(fileio, "MAX_LINE_BYTES", 100)
    path = tmp_path / "long.txt"
    path.write_bytes(b"short\n" + b"x" * 100 + b"\n" + b"y" * 101 + b"\n")
    with pytest.raises(DataFormatError, match="line 3: line is longer than 100 bytes"):
        list(iter_lines(path))
    path.write_bytes(b"x" * 100)
    assert list(iter_lines(path)) == [(1, "x" * 100)]


def test_dev_zero_is_not_read_forever() -> None:
    with pytest.raises(DataFormatError, match="/dev/zero, line 1"):
        next(iter_text_blocks("/dev/zero"))
