"""Shared fixtures: where the real benchmark data lives, a private data home, one torch thread."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = Path(
    os.environ.get("SEQNLP_SHARED", REPO.parent / "shared" / "datasets")
).resolve()


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The folder ../shared/datasets; tests that need it skip cleanly where it is absent."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"real data not available at {SHARED_DATASETS}")
    return SHARED_DATASETS


def shared_file(*parts: str) -> Path:
    """A file under ../shared/datasets, skipping the calling test when it is absent."""
    path = SHARED_DATASETS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path}")
    return path


@pytest.fixture()
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty $SEQNLP_DATA for one test."""
    home = tmp_path / "data-home"
    monkeypatch.setenv("SEQNLP_DATA", str(home))
    return home


@pytest.fixture()
def one_thread() -> Iterator[None]:
    """One torch thread for the test, restored after it.

    Tiny tensors: one thread avoids OpenMP spinning on a shared machine, and a CLI run with
    `--threads N` sets the count process-wide, so the previous count is put back afterwards.
    Use it per module with `pytestmark = pytest.mark.usefixtures("one_thread")`.
    """
    import torch  # here, not at the top: most tests never load torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
