"""The files under configs/ train what the benchmarks train.

Each published benchmark row has a TOML file that `seqnlp classify|lm train --config FILE`
reads; these tests resolve every file the way the command does and hold the resulting model,
trainer and data settings equal to the benchmark's own dictionaries, so that a change to
either is caught.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from seqnlp.cli import classify as classify_cli
from seqnlp.cli import lm as lm_cli
from seqnlp.cli import tagger as tagger_cli
from seqnlp.cli.common import resolve_file, trainer_config
from seqnlp.models.classifier import ClassifierConfig
from seqnlp.models.language_model import LanguageModelConfig
from seqnlp.models.tagger import TaggerConfig
from seqnlp.tasks.language_modeling import LMBatching
from seqnlp.training import TrainerConfig

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
# Trainer fields a configuration decides (the rest are run-time: device, progress, paths).
TRAINER_FIELDS = ("optimizer", "lr", "epochs", "patience", "clip_norm", "alpha", "eps",
                  "weight_decay", "schedule", "grad_accum_steps", "momentum", "ema_decay")
DECAY_FIELDS = ("constant_epochs", "gamma")


def benchmark(name: str) -> ModuleType:
    """A benchmark script, imported as a module."""
    if name in sys.modules:
        return sys.modules[name]
    script = REPO / "benchmarks" / f"{name.removeprefix('_bench_')}.py"
    spec = importlib.util.spec_from_file_location(name, script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def classify_rows() -> dict[str, dict[str, Any]]:
    """configs/classify file name -> the benchmark spec it must equal."""
    bench = benchmark("_bench_classify")
    rows = {"imdb-worked": bench.WORKED, "sst2": bench.BEST_SST["sst2"],
            "sst5": bench.BEST_SST["sst5"]}
    rows.update({f"imdb-ensemble-{name}": bench.MEMBERS[name] for name in bench.BEST_ENSEMBLE})
    return rows


def lm_rows() -> dict[str, Any]:
    bench = benchmark("_bench_lm_ptb")
    return {"ptb-zaremba-small": bench.ZAREMBA_SMALL, "ptb-best": bench.BEST}


def tagger_rows() -> dict[str, Any]:
    bench = benchmark("_bench_cws")
    rows = {f"cws-{name}": spec for name, spec in bench.MODELS.items()}
    ner = benchmark("_bench_ner_conll")
    rows["ner-conll2003"] = {"model": ner.MODEL, "trainer": ner.TRAINER,
                             "batch_size": ner.BATCH_SIZE, "vectors": True,
                             "vector_words": ner.VECTOR_WORDS}
    return rows


def translate_rows() -> dict[str, Any]:
    return {f"multi30k-{name}": spec
            for name, spec in benchmark("_bench_translate_multi30k").MODELS.items()}


def trees_rows() -> dict[str, Any]:
    return dict(benchmark("_bench_trees_sst").MODELS)


def same_trainer(resolved: TrainerConfig, expected: TrainerConfig) -> None:
    fields = TRAINER_FIELDS + (DECAY_FIELDS if expected.schedule == "exponential" else ())
    got = {name: getattr(resolved, name) for name in fields}
    assert got == {name: getattr(expected, name) for name in fields}


def test_every_config_file_is_a_benchmark_row_and_back() -> None:
    files = {p.relative_to(CONFIGS).with_suffix("").as_posix() for p in CONFIGS.rglob("*.toml")}
    expected = ({f"classify/{n}" for n in classify_rows()} | {f"lm/{n}" for n in lm_rows()}
                | {f"tagger/{n}" for n in tagger_rows()} | {f"trees/{n}" for n in trees_rows()}
                | {f"translate/{n}" for n in translate_rows()})
    assert files == expected


@pytest.mark.parametrize("name", sorted(classify_rows()))
def test_classify_config_trains_the_benchmark_spec(name: str, tmp_path: Path) -> None:
    spec = classify_rows()[name]
    path = CONFIGS / "classify" / f"{name}.toml"
    run = resolve_file(classify_cli.OPTIONS, path, output=tmp_path / "m.pt")
    model = dict(run.section("model"), max_len=run["max_len"] or None)
    assert ClassifierConfig(2, 2, **model) == ClassifierConfig(2, 2, **spec["model"])
    same_trainer(trainer_config(run), TrainerConfig(**spec["trainer"]))
    assert classify_cli._max_vocab(run["max_vocab"]) == spec["max_vocab"]
    assert run["batch_size"] == spec["batch_size"]
    assert run["phrases"] == spec.get("phrases", False)
    assert run["seed"] == spec.get("seed", 0)
    assert (run["dev_seed"] if run["dev_seed"] is not None else run["seed"]) == 0  # the split
    assert run["data"] == ("imdb" if name.startswith("imdb") else name)
    if run["data"] == "imdb":
        assert run["dev_fraction"] == 0.1
    # rows with pretrained vectors say how to make them and pass them
    header = path.read_text().split("\n[", 1)[0]
    assert f"--config configs/classify/{name}.toml" in header
    assert ("--embeddings" in header) == ("vectors" in spec)


@pytest.mark.parametrize("name", sorted(lm_rows()))
def test_lm_config_trains_the_benchmark_setup(name: str, tmp_path: Path) -> None:
    setup = lm_rows()[name]
    path = CONFIGS / "lm" / f"{name}.toml"
    run = resolve_file(lm_cli.OPTIONS, path, output=tmp_path / "m.pt")
    assert (LanguageModelConfig(vocab_size=10, **run.section("model"))
            == LanguageModelConfig(vocab_size=10, **setup.model))
    same_trainer(trainer_config(run), TrainerConfig(**setup.trainer))
    batching = LMBatching(run["batch_size"], run["bptt"], run["variable_bptt"],
                          run["eval_batch_size"])
    assert dataclasses.astuple(batching) == dataclasses.astuple(setup.batching)
    assert run["data"] == "ptb" and run["level"] == "word" and run["seed"] == 0
    assert f"--config configs/lm/{name}.toml" in path.read_text()


@pytest.mark.parametrize("name", sorted(tagger_rows()))
def test_tagger_config_trains_the_benchmark_spec(name: str, tmp_path: Path) -> None:
    spec = tagger_rows()[name]
    path = CONFIGS / "tagger" / f"{name}.toml"
    run = resolve_file(tagger_cli.OPTIONS, path, output=tmp_path / "m.pt")
    ner = name.startswith("ner")
    sizes = {"vocab_size": 10, "tags": ("O", "S-PER") if ner else ("B", "M", "E", "S"),
             "scheme": "bioes" if ner else "bmes", "bigram_vocab_size": 0 if ner else 10,
             "char_vocab_size": 10 if ner else 0}
    expected = {**({"bigram_dim": 0} if ner else {}), **spec["model"]}
    assert (TaggerConfig(**sizes, **tagger_cli._model_options(run))
            == TaggerConfig(**sizes, **expected))
    same_trainer(trainer_config(run), TrainerConfig(**spec["trainer"]))
    assert run["batch_size"] == spec["batch_size"]
    assert (run["bigram_max_vocab"] or None) == spec.get("bigram_max_vocab")
    assert run["seed"] == 0
    if ner:  # benchmarks/ner_conll.py: CoNLL's own dev split, BIOES tags
        assert (run["task"], run["data"], run["scheme"]) == ("ner", "conll2003", "bioes")
    else:  # benchmarks/cws.py load_data
        assert (run["task"], run["data"], run["dev_fraction"]) == (
            "cws", spec.get("data", "pfr1998"), 0.05)
    assert ("--embeddings" in path.read_text()) == bool(spec.get("vectors"))
    assert ("--lexicon" in path.read_text()) == bool(spec.get("lexicon"))
    assert run["vector_words"] == spec.get("vector_words", 0)
    assert f"--config configs/tagger/{name}.toml" in path.read_text()


def test_a_changed_value_is_caught(tmp_path: Path) -> None:
    """The comparison can fail: a copy of a file with one value changed differs."""
    text = (CONFIGS / "classify" / "imdb-worked.toml").read_text()
    changed = tmp_path / "changed.toml"
    changed.write_text(text.replace("hidden_size = 32", "hidden_size = 33"))
    run = resolve_file(classify_cli.OPTIONS, changed, output=tmp_path / "m.pt")
    model = dict(run.section("model"), max_len=run["max_len"] or None)
    spec = classify_rows()["imdb-worked"]
    assert ClassifierConfig(2, 2, **model) != ClassifierConfig(2, 2, **spec["model"])
