"""`import seqnlp` and `seqnlp --help` stay cheap: no torch, numba or matplotlib."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "numba", "matplotlib", "sklearn", "gensim")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout
    return set(out.split())


@pytest.mark.parametrize(
    "code",
    [
        "import seqnlp",
        "import seqnlp.text, seqnlp.datasets",
        "import seqnlp.cli.main",
        "from seqnlp.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass",
    ],
)
def test_cheap_imports_leave_heavy_packages_out(code: str) -> None:
    loaded = _modules_after(code)
    assert not [m for m in HEAVY if m in loaded]


def test_word2vec_never_imports_torch() -> None:
    loaded = _modules_after("import seqnlp.word2vec")
    assert "torch" not in loaded


def test_python_dash_m_seqnlp_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "seqnlp", "version"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout.strip() == __import__("seqnlp").__version__
