"""The picture of a sentiment tree, as in Socher et al. (2013, figure 1): every node a disc
coloured by its label (red negative, white neutral, blue positive) with the label's sign
inside (--, -, 0, +, ++), the words under the leaves, the root on top.

matplotlib is optional (`pip install seqnlp[plots]`) and imported only when a tree is drawn.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from seqnlp.errors import SeqnlpError
from seqnlp.fileio import PathLike, atomic_write
from seqnlp.text.trees import Tree

SIGNS = ("--", "-", "0", "+", "++")  # SST's five classes, as the paper's figures write them
COLOURS = ("#b2182b", "#ef8a62", "#f7f7f7", "#67a9cf", "#2166ac")  # RdBu, 5 steps


def _pyplot() -> ModuleType:
    try:
        matplotlib = importlib.import_module("matplotlib")
    except ImportError:
        raise SeqnlpError("drawing a tree needs the optional package "
                                     "'matplotlib': pip install seqnlp[plots]") from None
    matplotlib.use("Agg", force=True)  # files only: never open a window
    return importlib.import_module("matplotlib.pyplot")


def tree_layout(tree: Tree) -> list[tuple[float, float]]:
    """The (x, y) of every node in post-order: leaves at x = 0, 1, 2, ... left to right, a
    parent above the middle of its children, y the depth below the root (root 0)."""
    flat = tree.flatten()
    x: list[float] = []
    for index, children in enumerate(flat.children):
        x.append(flat.spans[index][0] if not children
                 else sum(x[c] for c in children) / len(children))
    depth = [0] * len(flat)
    for index in range(len(flat) - 1, -1, -1):  # parents come after their children
        for child in flat.children[index]:
            depth[child] = depth[index] + 1
    return list(zip(x, [float(d) for d in depth]))


def plot_tree(tree: Tree, path: PathLike, label_names: Sequence[str] = (),
              title: str | None = None) -> Path:
    """Draw `tree` (labels 0-4) to a PNG file, written atomically.

    Args:
        tree: the tree, its labels the classes to colour by (e.g. predicted ones).
        path: the PNG file.
        label_names: the class names for the legend (default: the signs).
        title: drawn above the tree.

    Returns:
        The path written.

    Raises:
        ValueError: a label outside 0-4.
        SeqnlpError: matplotlib is not installed (the message names the pip command).
    """
    flat = tree.flatten()
    bad = [label for label in flat.labels if not 0 <= label < len(SIGNS)]
    if bad:
        raise ValueError(f"a tree to draw has labels 0-4, got {bad[0]}")
    plt = _pyplot()
    places = tree_layout(tree)
    leaves, depth = len(flat.leaves), max(y for _, y in places)
    figure, axes = plt.subplots(figsize=(max(4.0, 0.9 * leaves), max(3.0, 0.6 * (depth + 2))))
    _draw(axes, flat, places)
    names = list(label_names) or [""] * len(SIGNS)
    handles = [plt.Line2D([], [], marker="o", linestyle="", markersize=10, markeredgecolor="k",
                          markerfacecolor=colour, label=f"{sign} {name}".strip())
               for sign, name, colour in zip(SIGNS, names, COLOURS)]
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    axes.set_xlim(-0.8, leaves - 0.2)
    axes.set_ylim(depth + 1.2, -0.8)
    axes.axis("off")
    if title:
        axes.set_title(title)
    with atomic_write(path, "wb") as out:
        figure.savefig(out, format="png", dpi=120, bbox_inches="tight")
    plt.close(figure)
    return Path(path)


def _draw(axes: Any, flat: Any, places: list[tuple[float, float]]) -> None:
    """Edges, then the discs with their signs, then the words under the leaves."""
    for index, children in enumerate(flat.children):
        for child in children:
            axes.plot([places[index][0], places[child][0]], [places[index][1], places[child][1]],
                      color="0.55", linewidth=1, zorder=1)
    for (x, y), label, word in zip(places, flat.labels, flat.words):
        axes.scatter([x], [y], s=420, color=COLOURS[label], edgecolors="k", linewidths=0.8,
                     zorder=2)
        axes.text(x, y, SIGNS[label], ha="center", va="center", fontsize=8, zorder=3,
                  color="white" if label in (0, 4) else "black")
        if word is not None:
            axes.text(x, y + 0.55, word, ha="center", va="top", fontsize=9, rotation=0)
