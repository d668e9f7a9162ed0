"""Every command's --help: each option has a description and a visible default (or says
what it depends on, or that it is required), and no Python or typer internals leak."""

from __future__ import annotations

import re

import pytest
import typer

from seqnlp.cli.help import commands, help_records, polish
from seqnlp.cli.main import app, main

COMMAND = polish(typer.main.get_command(app))
RECORDS = list(help_records(COMMAND))
VISIBLE = re.compile(r"default|required", re.IGNORECASE)


def test_the_walk_reaches_every_command() -> None:
    paths = {path for path, _ in commands(COMMAND)}
    assert {"seqnlp w2v train", "seqnlp lm train", "seqnlp classify eval", "seqnlp segment",
            "seqnlp tagger train", "seqnlp data get"} <= paths
    assert len(RECORDS) > 150


@pytest.mark.parametrize(("path", "names", "text"), RECORDS,
                         ids=[f"{p} {n.split()[0]}" for p, n, _ in RECORDS])
def test_each_option_has_a_description_and_a_visible_default(
    path: str, names: str, text: str
) -> None:
    description = re.sub(r"\[(default|required)[^\]]*\]", "", text).strip(" .")
    assert description, f"{path} {names}: no description"
    assert VISIBLE.search(text), f"{path} {names}: no default shown in {text!r}"
    assert "<bool>" not in names and "list[" not in names, names


@pytest.mark.parametrize("path", sorted(p for p, _ in commands(COMMAND)))
def test_help_output_shows_no_internals(
    path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*path.split()[1:], "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "Usage: seqnlp" in out
    for leak in ("<bool>", "list[", "{", "('", "NoneType"):
        assert leak not in out, f"{path} --help shows {leak!r}"
    # a "[default: ...]" written into a help string survives (rich markup swallowed it)
    assert not re.search(r"\w \.(\s|$)", out), "a help string lost its bracketed default"


def test_w2v_alpha_shows_what_its_default_depends_on(
    capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["w2v", "train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "0.025" in out and "0.05" in out
