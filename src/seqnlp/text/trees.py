"""Labelled constituency trees in PTB bracket notation, as in the Stanford Sentiment Treebank
(Socher et al., 2013): `(3 (2 It) (4 (2 's) (4 good)))`, a sentiment label on every node.

An immutable `Tree`, its flat post-order view (`FlatTree`: children, spans, heights), the
level-major layout of a batch of trees (`level_schedule`), and binary trees built over a
plain sentence (`binarize`: balanced, right- or left-branching) when no parse is given. Parsing is iterative (an explicit stack), so a deep tree cannot
exhaust Python's recursion limit. Tokens are split on ASCII spaces and brackets only: SST has leaves such as
`8<U+00A0>1\\/2` that must stay one word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from seqnlp.errors import DataFormatError
from seqnlp.fileio import PathLike, iter_lines

# A bracket, or a run of anything but ASCII space and brackets.
_TOKEN = re.compile(r"[()]|[^() ]+")

# Builds the error for a 1-based column of the line being parsed.
_Fail = Callable[[int, str], DataFormatError]


@dataclass(frozen=True)
class Tree:
    """A node of a labelled tree: a leaf holds a word, an inner node holds children.

    Attributes:
        label: the node's class label (SST: 0 very negative ... 4 very positive).
        children: the subtrees, left to right; empty for a leaf.
        word: the leaf's word; None for an inner node.

    Equality and hashing compare whole subtrees recursively, which suits sentence-sized
    trees; `nodes()`, `leaves()` and `str()` are iterative and work at any depth.
    """

    label: int
    children: tuple[Tree, ...] = field(default=())
    word: str | None = None

    def __post_init__(self) -> None:
        if (self.word is None) == (not self.children):
            raise ValueError("a Tree node has either a word (leaf) or children, not both or neither")

    @property
    def is_leaf(self) -> bool:
        """True for a leaf (a node that holds a word)."""
        return self.word is not None

    def leaves(self) -> list[str]:
        """The words at the leaves, left to right."""
        return [node.word for node in self.nodes() if node.word is not None]

    def nodes(self) -> list[Tree]:
        """Every node in post-order (children before their parent; the root comes last)."""
        order: list[Tree] = []
        stack: list[tuple[Tree, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded or node.is_leaf:
                order.append(node)
                continue
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.children))
        return order

    def flatten(self) -> FlatTree:
        """The tree as post-order arrays (children, spans, heights); see `FlatTree`."""
        return flatten(self)

    @property
    def height(self) -> int:
        """Edges on the longest path from this node down to a leaf (a leaf: 0)."""
        return self.flatten().heights[-1]

    def spans(self) -> list[tuple[int, int]]:
        """The `(start, end)` leaf span of every node, in post-order (end exclusive)."""
        return list(self.flatten().spans)

    def is_binary(self) -> bool:
        """Whether every inner node has exactly two children."""
        return all(len(node.children) in (0, 2) for node in self.nodes())

    def relabel(self, labels: Sequence[int]) -> Tree:
        """A new tree of the same shape and words with `labels` in post-order (this one is
        left as it is: trees are immutable)."""
        flat = self.flatten()
        if len(labels) != len(flat):
            raise ValueError(f"relabel needs {len(flat)} labels (one per node), got {len(labels)}")
        built: list[Tree] = []
        for word, children, label in zip(flat.words, flat.children, labels):
            built.append(Tree(int(label), tuple(built[c] for c in children), word))
        return built[-1]

    def __str__(self) -> str:
        """The tree in bracket notation, single-spaced: `(label word)` / `(label child ...)`."""
        parts: list[str] = []
        stack: list[Tree | str] = [self]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                parts.append(item)
            elif item.word is not None:
                parts.append(f"({item.label} {item.word})")
            else:
                parts.append(f"({item.label}")
                stack.append(")")
                for child in reversed(item.children):
                    stack.extend((child, " "))
        return "".join(parts)


@dataclass(frozen=True)
class FlatTree:
    """A tree as parallel tuples over its nodes in post-order (children before their
    parent, the root last), so node `i`'s children have indices below `i`.

    Attributes:
        words: each node's word (None for an inner node).
        children: each node's child indices, left to right (empty for a leaf).
        labels: each node's label.
        heights: edges from the node down to its deepest leaf (leaves 0).
        spans: the `(start, end)` leaf positions each node covers (end exclusive).
    """

    words: tuple[str | None, ...]
    children: tuple[tuple[int, ...], ...]
    labels: tuple[int, ...]
    heights: tuple[int, ...]
    spans: tuple[tuple[int, int], ...]

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def leaves(self) -> list[int]:
        """The indices of the leaves, left to right."""
        return [i for i, word in enumerate(self.words) if word is not None]


def flatten(tree: Tree) -> FlatTree:
    """`tree` as a `FlatTree` (iterative: any depth)."""
    index: dict[int, int] = {}  # id(node) -> post-order index; nodes live as long as `tree`
    words, children, labels, heights, spans = [], [], [], [], []
    leaf = 0
    for node in tree.nodes():
        kids = tuple(index[id(child)] for child in node.children)
        index[id(node)] = len(labels)
        words.append(node.word)
        children.append(kids)
        labels.append(node.label)
        if kids:
            heights.append(1 + max(heights[k] for k in kids))
            spans.append((spans[kids[0]][0], spans[kids[-1]][1]))
        else:
            heights.append(0)
            spans.append((leaf, leaf + 1))
            leaf += 1
    return FlatTree(tuple(words), tuple(children), tuple(labels), tuple(heights), tuple(spans))


@dataclass(frozen=True)
class LevelSchedule:
    """Where each node of a batch of trees goes and what each level composes.

    Attributes:
        order: (N,) the batch-wide post-order index of the node at each level-major
            position (the inverse of `position`).
        position: (N,) the level-major position of each node, by batch-wide post-order
            index (tree t's nodes come after those of trees 0..t-1).
        num_leaves: L, the leaves (they take positions 0..L-1).
        levels: one `(left, right)` pair of (n_h,) position arrays per height h >= 1: the
            children of the n_h nodes that take the next n_h positions.

    The nodes of a batch are laid out level-major: every leaf first (height 0), then every
    node of height 1, and so on, so a node's children always sit at lower positions and
    a network can compose a whole level at once (`seqnlp.nn.tree`).
        roots: (B,) the position of each tree's root.
    """

    order: np.ndarray
    position: np.ndarray
    num_leaves: int
    levels: tuple[tuple[np.ndarray, np.ndarray], ...]
    roots: np.ndarray


def level_schedule(left: Sequence[np.ndarray], right: Sequence[np.ndarray],
                   heights: Sequence[np.ndarray]) -> LevelSchedule:
    """The level-major layout of a batch of binary trees.

    Args:
        left, right: per tree, (n_t,) the post-order index of each node's left and right
            child within its tree (-1 for a leaf).
        heights: per tree, (n_t,) each node's height (leaves 0); each tree's root is its
            last node.

    Returns:
        The `LevelSchedule` (NumPy int64 arrays).
    """
    sizes = np.array([len(h) for h in heights], dtype=np.int64)  # (B,)
    base = np.concatenate([[0], np.cumsum(sizes)[:-1]])  # (B,) first index of each tree
    height = np.concatenate([np.asarray(h, dtype=np.int64) for h in heights])  # (N,)
    lefts = np.concatenate([np.where(np.asarray(a) >= 0, np.asarray(a) + b, -1)
                            for a, b in zip(left, base)])  # (N,)
    rights = np.concatenate([np.where(np.asarray(a) >= 0, np.asarray(a) + b, -1)
                             for a, b in zip(right, base)])  # (N,)
    order = np.argsort(height, kind="stable")  # level-major, post-order within a level
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    counts = np.bincount(height)
    starts = np.concatenate([[0], np.cumsum(counts)])
    levels = []
    for h in range(1, len(counts)):
        nodes = order[starts[h]:starts[h + 1]]
        levels.append((position[lefts[nodes]], position[rights[nodes]]))
    roots = position[base + sizes - 1]
    return LevelSchedule(order, position, int(counts[0]), tuple(levels), roots)


SHAPES = ("balanced", "right", "left")


def binarize(words: Sequence[str], shape: str = "balanced", label: int = 0) -> Tree:
    """A binary tree over a plain sentence, for text that comes without a parse.

    Args:
        words: the sentence's words, at least one.
        shape: "balanced" (each node splits its words in two halves, the left half taking
            the extra word), "right" (right-branching: `(w1 (w2 (w3 w4)))`) or "left"
            (left-branching: `(((w1 w2) w3) w4)`).
        label: the label given to every node (a placeholder: a model predicts them).

    Raises:
        ValueError: no words, a word that is empty or holds a space or a bracket (it
            could not be written back as a bracketed tree), or an unknown shape.
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}, got {shape!r}")
    if not words:
        raise ValueError("cannot build a tree over an empty sentence")
    for word in words:
        if not word or _TOKEN.fullmatch(word) is None or word in "()":
            raise ValueError(f"{word!r} cannot be a leaf: a word is non-empty and holds no "
                             "space or bracket")
    nodes = [Tree(label, word=word) for word in words]
    if shape == "right":
        root = nodes[-1]
        for node in reversed(nodes[:-1]):
            root = Tree(label, (node, root))
        return root
    if shape == "left":
        root = nodes[0]
        for node in nodes[1:]:
            root = Tree(label, (root, node))
        return root
    return _halves(nodes, label)


def _halves(nodes: list[Tree], label: int) -> Tree:
    """The balanced tree over `nodes` (recursion depth log2 of their number)."""
    if len(nodes) == 1:
        return nodes[0]
    middle = (len(nodes) + 1) // 2
    return Tree(label, (_halves(nodes[:middle], label), _halves(nodes[middle:], label)))


class _Open:
    """A node whose `(` has been read but not its `)`."""

    __slots__ = ("column", "label", "children", "word")

    def __init__(self, column: int) -> None:
        self.column = column
        self.label: int | None = None
        self.children: list[Tree] = []
        self.word: str | None = None


def parse_tree(
    text: str,
    path: PathLike | None = None,
    line: int | None = None,
    *,
    num_labels: int | None = None,
) -> Tree:
    """Parse one bracketed tree, e.g. `(3 (2 It) (4 good))`.

    Args:
        text: the tree; ASCII spaces separate tokens, any other character is part of one.
        path: the file it came from, for error messages (default `"<string>"`).
        line: its 1-based line in that file, for error messages.
        num_labels: when given, every label must lie in `[0, num_labels)`.

    Returns:
        The root `Tree`.

    Raises:
        DataFormatError: on an empty text, unbalanced brackets, a missing, non-integer or
            out-of-range label, a node without word or children, a leaf with two words,
            a node mixing a word and subtrees, or text after the tree's end. The message
            gives the 1-based column.
    """
    where = "<string>" if path is None else path

    def fail(column: int, message: str) -> DataFormatError:
        return DataFormatError(where, line, f"column {column}: {message}")

    stack: list[_Open] = []
    root: Tree | None = None
    for match in _TOKEN.finditer(text):
        token, column = match.group(), match.start() + 1
        if root is not None or (not stack and token != "("):
            raise fail(column, _outside_message(token, after=root is not None))
        if not stack:
            stack.append(_Open(column))
        elif stack[-1].label is None:
            stack[-1].label = _parse_label(token, column, num_labels, fail)
        elif token == "(":
            _check_no_word(stack[-1], column, fail)
            stack.append(_Open(column))
        elif token == ")":
            done = _close(stack.pop(), column, fail)
            if not stack:
                root = done
            else:
                stack[-1].children.append(done)
        else:
            _add_word(stack[-1], token, column, fail)
    if root is not None:
        return root
    if not stack:
        raise DataFormatError(where, line, "empty line: expected a tree")
    raise fail(
        len(text) + 1,
        f"unbalanced brackets: {len(stack)} '(' not closed at the end of the line "
        f"(innermost opened at column {stack[-1].column})",
    )


def _outside_message(token: str, after: bool) -> str:
    """What is wrong with a token found before the first '(' or after the tree's end."""
    if token == ")":
        return "unbalanced brackets: ')' " + ("after the end of the tree" if after else "before any '('")
    return f"{token!r} after the end of the tree" if after else f"expected '(' but found {token!r}"


def _parse_label(token: str, column: int, num_labels: int | None, fail: _Fail) -> int:
    if token in "()":
        raise fail(column, f"missing label: found {token!r} right after '('")
    if not (token.isascii() and token.isdigit()):
        raise fail(column, f"label {token!r} is not a non-negative integer")
    label = int(token)
    if num_labels is not None and label >= num_labels:
        raise fail(column, f"label {label} is outside [0, {num_labels})")
    return label


def _add_word(node: _Open, token: str, column: int, fail: _Fail) -> None:
    if node.word is not None:
        raise fail(column, f"leaf opened at column {node.column} has a second word {token!r}")
    if node.children:
        raise fail(column, f"node opened at column {node.column} has a word after its subtrees")
    node.word = token


def _check_no_word(node: _Open, column: int, fail: _Fail) -> None:
    if node.word is not None:
        raise fail(column, f"leaf opened at column {node.column} has a subtree after its word")


def _close(node: _Open, column: int, fail: _Fail) -> Tree:
    assert node.label is not None  # a ')' right after '(' failed in _parse_label
    if node.word is None and not node.children:
        raise fail(column, f"node opened at column {node.column} has no word and no children")
    return Tree(node.label, tuple(node.children), node.word)


def read_trees(path: PathLike, num_labels: int | None = 5) -> Iterator[Tree]:
    """Yield one tree per line of a PTB-bracketed file (SST `train.txt`, `dev.txt`, `test.txt`).

    Args:
        path: the file, optionally `.xz` or `.gz`; one tree per line, no blank lines.
        num_labels: every node's label must lie in `[0, num_labels)` (5 for SST-5);
            None accepts any non-negative integer.

    Returns:
        An iterator over root `Tree`s, in file order.

    Raises:
        DataFormatError: naming the file, line and column of the first malformed tree
            (see `parse_tree`); also on an empty line or an empty file.
    """
    for lineno, text in iter_lines(path):
        yield parse_tree(text, path, lineno, num_labels=num_labels)
