"""One torch thread for the training tests: the machine has two cores shared by several
test runs, and oversubscribed intra-op threads slow tiny models tenfold."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    torch.set_num_threads(1)
