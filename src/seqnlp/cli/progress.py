"""Progress of long steps, as every command shows it: a bar with rate and time left on a
terminal, and a line when a phase starts and one when it ends when stderr is a file or a
pipe, each flushed as it happens. Both go to stderr, so stdout holds only results.

Tasks take a `track` argument (an iterable wrapper, identity by default) and never print;
commands pass `track` from here:

    probs = example_probabilities(model, vocab, examples, track=track)
    with phase("t-SNE of 500 words"):
        points = tsne(vectors)
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

Item = TypeVar("Item")


def _enabled() -> bool:
    """Only rank 0 shows progress under torchrun (each rank would print the same)."""
    return os.environ.get("RANK", "0") == "0"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _terminal() -> bool:
    return sys.stderr.isatty()


def track(items: Iterable[Item], desc: str, total: int | None = None,
          unit: str = "batch") -> Iterator[Item]:
    """Yield `items`, showing progress as `desc`.

    Args:
        items: what to iterate over.
        desc: the phase, e.g. "evaluating imdb test".
        total: the number of items when `items` has no len().
        unit: what one item is, for the rate ("batch", "window", "tree").
    """
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    if not _enabled():
        yield from items
        return
    if _terminal():
        from tqdm.auto import tqdm

        yield from tqdm(items, desc=desc, total=total, unit=unit, leave=False,
                        dynamic_ncols=True, file=sys.stderr)
        return
    plural = "" if total == 1 else "es" if unit.endswith(("ch", "sh", "s")) else "s"
    of = f" ({total:,} {unit}{plural})" if total else ""
    _say(f"{desc}{of} ...")
    start = time.perf_counter()
    yield from items
    _say(f"{desc}: done in {_seconds(time.perf_counter() - start)}")


@contextmanager
def phase(desc: str) -> Iterator[None]:
    """A step whose progress cannot be counted: one line as it starts, one as it ends
    (with its time), on a terminal too."""
    if not _enabled():
        yield
        return
    _say(f"{desc} ...")
    start = time.perf_counter()
    yield
    _say(f"{desc}: done in {_seconds(time.perf_counter() - start)}")


def _seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"
