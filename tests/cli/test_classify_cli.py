"""`seqnlp classify train|eval|predict`, run through the real entry point on tiny data."""

from __future__ import annotations

import io
import random
import sys
from pathlib import Path

import pytest
import torch

from seqnlp.cli import classify as classify_cli
from seqnlp.datasets import fetch
from seqnlp.models.classifier import load_classifier
from tests.cli.conftest import run_cli as run
from tests.conftest import shared_file

TINY = ["--epochs", "3", "--hidden-size", "8", "--embedding-dim", "8", "--lr", "0.03",
        "--batch-size", "16", "--device", "cpu"]


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture()
def tiny_tsv(tmp_path: Path) -> Path:
    """300 reviews; the label is given away by one word, "great" or "awful"."""
    rng = random.Random(0)
    lines = []
    for _ in range(300):
        label = rng.randint(0, 1)
        words = [rng.choice("the a film movie plot actor was".split()) for _ in range(rng.randint(3, 9))]
        words.insert(rng.randint(0, len(words)), "great" if label else "awful")
        lines.append(f"{label}\t{' '.join(words)}")
    path = tmp_path / "tiny.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_train_eval_predict_on_a_tiny_tsv(capsys, tmp_path, tiny_tsv, monkeypatch):
    model = tmp_path / "tiny.pt"
    code, out, err = run(capsys, "classify", "train", "--data", str(tiny_tsv), "-o", str(model),
                         "--encoder", "gru", "--pooling", "max", *TINY)
    assert code == 0, err
    assert "270 train, 30 dev, 0 test, 2 classes" in out
    assert "epoch 3: train loss" in out and f"model saved to {model}" in out
    dev = float(out.split("dev accuracy ")[-1].split()[0])
    assert dev >= 0.9

    code, out, err = run(capsys, "classify", "eval", str(model), "--data", str(tiny_tsv))
    assert code == 0, err
    assert "tiny.tsv: 300 examples" in out
    assert float(out.split("accuracy ")[1].split()[0]) >= 0.9
    rows = [line.split() for line in out.splitlines()[-2:]]
    assert [row[0] for row in rows] == ["0", "1"] and sum(int(row[4]) for row in rows) == 300

    code, out, _ = run(capsys, "classify", "predict", str(model), "a great film", "awful plot")
    assert code == 0
    labels = [line.split("\t") for line in out.splitlines()]
    assert [label for label, _ in labels] == ["1", "0"]
    assert all(0.5 < float(p) <= 1.0 for _, p in labels)

    monkeypatch.setattr(sys, "stdin", io.StringIO("great acting\n\nawful\r\n"))
    code, out, _ = run(capsys, "classify", "predict", str(model))
    # one output line per input line: the blank line stays blank, so outputs line up
    assert code == 0 and [line.split("\t")[0] for line in out.splitlines()] == ["1", "", "0"]


def test_keras_rmsprop_options_train_a_simple_rnn(capsys, tmp_path, tiny_tsv):
    model = tmp_path / "rnn.pt"
    code, out, err = run(capsys, "classify", "train", "--data", str(tiny_tsv), "-o", str(model),
                         "--encoder", "rnn", "--init", "keras", "--optimizer", "rmsprop",
                         "--alpha", "0.9", "--eps", "1e-7", "--max-len", "20", *TINY)
    assert code == 0, err
    assert f"model saved to {model}" in out
    config = load_classifier(model).model.config
    assert (config.encoder, config.init, config.max_len) == ("rnn", "keras", 20)


def test_train_and_eval_on_a_slice_of_sst5(capsys, tmp_path, data_home):
    fetch("sst", from_dir=shared_file("sst"))
    model = tmp_path / "sst5.pt"
    code, out, err = run(capsys, "classify", "train", "--data", "sst5", "-o", str(model),
                         "--train-limit", "400", "--encoder", "lstm", "--bidirectional",
                         "--pooling", "attention", *TINY[2:], "--epochs", "1", "--test")
    assert code == 0, err
    assert "sst5: 400 train, 1,101 dev, 2,210 test, 5 classes" in out
    assert "test accuracy" in out
    loaded = load_classifier(model)
    assert loaded.label_names[0] == "very negative" and loaded.extra["data"] == "sst5"
    assert loaded.model.config.bidirectional and loaded.model.config.pooling == "attention"

    code, out, err = run(capsys, "classify", "eval", str(model), "--data", "sst5", "--split", "dev")
    assert code == 0, err
    assert out.startswith("sst5 dev: 1,101 examples")
    assert len(out.splitlines()) == 3 + 5  # header lines, then one row per class


def test_pretrained_vectors_are_loaded_and_can_stay_frozen(capsys, tmp_path, tiny_tsv):
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("3 4\ngreat 1 0 0 1\nawful -1 0 0 1\nfilm 0 1 0 0\n", encoding="utf-8")
    model = tmp_path / "pre.pt"
    code, out, err = run(capsys, "classify", "train", "--data", str(tiny_tsv), "-o", str(model),
                         "--embeddings", str(vectors), "--freeze-embeddings", *TINY)
    assert code == 0, err
    assert "embeddings: 3 vectors of 4" in out
    assert "pretrained vectors cover 33.3% of the vocabulary words" in out  # 3 of 9
    loaded = load_classifier(model)
    weight = loaded.model.embedding.weight
    assert weight.shape[1] == 4
    torch.testing.assert_close(weight[loaded.vocab.index("great")], torch.tensor([1.0, 0, 0, 1]))
    assert torch.equal(weight[0], torch.zeros(4))


def test_a_checkpointed_run_resumes_where_it_stopped(capsys, tmp_path, tiny_tsv):
    checkpoints = tmp_path / "ckpt"
    common = ["classify", "train", "--data", str(tiny_tsv), *TINY, "--checkpoint-dir", str(checkpoints)]
    code, _, err = run(capsys, *common, "-o", str(tmp_path / "a.pt"), "--epochs", "1")
    assert code == 0, err
    assert (checkpoints / "last.pt").is_file()
    code, out, err = run(capsys, *common, "-o", str(tmp_path / "b.pt"), "--epochs", "2", "--resume")
    assert code == 0, err
    assert "epoch 1: train loss" in out and "epoch 2: train loss" in out and "epoch 3" not in out


@pytest.mark.parametrize(("args", "message"), [
    (["--data", "imbd"], "unknown classification data 'imbd'"),
    (["--data", "BAD"], "bad.tsv, line 2: missing TAB between label and text"),
    (["--data", "GOOD", "--pooling", "sum"], "pooling must be one of"),
    (["--data", "GOOD", "--pooling", "flatten"], "pooling='flatten' needs max_len"),
    (["--data", "GOOD", "--optimizer", "lamb"], "optimizer must be one of"),
    (["--data", "GOOD", "--optimizer", "rmsprop", "--alpha", "1"], "alpha must be in [0, 1)"),
    (["--data", "GOOD", "--resume"], "--resume needs --checkpoint-dir"),
    (["--data", "GOOD", "--max-len", "5", "--truncate", "middle"], "truncate must be one of"),
])
def test_bad_training_input_is_one_line_error(capsys, tmp_path, tiny_tsv, data_home, args, message):
    bad = tmp_path / "bad.tsv"
    bad.write_text("1\tfine\nno tab\n", encoding="utf-8")
    args = [str(bad) if a == "BAD" else str(tiny_tsv) if a == "GOOD" else a for a in args]
    code, out, err = run(capsys, "classify", "train", *args, "-o", str(tmp_path / "m.pt"), *TINY)
    assert code == 1
    assert err.startswith("seqnlp: error: ") and message in err and err.count("\n") == 1


def test_a_model_file_of_another_kind_is_one_line_error(capsys, tmp_path, tiny_tsv):
    other = tmp_path / "other.pt"
    torch.save({"format_version": 1, "kind": "language-model", "config": {}}, other)
    code, _, err = run(capsys, "classify", "predict", str(other), "text")
    assert code == 1
    assert err == f"seqnlp: error: {other}: is a 'language-model' model, expected a 'sequence-classifier' model\n"
    code, _, err = run(capsys, "classify", "eval", str(tmp_path / "missing.pt"), "--data", str(tiny_tsv))
    assert code == 1 and "no such model file" in err


def test_eval_and_predict_average_an_ensemble(capsys, tmp_path, tiny_tsv):
    paths = [tmp_path / "head.pt", tmp_path / "tail.pt"]
    for path, extra in zip(paths, [["--seed", "1"], ["--seed", "2", "--max-len", "6", "--truncate", "tail"]]):
        code, _, err = run(capsys, "classify", "train", "--data", str(tiny_tsv), "-o", str(path),
                           "--encoder", "gru", "--pooling", "max", *TINY, *extra)
        assert code == 0, err
    config = load_classifier(paths[1]).model.config
    assert (config.max_len, config.truncate) == (6, "tail")

    code, out, err = run(capsys, "classify", "eval", str(paths[0]), "--ensemble", str(paths[1]),
                         "--data", str(tiny_tsv))
    assert code == 0, err
    assert "tiny.tsv: 300 examples (2 models, probabilities averaged)" in out
    assert float(out.split("accuracy ")[1].split()[0]) >= 0.9

    texts = ["a great film", "awful plot"]
    singles = []
    for path in paths:
        code, out, _ = run(capsys, "classify", "predict", str(path), *texts)
        assert code == 0
        singles.append([line.split("\t") for line in out.splitlines()])
    code, out, _ = run(capsys, "classify", "predict", str(paths[0]), "-e", str(paths[1]), *texts)
    assert code == 0
    both = [line.split("\t") for line in out.splitlines()]
    assert [label for label, _ in both] == ["1", "0"]
    for i in range(2):  # each single model and the ensemble agree on the label here
        mean = (float(singles[0][i][1]) + float(singles[1][i][1])) / 2
        assert float(both[i][1]) == pytest.approx(mean, abs=1e-4)


def test_an_ensemble_of_models_with_different_labels_is_refused(capsys, tmp_path, tiny_tsv):
    three = tmp_path / "three.tsv"
    three.write_text("".join(f"{i % 3}\tword{i % 3} text\n" for i in range(60)), encoding="utf-8")
    paths = []
    for data in (tiny_tsv, three):
        paths.append(tmp_path / f"{data.stem}.pt")
        code, _, err = run(capsys, "classify", "train", "--data", str(data), "-o", str(paths[-1]),
                           *TINY[:2], *TINY[2:])
        assert code == 0, err
    code, _, err = run(capsys, "classify", "predict", str(paths[0]), "-e", str(paths[1]), "text")
    assert code == 1 and err.count("\n") == 1
    assert "three.pt: labels 0, 1, 2 differ from" in err and "the same labels" in err


def test_dev_seed_fixes_the_dev_cut_while_seed_changes_the_model(capsys, tmp_path, tiny_tsv,
                                                                monkeypatch):
    from seqnlp.tasks import classification

    real = classification.load_classification_data
    cut_seeds = []

    def spy(data, dev_fraction, seed, phrases, **options):
        cut_seeds.append(seed)
        return real(data, dev_fraction, seed, phrases, **options)

    monkeypatch.setattr(classification, "load_classification_data", spy)
    weights = []
    for extra in (["--seed", "1", "--dev-seed", "0"], ["--seed", "2", "--dev-seed", "0"], ["--seed", "3"]):
        path = tmp_path / "m.pt"
        code, _, err = run(capsys, "classify", "train", "--data", str(tiny_tsv), "-o", str(path),
                           *TINY, "--epochs", "1", *extra)
        assert code == 0, err
        weights.append(load_classifier(path).model.embedding.weight)
    assert cut_seeds == [0, 0, 3]
    assert not torch.equal(weights[0], weights[1])  # --seed still seeds the model


# ---------------------------------------------------------------- labels as users write them

def named_tsv(path: Path, count: int, seed: int) -> Path:
    """`count` lines labelled pos or neg; the label is given away by "great" or "awful"."""
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        label = rng.choice(["pos", "neg"])
        words = [rng.choice("the a film plot was".split()) for _ in range(rng.randint(2, 6))]
        words.insert(rng.randint(0, len(words)), "great" if label == "pos" else "awful")
        lines.append(f"{label}\t{' '.join(words)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_string_labels_train_on_a_dev_file_and_evaluate_and_predict_by_name(capsys, tmp_path,
                                                                           monkeypatch):
    train = named_tsv(tmp_path / "train.tsv", 200, 0)
    dev = named_tsv(tmp_path / "dev.tsv", 40, 1)
    model = tmp_path / "named.pt"
    code, out, err = run(capsys, "classify", "train", "--data", str(train), "--dev", str(dev),
                         "-o", str(model), *TINY)
    assert code == 0, err
    assert f"200 train, 40 dev (from {dev}), 0 test, 2 classes (neg, pos)" in out
    assert out.index("vocabulary:") < out.index("epoch 1: train loss")
    assert load_classifier(model).label_names == ("neg", "pos")

    code, out, err = run(capsys, "classify", "eval", str(model), "--data", str(dev),
                         "--threads", "1")
    assert code == 0, err
    assert "dev.tsv: 40 examples" in out and float(out.split("accuracy ")[1].split()[0]) >= 0.9
    assert [line.split()[0] for line in out.splitlines()[-2:]] == ["neg", "pos"]
    # stderr is no terminal here: a line as each phase starts and ends; reading 40 texts is
    # too short to show, unless the threshold is lowered
    assert "scoring named.pt (1 batch) ..." in err and "scoring named.pt: done in" in err
    assert "reading" not in err
    monkeypatch.setattr(classify_cli, "LONG_READ", 10)
    code, _, err = run(capsys, "classify", "eval", str(model), "--data", str(dev))
    assert code == 0 and "reading dev.tsv (40 texts) ..." in err

    code, out, _ = run(capsys, "classify", "predict", str(model), "a great film", "awful plot")
    assert code == 0 and [line.split("\t")[0] for line in out.splitlines()] == ["pos", "neg"]

    code, _, err = run(capsys, "classify", "eval", str(model), "--data", str(train),
                       "--split", "dev")
    assert code == 1 and f"selected on its own dev file, {dev} (--dev)" in err


def test_eval_split_dev_scores_the_cut_that_training_selected_on(capsys, tmp_path, tiny_tsv):
    model = tmp_path / "m.pt"
    code, out, err = run(capsys, "classify", "train", "--data", str(tiny_tsv), "-o", str(model),
                         "--dev-fraction", "0.2", "--seed", "4", "--dev-seed", "9", *TINY)
    assert code == 0, err
    kept = load_classifier(model).extra["dev_accuracy"]
    code, out, err = run(capsys, "classify", "eval", str(model), "--data", str(tiny_tsv),
                         "--split", "dev")
    assert code == 0, err
    assert "dev (dev part of a 0.2 dev cut, seed 9): 60 examples" in out
    assert float(out.split("accuracy ")[1].split()[0]) == pytest.approx(kept, abs=1e-4)
    code, out, err = run(capsys, "classify", "eval", str(model), "--data", str(tiny_tsv),
                         "--split", "train")
    assert code == 0 and ": 240 examples" in out


def test_eval_of_a_file_label_the_model_does_not_know_names_file_and_line(capsys, tmp_path,
                                                                         tiny_tsv):
    model = tmp_path / "m.pt"
    code, _, err = run(capsys, "classify", "train", "--data", str(tiny_tsv), "-o", str(model),
                       *TINY, "--epochs", "1")
    assert code == 0, err
    other = tmp_path / "other.tsv"
    other.write_text("0\tgood\nsports\tmatch\n", encoding="utf-8")
    code, _, err = run(capsys, "classify", "eval", str(model), "--data", str(other))
    assert code == 1 and err.count("\n") == 1
    assert f"{other}, line 2: label 'sports' is not a non-negative integer" in err


def test_kims_widths_train_from_the_command_line(capsys, tmp_path, tiny_tsv):
    model = tmp_path / "kim.pt"
    code, out, err = run(capsys, "classify", "train", "--data", str(tiny_tsv), "-o", str(model),
                         "--encoder", "tdnn", "--widths", "2,3", "--pooling", "max", *TINY)
    assert code == 0, err
    config = load_classifier(model).model.config
    assert (config.encoder, config.widths, config.pooling) == ("tdnn", (2, 3), "max")
    code, out, _ = run(capsys, "classify", "config", str(model))
    assert 'widths = "2,3"' in out


def test_the_defaults_are_the_candidate_the_defaults_study_chose():
    import importlib.util
    import json

    from seqnlp.models.classifier import parse_widths

    repo = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location(
        "_bench_classify_defaults", repo / "benchmarks" / "classify_defaults.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    report = json.loads((repo / "benchmarks/results/classify_defaults.json").read_text())
    chosen = bench.CANDIDATES[report["chosen"]]
    assert all(key in report["runs"] for key in
               (f"{name}|{report['chosen']}" for name in bench.DATA_SETS))
    from seqnlp.cli.common import resolve_file

    run = resolve_file(classify_cli.OPTIONS, None, output=Path("m.pt"), data="d.tsv")
    defaults = {**run.values, **classify_cli.model_section(run)}  # what a bare run trains
    for key in ("encoder", "bidirectional", "hidden_size", "embedding_dim", "pooling",
                "dropout", "embedding_dropout", "lr", "batch_size", "clip", "max_vocab"):
        assert defaults[key] == chosen[key], key
    assert defaults["epochs"] == (chosen["epochs"] or bench.EPOCHS)
    # a TDNN of one window of 5 words is the default context, written "" on the command line
    windows = {(): (5,)} if defaults["encoder"] == "tdnn" else {}
    got = parse_widths(defaults["widths"])
    assert windows.get(got, got) == parse_widths(chosen["widths"] or "")
    tdnn = classify_cli.model_section(resolve_file(classify_cli.OPTIONS, None, output=Path("m"),
                                                   data="d.tsv", encoder="tdnn"))
    assert tdnn["bidirectional"] is False  # a TDNN reads one way unless told otherwise
