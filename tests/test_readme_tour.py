"""README's command-line tour runs as written, in order, from an empty folder (issue 15.6).

Each line of the tour's bash block runs in bash with the installed `seqnlp` first on PATH,
a fresh data home, and two changes that keep the run short and offline: datasets are
imported from ../shared/datasets (a `data get` without `--from` gets it), and every
`train` command gets tiny options appended (one epoch, a few updates; the command line's
last value wins). Lines that need several machines (`HOST:`) are skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "datasets"

pytestmark = pytest.mark.slow

# Appended to `seqnlp <command> train ...` (and `torchrun ... -m seqnlp <command> train`).
TINY = "--epochs 1 --max-steps 3"
TINY_EXTRA = {
    "classify": "--train-limit 300 --hidden-size 16 --embedding-dim 16",
    "lm": "--hidden-size 16 --embedding-dim 16",
    "tagger": "--hidden-size 16",
    "caption": "--examples 300 --dev-examples 100",
    "translate": "--hidden-size 16 --embedding-dim 16",
}
W2V_TINY = "--epochs 1"


def tour_lines() -> list[str]:
    """The logical lines of the first bash block after "## The command line"."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## The command line", 1)[1]
    block = section.split("```bash\n", 1)[1].split("\n```", 1)[0]
    joined = block.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def shortened(line: str) -> str | None:
    """The line as the test runs it, or None to skip it."""
    if "HOST:" in line:
        return None
    line = re.sub(r"\s+#\s.*$", "", line)  # a trailing comment
    line = line.replace("../shared/datasets", str(SHARED))
    get = re.fullmatch(r"seqnlp data get (\S+)", line)
    if get:
        return f"{line} --from {SHARED / get.group(1)}"
    train = re.search(r"seqnlp (\w+) train\b", line)
    if train and "|" not in line:
        command = train.group(1)
        extra = W2V_TINY if command == "w2v" else f"{TINY} {TINY_EXTRA.get(command, '')}"
        return f"{line} {extra}".rstrip()
    return line


def test_the_tour_parses_into_commands() -> None:
    lines = tour_lines()
    assert len(lines) > 30
    assert all("seqnlp" in line or line.startswith("printf") for line in lines), lines


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/datasets is absent")
def test_every_line_of_the_tour_runs_in_order(tmp_path: Path) -> None:
    (tmp_path / "configs").symlink_to(REPO / "configs")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "SEQNLP_DATA": str(tmp_path / "home"),
           "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "OMP_NUM_THREADS": "1"}
    for line in tour_lines():
        command = shortened(line)
        if command is None:
            continue
        done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (
            f"README tour line failed ({done.returncode}): {line}\nran: {command}\n"
            f"{done.stderr[-2000:]}")
