"""The model registry: `kind -> (Config dataclass, nn.Module, command)` behind one
`load_model`.

Every model module registers its kind when imported (`register_model`); `load_model`
imports the built-in ones (`BUILTIN_MODULES`) on first use, reads any seqnlp model file,
checks its config against its weights before allocating anything, and returns the kind's
typed `LoadedModel`. A new task adds its module to `BUILTIN_MODULES` and calls
`register_model` at the bottom of it:

    register_model(ModelKind("tagger", TaggerConfig, Tagger, "tagger", "sequence tagger",
                             LoadedTagger))
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from seqnlp.errors import SeqnlpError
from seqnlp.models.artifact import (
    MAIN_VOCAB,
    ArtifactError,
    IncompatibleModelError,
    check_parts,
    config_from_dict,
    first_line,
    read_artifact,
    save_artifact,
)
from seqnlp.text.vocab import Vocab

BUILTIN_MODULES = ("seqnlp.models.classifier", "seqnlp.models.language_model",
                   "seqnlp.models.tagger", "seqnlp.models.tree_classifier",
                   "seqnlp.models.seq2seq", "seqnlp.models.captioner")

# Sane limits on what a config may ask for, checked by each config before anything is
# built, so that a saved file's config cannot make loading hang or allocate without bound
# (the `train` commands declare the same bounds on their options; a test holds them equal).
MAX_WIDTH = 65_536  # embedding_dim, hidden_size
MAX_LAYERS = 64  # num_layers
MAX_VOCAB = 2**31 - 1  # vocab_size
MAX_PARAMETERS = 2**31  # 8 GiB of float32 weights, before gradients and optimizer state


class ModelSizeError(SeqnlpError, ValueError):
    """A configuration asks for a model larger than `MAX_PARAMETERS`."""


def check_sizes(config: Any, **limits: int) -> None:
    """Raise ValueError unless each named int field of `config` is at most its limit
    (called from a config's `__post_init__`: `check_sizes(self, num_layers=MAX_LAYERS)`)."""
    for name, limit in limits.items():
        value = getattr(config, name)
        if isinstance(value, int) and value > limit:
            raise ValueError(f"{name} must be at most {limit}, got {value}")


@contextlib.contextmanager
def meta_build() -> Iterator[None]:
    """Build modules on the meta device (shapes only, nothing allocated), skipping the
    initialisers: there is nothing to initialise, and some (normal_) have no meta kernel,
    so torch would import its Python reference implementations, about 2 s, to run them."""
    names = [n for n in dir(torch.nn.init) if n.endswith("_") and not n.startswith("_")]
    saved = {name: getattr(torch.nn.init, name) for name in names}
    try:
        for name in names:
            setattr(torch.nn.init, name, _skip_init)
        with torch.device("meta"):
            yield
    finally:
        for name, function in saved.items():
            setattr(torch.nn.init, name, function)


def _skip_init(tensor: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    return tensor


def parameter_count(kind: str, config: Any) -> int:
    """The parameters of a `kind` model built from `config`, counted on the meta device
    (nothing is allocated)."""
    entry = model_kinds()[kind]
    with meta_build():
        model = entry.module_class(config)
    return sum(p.numel() for p in model.parameters())


def check_model_size(kind: str, config: Any) -> int:
    """The parameter count of a `kind` model of `config`.

    Raises:
        ModelSizeError: it is more than `MAX_PARAMETERS`.
    """
    count = parameter_count(kind, config)
    if count > MAX_PARAMETERS:
        raise ModelSizeError(
            f"this model would have {count:,} parameters ({count * 4 / 2**30:,.0f} GiB of "
            f"weights), more than the {MAX_PARAMETERS:,} seqnlp builds; lower the hidden "
            "size, the embedding size, the number of layers or the vocabulary")
    return count


@dataclass
class LoadedModel:
    """A model read back by `load_model`, in eval mode on the CPU.

    Attributes:
        kind: the registry name of its kind.
        model: the module, rebuilt from its own saved config.
        vocabs: its vocabularies by name (`vocab` is the main one, "tokens").
        extra: the JSON-able facts saved with it (scores, training configuration, ...).
        path: the file it came from.
    """

    kind: str
    model: torch.nn.Module
    vocabs: dict[str, Vocab]
    extra: dict[str, Any]
    path: str = ""

    # Keys of `extra` that a kind turns into attributes of its own (popped from extra).
    extra_fields: ClassVar[tuple[str, ...]] = ()

    @property
    def config(self) -> Any:
        """The model's config dataclass."""
        return self.model.config

    @property
    def vocab(self) -> Vocab:
        """The main vocabulary (the tokens the model reads)."""
        return self.vocabs[MAIN_VOCAB]

    @property
    def train_config(self) -> dict[str, Any]:
        """The resolved training configuration it was trained with ({} for old files)."""
        return dict(self.extra.get("train_config") or {})

    def check(self) -> None:
        """Kind-specific consistency checks; raise `IncompatibleModelError`."""
        size = getattr(self.config, "vocab_size", None)
        if MAIN_VOCAB in self.vocabs and size is not None and len(self.vocab) != size:
            raise IncompatibleModelError(
                f"{self.path}: its vocabulary has {len(self.vocab)} tokens but the model "
                f"has {size} (vocab_size)")


@dataclass(frozen=True)
class ModelKind:
    """One registered kind of saved model.

    Attributes:
        kind: the name stored in the file.
        config_class: its frozen config dataclass.
        module_class: the `nn.Module`, built as `module_class(config)`.
        command: the `seqnlp` command group that uses it ("classify", "lm", ...).
        description: what it is, in words ("sequence classifier").
        loaded_class: the `LoadedModel` subclass `load_model` returns.
    """

    kind: str
    config_class: type
    module_class: type
    command: str
    description: str
    loaded_class: type[LoadedModel] = field(default=LoadedModel)


_KINDS: dict[str, ModelKind] = {}


def register_model(entry: ModelKind) -> ModelKind:
    """Add a kind to the registry (importing its module twice is harmless)."""
    _KINDS[entry.kind] = entry
    return entry


def model_kinds() -> dict[str, ModelKind]:
    """Every registered kind, the built-in ones imported first."""
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    return dict(_KINDS)


def save_model(path: str | os.PathLike[str], kind: str, model: torch.nn.Module,
               vocabs: dict[str, Vocab], extra: dict[str, Any] | None = None) -> None:
    """Write `model` (of registered `kind`) with its config, vocabularies and `extra`."""
    entry = model_kinds()[kind]
    if not isinstance(model, entry.module_class):
        raise TypeError(f"a {kind!r} model must be a {entry.module_class.__name__}")
    named = {name: vocab.to_dict() for name, vocab in vocabs.items()}
    save_artifact(path, kind, model.config, model, extra=extra, vocabs=named)


def load_model(path: str | os.PathLike[str], expect: str | None = None) -> LoadedModel:
    """Load any seqnlp model file as its kind's `LoadedModel`, in eval mode on the CPU.

    Args:
        path: the model file.
        expect: the kind the caller needs; another kind is refused with a message that
            says which kind the file holds and which command uses it.

    Raises:
        ArtifactError: naming the file: missing, damaged, foreign, of another kind, or
            whose config, vocabularies and weights do not fit together.
    """
    name = os.fspath(path)
    payload = read_artifact(name)
    kinds = model_kinds()
    kind = payload["kind"]
    if expect is not None and kind != expect:
        raise ArtifactError(wrong_kind_message(name, kind, expect, kinds))
    if kind not in kinds:
        raise ArtifactError(f"{name}: holds a model of unknown kind {kind!r} (this seqnlp "
                            f"reads {', '.join(sorted(kinds))})")
    check_parts(payload, name)
    entry = kinds[kind]
    config = config_from_dict(entry.config_class, payload["config"], f"{name}: config")
    model = _build_checked(entry, config, payload["state_dict"], name)
    try:
        vocabs = {key: Vocab.from_dict(value) for key, value in payload["vocabs"].items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{name}: damaged vocabulary ({exc.__class__.__name__}: {exc})"
                            ) from None
    extra = dict(payload["extra"])
    loaded_class = entry.loaded_class
    fields = {key: extra.pop(key, None) for key in loaded_class.extra_fields}
    try:
        loaded = loaded_class(kind, model, vocabs, extra, name, **fields)  # type: ignore[call-arg]
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"{name}: damaged {entry.description} ({exc})") from None
    loaded.check()
    return loaded


def wrong_kind_message(name: str, kind: Any, expect: str, kinds: dict[str, ModelKind]) -> str:
    """"FILE: is a 'x' model, expected a 'y' model; it is a language model: use `seqnlp lm`"."""
    message = f"{name}: is a {kind!r} model, expected a {expect!r} model"
    if kind in kinds:
        entry = kinds[kind]
        message += f"; it holds a {entry.description}: use it with `seqnlp {entry.command}`"
    return message


def _build_checked(entry: ModelKind, config: Any, state: dict[str, torch.Tensor],
                   name: str) -> torch.nn.Module:
    """Build the module only after its shapes, computed without memory, fit the weights."""
    layers = getattr(config, "num_layers", None)  # what makes building slow, even on meta
    if isinstance(layers, int) and layers > MAX_LAYERS:
        raise ArtifactError(f"{name}: bad config (num_layers must be at most {MAX_LAYERS}, "
                            f"got {layers})")
    try:
        with meta_build():
            meta = entry.module_class(config).state_dict()
    except (TypeError, ValueError, RuntimeError, IndexError) as exc:
        raise ArtifactError(f"{name}: bad config ({first_line(exc)})") from None
    shapes = {k: tuple(v.shape) for k, v in meta.items()}
    dtypes = {k: v.dtype for k, v in meta.items()}
    for key, shape in shapes.items():
        saved = state.get(key)
        if saved is None:
            raise IncompatibleModelError(f"{name}: weights do not fit the config "
                                         f"({key} is missing)")
        if tuple(saved.shape) != shape:
            raise IncompatibleModelError(f"{name}: weights do not fit the config ({key}: "
                                         f"saved {tuple(saved.shape)}, config gives {shape})")
    unexpected = sorted(set(state) - set(shapes))
    if unexpected:
        raise IncompatibleModelError(f"{name}: weights do not fit the config (unexpected "
                                     f"{', '.join(unexpected[:3])})")
    for key, dtype in dtypes.items():
        saved = state[key]
        if saved.dtype != dtype:
            raise IncompatibleModelError(f"{name}: weights do not fit the model ({key} is "
                                         f"{_dtype_name(saved.dtype)}, expected "
                                         f"{_dtype_name(dtype)})")
        if saved.is_floating_point() and not bool(torch.isfinite(saved).all()):
            raise ArtifactError(f"{name}: damaged weights ({key} holds NaN or infinite "
                                "values)")
    model = entry.module_class(config)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:  # torch's text runs over many lines: keep its first
        raise ArtifactError(f"{name}: weights do not fit the model "
                            f"({str(exc).strip().splitlines()[-1].strip()})") from None
    model.eval()
    return model


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
