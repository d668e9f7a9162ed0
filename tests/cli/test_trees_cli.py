"""`seqnlp trees train|eval|predict|config`, run through the real entry point on tiny data, and
configs/trees held equal to benchmarks/trees_sst.py's MODELS."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from seqnlp.cli import trees as trees_cli
from seqnlp.cli.common import resolve_file, trainer_config
from seqnlp.models.tree_classifier import TreeClassifierConfig
from seqnlp.training import TrainerConfig
from tests.cli.conftest import run_cli as run

pytestmark = pytest.mark.usefixtures("one_thread")

REPO = Path(__file__).resolve().parents[2]
TINY = ["--epochs", "4", "--hidden-size", "8", "--lr", "0.3", "--batch-size", "10",
        "--device", "cpu", "--no-progress", "--patience", "0"]


@pytest.fixture()
def tiny_trees(tmp_path: Path) -> Path:
    """120 trees "(L (2 the) (L (L word) (2 film)))", L = 4 for a good word, 0 for a bad one."""
    lines = []
    for i in range(120):
        word = ("great", "superb", "awful", "dull")[i % 4]
        label = 4 if i % 4 < 2 else 0
        lines.append(f"({label} (2 the) ({label} ({label} {word}) (2 film)))")
    path = tmp_path / "tiny.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("model", trees_cli.MODELS)
def test_train_eval_predict_config_with_every_model(capsys, tmp_path, tiny_trees, model):
    path = tmp_path / f"{model}.pt"
    sparse = ("--sparse",) if model == "mvrnn" else ()  # dense for the others
    code, out, err = run(capsys, "trees", "train", "--data", str(tiny_trees), "--model", model,
                         "-o", str(path), *TINY, *sparse)
    assert code == 0, err
    assert "data: tiny.txt: 108 train, 12 dev, 0 test trees" in out
    assert "epoch 4: train loss" in out and f"model saved to {path}" in out
    assert float(out.split("dev: fine root ")[-1].split(",")[0]) >= 0.9

    code, out, err = run(capsys, "trees", "eval", str(path), "--split", "dev")
    assert code == 0, err
    assert "tiny.txt dev: 12 trees" in out and "binary root\t1.0000" in out

    code, out, err = run(capsys, "trees", "predict", str(path), "(2 (2 the) (2 (2 dull) (2 film)))",
                         "superb")
    assert code == 0, err
    first, second = out.splitlines()
    assert first.startswith("(0 (2 the) (0 (0 dull) ") and second == "(4 superb)"
    assert "balanced binary trees" in err

    code, out, err = run(capsys, "trees", "config", str(path))
    assert code == 0, err
    assert f'model = "{model}"' in out and "[trainer]" in out
    assert f"sparse = {'true' if sparse else 'false'}" in out


def test_predict_reads_stdin_prints_nodes_and_draws(capsys, tmp_path, tiny_trees):
    pytest.importorskip("matplotlib")
    path = tmp_path / "m.pt"
    assert run(capsys, "trees", "train", "--data", str(tiny_trees), "--model", "rvnn", "-o",
               str(path), *TINY)[0] == 0
    picture = tmp_path / "tree.png"
    code, out, err = run(capsys, "trees", "predict", str(path), "--format", "nodes", "--shape",
                         "right", "--plot", str(picture), stdin="the awful film\n")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "# tree: right binary tree over the words (no parse given)"
    assert lines[1].startswith("0 very negative") and lines[1].endswith("the awful film")
    assert lines[-1].strip().endswith("film") and len(lines) == 1 + 5
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (("predict", "{model}", "(2 (2 a)"), None, ("argument, line 1", "unbalanced")),
        (("predict", "{model}"), "(2 a)\n(9 (2 a) (2 b))\n", ("stdin, line 2", "label 9")),
        (("predict", "{model}"), "fine\n\n", ("stdin, line 2", "empty text")),
        (("predict", "{model}", "a", "--shape", "zigzag"), None, ("--shape", "balanced")),
        (("eval", "{model}", "--split", "valid"), None, ("--split", "test, dev")),
    ],
)
def test_bad_input_is_one_line_naming_the_line(capsys, tmp_path, tiny_trees, args, stdin, words):
    path = tmp_path / "m.pt"
    assert run(capsys, "trees", "train", "--data", str(tiny_trees), "--model", "rvnn", "-o",
               str(path), "--epochs", "1", "--hidden-size", "4", "--no-progress")[0] == 0
    code, out, err = run(capsys, "trees", *(a.format(model=path) for a in args), stdin=stdin)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seqnlp: error: ")
    for word in words:
        assert word in lines[0]


def benchmark_models() -> dict:
    spec = importlib.util.spec_from_file_location("_bench_trees_sst",
                                                  REPO / "benchmarks" / "trees_sst.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MODELS


@pytest.mark.parametrize("name", sorted(benchmark_models()))
def test_config_file_trains_the_benchmark_spec(name: str, tmp_path: Path) -> None:
    spec = benchmark_models()[name]
    path = REPO / "configs" / "trees" / f"{name}.toml"
    run_ = resolve_file(trees_cli.OPTIONS, path, output=tmp_path / "m.pt")
    assert (TreeClassifierConfig(10, **trees_cli.model_options(run_))
            == TreeClassifierConfig(10, **spec["model"]))
    fields = ("optimizer", "lr", "epochs", "patience", "weight_decay")
    resolved, expected = trainer_config(run_), TrainerConfig(**spec["trainer"])
    assert {f: getattr(resolved, f) for f in fields} == {f: getattr(expected, f) for f in fields}
    assert run_["batch_size"] == spec["batch_size"] and run_["data"] == "sst"
    assert f"--config configs/trees/{name}.toml" in path.read_text()


def test_train_from_word_vectors_reports_their_coverage(capsys, tmp_path, tiny_trees):
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("3 4\nthe 0.1 0.2 0.3 0.4\nfilm 0.5 0.1 0.0 0.2\nzzz 1 1 1 1\n",
                       encoding="utf-8")
    code, out, err = run(capsys, "trees", "train", "--data", str(tiny_trees), "--model", "rvnn",
                         "--embeddings", str(vectors), "--sparse", "-o",
                         str(tmp_path / "m.pt"), *TINY)
    assert code == 0, err
    assert "pretrained vectors cover " in out and "embedding_dim" not in err
