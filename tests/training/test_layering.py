"""seqnlp.training stays model-agnostic and light: no seqnlp.models, no matplotlib."""

from __future__ import annotations

import subprocess
import sys


def test_training_imports_neither_models_nor_matplotlib() -> None:
    code = ("import seqnlp.training, seqnlp.training.gradient_flow, sys\n"
            "print('\\n'.join(sys.modules))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                text=True, check=True).stdout.split())
    assert "torch" in loaded
    assert not [m for m in loaded if m.startswith(("seqnlp.models", "seqnlp.tasks",
                                                    "seqnlp.cli", "matplotlib"))]
