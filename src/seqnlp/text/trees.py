"""Labelled constituency trees in PTB bracket notation, as in the Stanford Sentiment Treebank
(Socher et al., 2013): `(3 (2 It) (4 (2 's) (4 good)))`, a sentiment label on every node.

Parsing is iterative (an explicit stack), so a deep tree cannot exhaust Python's recursion
limit. Tokens are split on ASCII spaces and brackets only: SST has leaves such as
`8<U+00A0>1\\/2` that must stay one word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

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
