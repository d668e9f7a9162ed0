"""configs/translate/*.toml train the models of benchmarks/translate_multi30k.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def benchmark() -> object:
    spec = importlib.util.spec_from_file_location(
        "translate_multi30k", REPO / "benchmarks" / "translate_multi30k.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["attention", "no-attention"])
def test_config_file_equals_the_benchmark_model(name: str) -> None:
    from seqnlp.cli.options import resolve_file
    from seqnlp.cli.translate import OPTIONS

    bench = benchmark()
    resolved = resolve_file(OPTIONS, REPO / "configs" / "translate" / f"multi30k-{name}.toml",
                            output=Path("x.pt"))
    model = resolved.section("model")
    assert {k: model[k] for k in bench.MODELS[name]} == bench.MODELS[name]  # type: ignore[attr-defined]
    for key, value in bench.DATA.items():  # type: ignore[attr-defined]
        assert resolved[key] == value, key
    trainer = bench.TRAINER  # type: ignore[attr-defined]
    assert (resolved["lr"], resolved["clip"], resolved["epochs"], resolved["patience"]) == (
        trainer["lr"], trainer["clip_norm"], trainer["epochs"], trainer["patience"])
