"""Stopping training cleanly on Ctrl-C (SIGINT) or SIGTERM (a scheduler, `kill`, the end
of a job's time): the first signal asks the Trainer to stop after the update in progress,
write its last checkpoint and raise `TrainingInterrupted`; a second one stops at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from seqnlp.errors import SeqnlpError

SIGNALS = (signal.SIGINT, signal.SIGTERM)
logger = logging.getLogger(__name__)


class TrainingInterrupted(SeqnlpError):
    """Training stopped on a signal; the message says what was saved and how to resume."""

    exit_code = 130  # the shell's status for a process stopped by Ctrl-C


class StopRequest:
    """Whether a stop signal arrived (`requested`), and which (`name`)."""

    def __init__(self) -> None:
        self.requested = False
        self.name = ""


@contextmanager
def stop_on_signals(enabled: bool = True) -> Iterator[StopRequest]:
    """Within the block, SIGINT and SIGTERM set `request.requested` instead of killing the
    process (a note on stderr says so); a second signal raises KeyboardInterrupt at once.
    Outside the main thread (where handlers cannot be set), and when not `enabled` (several
    ranks, which would have to agree on the step to stop at), signals keep their defaults.
    """
    request = StopRequest()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield request
        return

    def handle(signum: int, frame: Any) -> None:
        if request.requested:
            raise KeyboardInterrupt
        request.requested, request.name = True, signal.Signals(signum).name
        logger.warning("seqnlp: %s: stopping after the current update (again: stop at once, "
                       "nothing more saved)", request.name)

    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    for signum in SIGNALS:
        signal.signal(signum, handle)
    try:
        yield request
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def interrupted_message(name: str, epoch: int, step: int, checkpoint: str | None) -> str:
    """What a user reads when training stopped on a signal."""
    where = f"stopped by {name} in epoch {epoch + 1} after {step:,} updates"
    if checkpoint is None:
        return (f"{where}; nothing was saved (train with --checkpoint-dir to be able to "
                "resume)")
    return (f"{where}; the training state is saved in {checkpoint}: run the same command "
            "with --resume to continue")
