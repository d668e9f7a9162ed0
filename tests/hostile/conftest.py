"""The hostile-input harness: run one `seqnlp` invocation on bad input and hold it to the
README's promise.

A `Row` is one invocation: the arguments, the files it reads (created in a fresh working
folder first), optional stdin bytes, the exit status and the words its message must hold.
`check_row` runs it in-process through the real entry point and asserts, for every row:

- the exit status is non-zero (and the row's own, when it names one);
- stderr is exactly one line, starting with `seqnlp: error: `, holding every expected word
  (case-insensitive), with no Python traceback;
- nothing was left behind: the working folder and the data home hold the same files, with
  the same sizes and times, as before the run (no output, no temporary file);
- it finished within the row's time limit (an alarm interrupts a hang).

Placeholders in arguments, `{name}`, are replaced by `paths()`: `{classifier}` and `{lm}`
(model files written by release 0.1), `{vectors}` (a small word2vec text file), `{tsv}` (a
good label<TAB>text file), `{text}` (a good plain-text corpus) and `{home}` (the data home).
Each area's rows live in their own `test_rows_*.py`, and each file calls `check_row`.
"""

from __future__ import annotations

import io
import os
import signal
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from seqnlp.cli.main import main

PREFIX = "seqnlp: error: "
FIXTURES = Path(__file__).resolve().parents[1] / "models" / "fixtures"

GOOD_TSV = "".join(f"{i % 2}\t{'a fine film' if i % 2 else 'a dull mess'} number {i}\n"
                   for i in range(40))
GOOD_TEXT = "".join(f"the cat sat on the mat number {i} .\n" for i in range(60))
GOOD_VECTORS = "4 3\nthe 0.1 0.2 0.3\ncat 0.2 0.1 0.0\nsat -0.1 0.4 0.2\nmat 0.3 0.3 0.1\n"


@dataclass(frozen=True)
class Row:
    """One bad invocation and what its one-line error must say.

    Attributes:
        id: a short name, shown by pytest.
        args: the arguments after `seqnlp`, with `{placeholders}`.
        files: files created in the working folder before the run: name -> bytes (a
            name ending in "/" is created as a folder).
        words: what the message must contain (case-insensitive).
        code: the exit status expected; None accepts any non-zero status.
        stdin: bytes given on standard input (None: an empty, non-terminal stdin).
        timeout: seconds before the run counts as hung.
    """

    id: str
    args: tuple[str, ...]
    files: dict[str, bytes] = field(default_factory=dict)
    words: tuple[str, ...] = ()
    code: int | None = None
    stdin: bytes | None = None
    timeout: float = 60.0


def rows_params(rows: list[Row]) -> list[object]:
    """`rows` as pytest parameters with their ids."""
    ids = [row.id for row in rows]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"duplicate row ids: {sorted(duplicates)}"
    return [pytest.param(row, id=row.id) for row in rows]


@pytest.fixture()
def hostile_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """A working folder (the current directory), a data home and the placeholder paths."""
    work = tmp_path / "work"
    home = tmp_path / "home"
    inputs = tmp_path / "inputs"
    for folder in (work, home, inputs):
        folder.mkdir()
    (inputs / "good.tsv").write_text(GOOD_TSV)
    (inputs / "good.txt").write_text(GOOD_TEXT)
    (inputs / "vectors.txt").write_text(GOOD_VECTORS)
    monkeypatch.setenv("SEQNLP_DATA", str(home))
    monkeypatch.chdir(work)
    yield {"work": work, "home": home, "classifier": FIXTURES / "classifier-release-0.1.pt",
           "lm": FIXTURES / "lm-release-0.1.pt", "tsv": inputs / "good.tsv",
           "text": inputs / "good.txt", "vectors": inputs / "vectors.txt"}


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder below `folder`: relative path -> (size, mtime in ns)."""
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root, name)
            info = path.lstat()
            found[str(path.relative_to(folder))] = (info.st_size if name in files else 0,
                                                    info.st_mtime_ns if name in files else 0)
    return found


class _Hung(BaseException):
    """Raised by the alarm: not an Exception, so that no handler in the code swallows it."""


def prepare(row: Row, env: dict[str, Path]) -> None:
    """Create the row's files in the working folder."""
    for name, content in row.files.items():
        target = env["work"] / name
        if name.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)


def run_row(row: Row, env: dict[str, Path], capsys: pytest.CaptureFixture[str]
            ) -> tuple[int, str, str]:
    """Run the row (its files already prepared); return (exit status, stdout, stderr)."""
    import torch

    places = {key: str(value) for key, value in env.items()}
    args = [arg.format(**places) for arg in row.args]
    threads = torch.get_num_threads()
    saved_stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(row.stdin or b""), encoding="utf-8")

    def hung(signum: int, frame: object) -> None:
        raise _Hung()

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, row.timeout)
    code: int | None = None
    escaped = ""
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except _Hung:
        pytest.fail(f"{row.id}: still running after {row.timeout:g} s: seqnlp {' '.join(args)}")
    except BaseException:  # noqa: BLE001 - any escape is the failure this suite looks for
        escaped = traceback.format_exc()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.stdin = saved_stdin
        torch.set_num_threads(threads)
    out, err = capsys.readouterr()
    if escaped:
        pytest.fail(f"{row.id}: an exception escaped `seqnlp {' '.join(args)}`:\n{escaped}")
    assert code is not None
    return code, out, err


def check_row(row: Row, env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> str:
    """Prepare and run `row`, assert the promise above, and return its message."""
    prepare(row, env)
    before = {"work": snapshot(env["work"]), "home": snapshot(env["home"])}
    code, out, err = run_row(row, env, capsys)
    command = f"seqnlp {' '.join(row.args)}"
    assert code != 0, f"{row.id}: exit 0 for {command}\nstdout: {out[-2000:]}\nstderr: {err[-2000:]}"
    if row.code is not None:
        assert code == row.code, f"{row.id}: exit {code}, expected {row.code}: {err[-2000:]}"
    assert "Traceback" not in err, f"{row.id}: traceback on stderr:\n{err[-3000:]}"
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1, f"{row.id}: stderr has {len(lines)} lines:\n{err[-3000:]}"
    message = lines[0]
    assert message.startswith(PREFIX), f"{row.id}: stderr does not start with {PREFIX!r}: {message}"
    for word in row.words:
        assert word.lower() in message.lower(), f"{row.id}: {word!r} not in: {message}"
    for place in ("work", "home"):
        after = snapshot(env[place])
        assert after == before[place], (
            f"{row.id}: the {place} folder changed: added {sorted(set(after) - set(before[place]))}, "
            f"removed {sorted(set(before[place]) - set(after))}, changed "
            f"{sorted(k for k in set(after) & set(before[place]) if after[k] != before[place][k])}")
    return message
