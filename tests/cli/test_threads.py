"""Thread defaults that hold up on a shared machine (issue 15.10)."""

from __future__ import annotations

import os

import pytest

from seqnlp.cli import common


@pytest.mark.parametrize(("load", "expected"), [(0.0, 4), (0.4, 4), (1.2, 3), (2.6, 1), (9.0, 1)])
def test_auto_threads_leaves_the_busy_cores_alone(
    monkeypatch: pytest.MonkeyPatch, load: float, expected: int
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    assert common.auto_threads() == expected


def test_set_threads_applies_the_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    before = torch.get_num_threads()
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    monkeypatch.setattr(common, "auto_threads", lambda: 1)
    try:
        assert common.set_threads(0) == 1 and torch.get_num_threads() == 1
        assert common.set_threads(2) == 2 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_every_command_that_uses_a_model_takes_threads() -> None:
    import typer

    from seqnlp.cli.help import commands, polish
    from seqnlp.cli.main import app

    using = {"eval", "run", "predict", "segment", "tag", "generate"}
    found = {}
    for path, command in commands(polish(typer.main.get_command(app))):
        if path.split()[-1] in using and not path.startswith("seqnlp w2v"):  # numpy, not torch
            found[path] = any("--threads" in getattr(p, "opts", ()) for p in command.params)
    assert {"seqnlp tagger eval", "seqnlp translate run", "seqnlp caption eval",
            "seqnlp trees predict", "seqnlp segment", "seqnlp tag"} <= set(found)
    assert [path for path, has in found.items() if not has] == []
