"""HTTP(S) download into a `.part` file that survives interruptions: a later call resumes
it with an HTTP Range request, and starts over when the server ignores the range.

The caller checks the finished `.part` file's sha256 and only then renames it; this module
never gives a download its final name.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from seqnlp.errors import DatasetError

BLOCK_BYTES = 1 << 16
TIMEOUT_S = 60.0
USER_AGENT = "seqnlp (dataset fetch)"
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def download(
    url: str, part: Path, *, expected_size: int | None = None, progress: bool | None = None
) -> Path:
    """Download `url` into `part`, resuming from the bytes already in `part`.

    Args:
        url: the address (http, https or file).
        part: the partial file; created, appended to, or truncated when the server
            does not honour the range.
        expected_size: the full size, when known: a `part` of that size is taken as
            finished without a request, and a larger one is discarded.
        progress: show a tqdm bar on stderr; None shows it only when stderr is a terminal.

    Returns:
        `part`, holding the whole download (not yet verified).

    Raises:
        DatasetError: on an HTTP error, a connection failure, or a transfer cut short
            (the bytes received stay in `part`, and the message says to run again).
    """
    offset = part.stat().st_size if part.exists() else 0
    if expected_size is not None and offset > expected_size:
        part.unlink()
        offset = 0
    if expected_size is not None and offset == expected_size:
        return part
    part.parent.mkdir(parents=True, exist_ok=True)
    response = _open(url, offset)
    if response is None:  # 416: the range starts at the end, so `part` is whole
        return part
    with response:
        start, total = _resume_point(response, offset, url)
        show = sys.stderr.isatty() if progress is None else progress
        with open(part, "r+b" if start else "wb") as out, _bar(show, total, start, part) as bar:
            out.seek(start)
            out.truncate()
            received = _copy(response, out, bar, url, part)
    if total is not None and start + received != total:
        raise DatasetError(
            f"download of {url} stopped after {start + received:,} of {total:,} bytes; "
            "run the same command again to resume it"
        )
    return part


def _open(url: str, offset: int) -> Any:
    """Send the request (with a Range header when resuming); None on 416."""
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        return urllib.request.urlopen(request, timeout=TIMEOUT_S)  # noqa: S310
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            return None
        raise DatasetError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DatasetError(f"cannot download {url}: {reason}") from None


def _resume_point(response: Any, offset: int, url: str) -> tuple[int, int | None]:
    """Where the response's bytes go in the file, and the full size when stated."""
    length = response.headers.get("Content-Length")
    status = getattr(response, "status", 200)
    if status != 206:
        return 0, int(length) if length is not None else None
    match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
    if match is None or int(match.group(1)) != offset:
        raise DatasetError(
            f"download of {url}: the server answered the request for bytes {offset}- "
            f"with Content-Range {response.headers.get('Content-Range')!r}"
        )
    total = match.group(3)
    return offset, None if total == "*" else int(total)


def _copy(response: Any, out: BinaryIO, bar: Any, url: str, part: Path) -> int:
    """Copy the response body to `out`; a broken connection keeps what was received."""
    received = 0
    try:
        while block := response.read(BLOCK_BYTES):
            out.write(block)
            received += len(block)
            bar.update(len(block))
    except (OSError, http.client.HTTPException) as exc:
        out.flush()
        raise DatasetError(
            f"download of {url} was interrupted ({type(exc).__name__}) with "
            f"{part.stat().st_size:,} bytes in {part}; run the same command again to resume it"
        ) from None
    return received


class _NoBar:
    def update(self, count: int) -> None:
        """Ignore progress."""


@contextlib.contextmanager
def _bar(show: bool, total: int | None, start: int, part: Path) -> Iterator[Any]:
    """A tqdm byte counter on stderr, or an object that ignores updates."""
    if not show:
        yield _NoBar()
        return
    from tqdm import tqdm

    name = part.name.removesuffix(".part")
    with tqdm(total=total, initial=start, unit="B", unit_scale=True, desc=name) as bar:
        yield bar
