"""The import directions of STYLE.md, read statically from every module under src/seqnlp.

Each module is parsed with `ast` and every import of ours is counted, wherever it stands: at
the top, inside a function (a lazy import), under `if TYPE_CHECKING:`, or as a literal
`importlib.import_module("seqnlp...")`. `from seqnlp.a import b` counts as importing both
`seqnlp.a` and `seqnlp.a.b` (b may be a module). tests/training/test_layering.py checks the
same at run time for `seqnlp.training`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "seqnlp"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(node: ast.ImportFrom, name: str, is_package: bool) -> str:
    """The module an `ImportFrom` names, with a relative import resolved against `name`."""
    if node.level == 0:
        return node.module or ""
    base = name.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in its body."""
    name, found = module_name(path), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, name, path.name == "__init__.py")
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names if alias.name != "*")
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", ""))
              == "import_module" and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
    return found


GRAPH = {module_name(path): imports_of(path) for path in sorted(PACKAGE.rglob("*.py"))}


def within(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def violations(importers: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    """`importer -> imported` for each import of a `forbidden` module by an `importers` one."""
    return sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items() if within(module, *importers)
        for target in targets if within(target, *forbidden)
    )


NOT_TEXT = tuple(
    f"seqnlp.{p.stem}" for p in PACKAGE.iterdir()
    if (p.is_dir() and (p / "__init__.py").exists() or p.suffix == ".py")
    and p.stem not in {"text", "errors", "fileio", "__init__"}
)

RULES = {
    "nn, text, decoding and training never import models, tasks or cli": (
        ("seqnlp.nn", "seqnlp.text", "seqnlp.decoding", "seqnlp.training"),
        ("seqnlp.models", "seqnlp.tasks", "seqnlp.cli")),
    "text imports nothing of ours but errors and fileio": (
        ("seqnlp.text",), NOT_TEXT),
    "word2vec never imports torch, nn, models, tasks or training": (
        ("seqnlp.word2vec",),
        ("torch", "seqnlp.nn", "seqnlp.models", "seqnlp.tasks", "seqnlp.training")),
}
KNOWN: dict[str, str] = {}  # rule -> reason: a known violation, kept visible as a strict xfail


def test_the_graph_sees_lazy_and_type_checking_imports() -> None:
    assert len(GRAPH) > 50
    assert "seqnlp.word2vec.kernels" in GRAPH["seqnlp.word2vec.jit"]  # inside a function
    assert "seqnlp.word2vec.model" in GRAPH["seqnlp.word2vec.epochs"]  # under TYPE_CHECKING


@pytest.mark.parametrize("rule", [
    pytest.param(rule, marks=pytest.mark.xfail(strict=True, reason=KNOWN[rule]))
    if rule in KNOWN else rule
    for rule in RULES
])
def test_import_directions(rule: str) -> None:
    assert violations(*RULES[rule]) == []


def test_nothing_outside_cli_imports_cli_but_the_entry_point() -> None:
    """`python -m seqnlp` (seqnlp/__main__.py) is the command line's own entry point."""
    outside = [m for m in GRAPH if not within(m, "seqnlp.cli")]
    assert sorted(m for m in outside if any(within(t, "seqnlp.cli") for t in GRAPH[m])) == [
        "seqnlp.__main__"
    ]
