"""`pip install seqnlp` without extras, into a fresh virtual environment (no system
packages), then `seqnlp w2v eval` and `seqnlp classify predict`: the declared dependencies
suffice for the commands that need no optional package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
TORCH = "torch==2.13.0"  # the CPU build the Makefile installs (found locally by pip)

pytestmark = pytest.mark.slow


def run(*command: str | Path, timeout: float = 600) -> str:
    """Run a command with a clean environment; return its stdout, failing on a bad status."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding torch and seqnlp (built from a copy of src/, no extras)."""
    root = tmp_path_factory.mktemp("install")
    source = root / "seqnlp-src"  # a copy, so that the build writes nothing into the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.nbi", "*.nbc"))
    env = root / "venv"
    run(sys.executable, "-m", "venv", env)
    python = env / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", TORCH)
    run(python, "-m", "pip", "install", "--quiet", source)
    return env


def test_the_fresh_venv_has_no_optional_packages(venv: Path) -> None:
    # scikit-learn (and its scipy) is a dependency since captioning draws its images from it.
    code = ("import importlib.util as u; "
            "print(*[m for m in ('matplotlib', 'gensim', 'jieba', 'pytest') "
            "if u.find_spec(m)])")
    assert run(venv / "bin" / "python", "-c", code).strip() == ""


def test_w2v_eval_runs_on_a_tiny_vectors_file(venv: Path, tmp_path: Path) -> None:
    words = ["king", "queen", "man", "woman", "paris", "france", "rome", "italy"]
    rng = np.random.default_rng(0)
    vectors = tmp_path / "tiny.txt"
    rows = [f"{w} " + " ".join(f"{x:.4f}" for x in rng.standard_normal(5)) for w in words]
    vectors.write_text(f"{len(words)} 5\n" + "\n".join(rows) + "\n", encoding="utf-8")
    analogies = tmp_path / "questions.txt"
    analogies.write_text(": capital-common-countries\nparis france rome italy\n"
                         ": family\nman woman king queen\n", encoding="utf-8")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("king\tqueen\t8.5\nman\twoman\t8.3\nparis\tking\t1.2\n"
                     "rome\titaly\t7.0\nfrance\tman\t0.5\n", encoding="utf-8")
    out = run(venv / "bin" / "seqnlp", "w2v", "eval", vectors,
              "--analogies", analogies, "--pairs", pairs)
    assert "capital-common-countries" in out and "family" in out
    assert "\npairs " in out and "spearman" in out  # the row is named after its file


def test_classify_predict_reads_a_model_saved_through_the_python_api(
    venv: Path, tmp_path: Path
) -> None:
    import torch

    from seqnlp.models.classifier import ClassifierConfig, SequenceClassifier, save_classifier
    from seqnlp.text import Vocab

    texts = [["great", "film"], ["awful", "film"], ["a", "great", "plot"], ["an", "awful", "plot"]]
    labels = torch.tensor([1, 0, 1, 0])
    vocab = Vocab.build(texts)
    torch.manual_seed(0)
    model = SequenceClassifier(ClassifierConfig(
        vocab_size=len(vocab), embedding_dim=8, hidden_size=8, encoder="gru"))
    ids = torch.zeros(len(texts), 3, dtype=torch.long)  # (B, T), padded with id 0
    for row, tokens in enumerate(texts):
        ids[row, : len(tokens)] = torch.tensor([vocab.index(t) for t in tokens])
    lengths = torch.tensor([len(t) for t in texts])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(60):
        optimizer.zero_grad()
        _, loss = model(ids, lengths, labels)
        loss.backward()
        optimizer.step()
    path = tmp_path / "tiny.model"
    save_classifier(path, model, vocab, ["neg", "pos"])

    out = run(venv / "bin" / "seqnlp", "classify", "predict", path, "great film", "awful film",
              "--device", "cpu")
    predicted = [line.split("\t")[0] for line in out.splitlines()]
    assert predicted == ["pos", "neg"]


def test_the_shipped_segmenter_works_with_no_model_argument(venv: Path) -> None:
    """A plain install segments Chinese at once: the default model is package data."""
    out = run(venv / "bin" / "seqnlp", "segment", "我爱北京天安门")
    assert out.strip() == "我 爱 北京 天安门"
    code = "import seqnlp; print('/'.join(seqnlp.segment('共同创造美好的新世纪')))"
    assert run(venv / "bin" / "python", "-c", code).strip() == "共同/创造/美好/的/新/世纪"
