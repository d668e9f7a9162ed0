"""cli.progress: what long steps print when stderr is not a terminal (a line as a phase
starts, one as it ends), and nothing on ranks other than 0."""

from __future__ import annotations

import pytest

from seqnlp.cli.progress import phase, track


def test_track_prints_a_start_and_an_end_line_and_yields_every_item(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RANK", raising=False)
    assert list(track(range(3), "scoring m.pt", unit="batch")) == [0, 1, 2]
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "scoring m.pt (3 batches) ..."
    assert lines[1].startswith("scoring m.pt: done in ") and lines[1].endswith(" s")
    assert len(lines) == 2


def test_units_and_unknown_totals_read_naturally(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RANK", raising=False)
    list(track(iter([1]), "reading", total=1, unit="window"))
    list(track(iter([1, 2]), "reading more", unit="tree"))  # no len(): no count shown
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "reading (1 window) ..."
    assert lines[2] == "reading more ..."


def test_phase_times_a_step_that_cannot_be_counted(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RANK", raising=False)
    with phase("t-SNE of 200 words"):
        pass
    assert capsys.readouterr().err.splitlines()[-1].startswith("t-SNE of 200 words: done in ")


def test_other_ranks_print_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RANK", "1")
    assert list(track([1, 2], "scoring")) == [1, 2]
    with phase("t-SNE"):
        pass
    assert capsys.readouterr().err == ""


def test_an_error_inside_a_phase_is_not_reported_as_done(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RANK", raising=False)
    with pytest.raises(ValueError), phase("drawing"):
        raise ValueError("bad")
    assert "done" not in capsys.readouterr().err
