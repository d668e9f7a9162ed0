"""Models that ship inside the package: the default Chinese word segmenter.

`segmenter-pku.pt` is written by `python benchmarks/cws.py --part ship` (see that script for
how it is trained and scored); `default_segmenter()` loads it once per process.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from seqnlp.errors import SeqnlpError

SEGMENTER_FILE = Path(__file__).with_name("segmenter-pku.pt")
MAX_SHIPPED_BYTES = 10 * 2**20  # a shipped model stays under 10 MB


def default_segmenter_path() -> Path:
    """The shipped segmenter's file.

    Raises:
        SeqnlpError: this installation holds none (a source tree before `--part ship`).
    """
    if not SEGMENTER_FILE.is_file():
        raise SeqnlpError(f"no default segmenter in this installation ({SEGMENTER_FILE} is "
                          "missing); give a model file, or write one with "
                          "`python benchmarks/cws.py --part train ship`")
    return SEGMENTER_FILE


@functools.lru_cache(maxsize=1)
def default_segmenter() -> Any:
    """The shipped segmenter as a `LoadedTagger`, loaded once."""
    from seqnlp.models import load_model

    return load_model(default_segmenter_path(), expect="tagger")
