"""Hostile rows for saved models: a file's config, vocabularies, extra facts and weights are
not trusted. Each file is a hand-made format-2 payload (`{format_version, kind, config,
state_dict, vocabs, extra}`) derived from the release-0.1 fixtures and written with
torch.save; every row must give one line naming the file and the problem, before anything
the config sizes is allocated (see conftest.py for what every row must satisfy)."""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.hostile.conftest import (
    FIXTURES,
    Row,
    check_row,
    prepare,
    rows_params,
    run_row,
)

pytestmark = pytest.mark.usefixtures("one_thread")

Payload = dict[str, Any]


def _format_2(name: str) -> Payload:
    payload = torch.load(FIXTURES / name, weights_only=True)
    payload["format_version"] = 2
    payload["vocabs"] = {"tokens": payload.pop("vocab")}
    return payload


LM = _format_2("lm-release-0.1.pt")
CLASSIFIER = _format_2("classifier-release-0.1.pt")


def _file(base: Payload, change: Callable[[Payload], object]) -> bytes:
    payload = copy.deepcopy(base)
    change(payload)
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def _set(part: str, key: str, value: object) -> Callable[[Payload], object]:
    return lambda p: p[part].__setitem__(key, value)


def _drop(part: str) -> Callable[[Payload], object]:
    return lambda p: p.pop(part)


def _weight(key: str, value: torch.Tensor) -> Callable[[Payload], object]:
    return lambda p: p["state_dict"].__setitem__(key, value)


def _nan_at(key: str) -> Callable[[Payload], object]:
    return lambda p: p["state_dict"][key].view(-1).__setitem__(0, float("nan"))


def _lm_row(id: str, change: Callable[[Payload], object], *words: str,
            command: tuple[str, ...] = ("lm", "generate"), timeout: float = 30.0) -> Row:
    name = f"{id}.pt"
    return Row(f"lm-{id}", (*command, name), files={name: _file(LM, change)},
               words=(name, *words), timeout=timeout)


def _classifier_row(id: str, change: Callable[[Payload], object], *words: str,
                    command: tuple[str, ...] = ("classify", "predict"),
                    after: tuple[str, ...] = ("a fine film",)) -> Row:
    name = f"{id}.pt"
    return Row(f"classifier-{id}", (*command, name, *after),
               files={name: _file(CLASSIFIER, change)}, words=(name, *words))


ROWS = [
    # a config that asks for more than the weights hold, or more than is sane
    _lm_row("embedding-dim-million", _set("config", "embedding_dim", 10**6),
            "embedding_dim", "at most 65536"),
    _lm_row("vocab-size-tera", _set("config", "vocab_size", 10**12), "vocab_size", "at most"),
    _lm_row("layers-million", _set("config", "num_layers", 10**6), "num_layers", "at most 64",
            timeout=20),
    _lm_row("sizes-at-the-limits", lambda p: p["config"].update(
        vocab_size=2**31 - 1, embedding_dim=65_536, hidden_size=65_536, num_layers=64),
            "weights do not fit", timeout=20),
    _lm_row("hidden-size-mismatch", _set("config", "hidden_size", 8), "weights do not fit",
            "rnn.weight_ih_l0"),
    # missing or ill-typed parts
    _lm_row("no-config", _drop("config"), "config is missing"),
    _lm_row("config-list", lambda p: p.__setitem__("config", [1, 2]), "config is list"),
    _lm_row("no-extra", _drop("extra"), "extra is missing"),
    _lm_row("extra-list", lambda p: p.__setitem__("extra", ["word"]), "extra is list"),
    _lm_row("no-vocabs", _drop("vocabs"), "vocabs is missing"),
    _lm_row("vocabs-string", lambda p: p.__setitem__("vocabs", "the cat"), "vocabs is str"),
    _lm_row("no-state-dict", _drop("state_dict"), "state_dict is missing", command=("lm", "config")),
    _lm_row("state-dict-holds-a-list", _weight("decoder.bias", [0.0] * 5), "decoder.bias",
            "non-tensor"),
    _lm_row("state-dict-number-key", lambda p: p["state_dict"].__setitem__(7, torch.zeros(1)),
            "not a name"),
    _lm_row("format-version-true", lambda p: p.__setitem__("format_version", True),
            "format version"),
    _lm_row("format-version-string", lambda p: p.__setitem__("format_version", "2"),
            "format version"),
    _lm_row("kind-number", lambda p: p.__setitem__("kind", 3), "no kind"),
    # config fields of the wrong type
    _lm_row("embedding-dim-string", _set("config", "embedding_dim", "4"), "embedding_dim",
            "integer"),
    _lm_row("embedding-dim-float", _set("config", "embedding_dim", 4.0), "embedding_dim",
            "integer"),
    _lm_row("num-layers-bool", _set("config", "num_layers", True), "num_layers", "integer"),
    _lm_row("init-range-nan", _set("config", "init_range", float("nan")), "init_range",
            "finite"),
    _lm_row("dropout-inf", _set("config", "dropout", float("inf")), "dropout", "finite"),
    _lm_row("cell-list", _set("config", "cell", ["lstm"]), "cell", "string"),
    _lm_row("config-unknown-field", _set("config", "colour", "red"), "colour"),
    _lm_row("config-without-vocab-size", lambda p: p["config"].pop("vocab_size"), "vocab_size"),
    _lm_row("tie-weights-string", _set("config", "tie_weights", "no"), "tie_weights",
            "true or false", command=("lm", "score")),
    # weights: dtype, layout, values
    _lm_row("weight-nan", _nan_at("decoder.weight"), "decoder.weight", "NaN"),
    _lm_row("weight-inf", _weight("decoder.bias", torch.full((5,), float("inf"))),
            "decoder.bias", "infinite"),
    _lm_row("weight-int64", _weight("decoder.bias", torch.zeros(5, dtype=torch.int64)),
            "decoder.bias", "int64", "float32"),
    _lm_row("weight-float64", _weight("decoder.bias", torch.zeros(5, dtype=torch.float64)),
            "decoder.bias", "float64"),
    _lm_row("weight-complex", _weight("decoder.bias", torch.zeros(5, dtype=torch.complex64)),
            "decoder.bias", "complex64"),
    _lm_row("weight-sparse", _weight("decoder.bias", torch.zeros(5).to_sparse()),
            "decoder.bias", "dense"),
    _lm_row("weight-missing", lambda p: p["state_dict"].pop("decoder.bias"), "decoder.bias",
            "missing"),
    _lm_row("weight-unexpected", _weight("decoder.scale", torch.ones(5)), "decoder.scale"),
    _lm_row("weight-wrong-shape", _weight("decoder.bias", torch.zeros(6)), "decoder.bias",
            "(6,)"),
    # vocabularies and extra facts
    _lm_row("vocab-shorter-than-model", lambda p: p["vocabs"]["tokens"].update(
        itos=p["vocabs"]["tokens"]["itos"][:4], counts=p["vocabs"]["tokens"]["counts"][:4]),
            "4 tokens", "5"),
    _lm_row("vocab-repeated-token", lambda p: p["vocabs"]["tokens"]["itos"].__setitem__(
        3, p["vocabs"]["tokens"]["itos"][2]), "vocabulary", "unique"),
    _lm_row("vocab-counts-short", lambda p: p["vocabs"]["tokens"].__setitem__("counts", [1]),
            "vocabulary", "counts"),
    _lm_row("vocab-a-list", lambda p: p["vocabs"].__setitem__("tokens", ["the", "cat"]),
            "vocabulary"),
    _lm_row("vocab-without-unk", lambda p: p["vocabs"]["tokens"].update(
        itos=["a", "b", "c", "d", "e"], specials=[]), "<unk>", command=("lm", "score")),
    _lm_row("level-list", _set("extra", "level", ["word"]), "level"),
    _lm_row("level-escape", _set("extra", "level", "\x1b[2J"), "level", "\\x1b[2J"),
    _lm_row("train-config-string", _set("extra", "train_config", "epochs = 3"),
            "training configuration", command=("lm", "config")),
    _lm_row("train-config-table-string", _set("extra", "train_config", {"model": "big"}),
            "training configuration", command=("lm", "config")),
    _lm_row("train-config-holds-a-table", _set("extra", "train_config", {
        "model": {"hidden_size": {"nested": 1}}}), "training configuration", "damaged",
            command=("lm", "config")),
    # the classifier
    _classifier_row("label-names-string", _set("extra", "label_names", "ab"), "label_names"),
    _classifier_row("label-names-too-few", _set("extra", "label_names", ["only"]),
                    "1 label names", "2 classes"),
    _classifier_row("tdnn-context-million", _set("config", "tdnn_context", list(range(10**5))),
                    "tdnn_context", "at most"),
    _classifier_row("tdnn-context-string", _set("config", "tdnn_context", "-2..2"),
                    "tdnn_context"),
    _classifier_row("max-len-float", _set("config", "max_len", 2.5), "max_len", "integer"),
    _classifier_row("padding-idx-float", _set("config", "padding_idx", 0.5), "padding_idx"),
    _classifier_row("bidirectional-string", _set("config", "bidirectional", "no"),
                    "bidirectional"),
    _classifier_row("flatten-tera", lambda p: p["config"].update(pooling="flatten",
                                                                 max_len=10**12),
                    "weights do not fit", "output.weight"),
    _classifier_row("num-classes-huge", _set("config", "num_classes", 10**12), "num_classes"),
    _classifier_row("weight-nan", _nan_at("embedding.weight"), "embedding.weight", "NaN",
                    command=("classify", "eval"), after=("--data", "{tsv}")),
    _classifier_row("weight-half", _weight("output.bias", torch.zeros(1, dtype=torch.float16)),
                    "output.bias", "float16", command=("classify", "config"), after=()),
    Row("classifier-ensemble-member-nan", ("classify", "predict", "{classifier}", "-e", "nan.pt",
                                           "good"),
        files={"nan.pt": _file(CLASSIFIER, _nan_at("output.weight"))},
        words=("nan.pt", "output.weight", "NaN")),
]


@pytest.mark.parametrize("row", rows_params(ROWS))
def test_row(row: Row, hostile_env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    check_row(row, hostile_env, capsys)


# ------------------------------------------------------------------ what reaches the terminal

def _run_ok(args: tuple[str, ...], files: dict[str, bytes], env: dict[str, Path],
            capsys: pytest.CaptureFixture[str]) -> str:
    row = Row("ok", args, files=files)
    prepare(row, env)
    code, out, err = run_row(row, env, capsys)
    assert code == 0, err
    return out


def _printable(text: str) -> bool:
    return all(ch.isprintable() or ch in "\t\n" for ch in text)


def test_label_names_from_a_file_are_printed_escaped(hostile_env, capsys):
    files = {"m.pt": _file(CLASSIFIER, _set("extra", "label_names", ["\x1b[2Jbad", "go\nod"]))}
    out = _run_ok(("classify", "predict", "m.pt", "a", "b"), files, hostile_env, capsys)
    assert _printable(out) and len(out.splitlines()) == 2
    assert out.split("\t")[0] in ("\\x1b[2Jbad", "go\\nod")
    out = _run_ok(("classify", "eval", "m.pt", "--data", "{tsv}"), {}, hostile_env, capsys)
    assert _printable(out) and "\\x1b[2Jbad" in out and "go\\nod" in out


def test_vocabulary_tokens_from_a_file_are_printed_escaped(hostile_env, capsys):
    def hostile_tokens(p: Payload) -> None:
        itos = p["vocabs"]["tokens"]["itos"]
        for i in range(2, len(itos)):
            itos[i] = f"\x1b[{i}m\x9b"

    files = {"m.pt": _file(LM, hostile_tokens)}
    out = _run_ok(("lm", "generate", "m.pt", "--strategy", "sample", "-n", "5", "--max-len", "4"),
                  files, hostile_env, capsys)
    assert _printable(out) and "\\x1b[" in out and len(out.splitlines()) == 5


def test_a_stored_configuration_is_printed_as_toml_without_control_characters(
        hostile_env, capsys):
    import tomllib

    stored = {"command": "lm train", "data": {"data": "a\x1b[2Jb\x9bc"},
              "model": {"hidden_size": 4}, "trainer": {"lr": 1.0}}
    files = {"m.pt": _file(LM, _set("extra", "train_config", stored))}
    out = _run_ok(("lm", "config", "m.pt"), files, hostile_env, capsys)
    assert _printable(out)
    assert tomllib.loads(out)["data"]["data"] == "a\x1b[2Jb\x9bc"
