"""Tests of seqnlp.text.trees: the SST bracketed-tree reader and the Tree record."""

from __future__ import annotations

import collections
import dataclasses
import functools
from pathlib import Path

import pytest

from seqnlp.errors import DataFormatError
from seqnlp.fileio import iter_lines
from seqnlp.text.trees import Tree, parse_tree, read_trees
from tests.conftest import shared_file

SST_FILES = {"train": "train.txt.xz", "dev": "dev.txt", "test": "test.txt"}


@functools.cache
def sst(split: str) -> list[Tree]:
    """The trees of one SST split, read once per test session."""
    return list(read_trees(shared_file("sst", SST_FILES[split])))


# ---------------------------------------------------------------- real data

@pytest.mark.parametrize(
    ("split", "trees", "nodes", "roots"),
    [
        ("train", 8_544, 318_582, [1092, 2218, 1624, 2322, 1288]),
        ("dev", 1_101, 41_447, [139, 289, 229, 279, 165]),
        ("test", 2_210, 82_600, [279, 633, 389, 510, 399]),
    ],
)
def test_sst_tree_node_and_root_label_counts_match_source(
    split: str, trees: int, nodes: int, roots: list[int]
) -> None:
    read = sst(split)
    assert len(read) == trees
    assert sum(len(tree.nodes()) for tree in read) == nodes
    counts = collections.Counter(tree.label for tree in read)
    assert [counts[label] for label in range(5)] == roots
    assert all(len(node.children) in (0, 2) for tree in read for node in tree.nodes())


def test_sst_no_break_space_stays_inside_one_leaf() -> None:
    trees = sst("train")
    found = {
        number: word
        for number, tree in enumerate(trees, start=1)
        for word in tree.leaves()
        if "\u00a0" in word
    }
    assert found == {4342: "8\u00a01\\/2", 5799: "2\u00a01\\/2", 7409: "2\u00a01\\/2"}
    assert "8\u00a01\\/2" in trees[4341].leaves() and "8" not in trees[4341].leaves()


def test_sst_dev_trees_print_back_to_their_lines() -> None:
    path = shared_file("sst", "dev.txt")
    for (_, line), tree in zip(iter_lines(path), sst("dev"), strict=True):
        assert str(tree) == line


# ---------------------------------------------------------------- the Tree record

def test_tree_leaves_and_post_order_nodes() -> None:
    tree = parse_tree("(3 (2 It) (4 (2 's) (4 good)))")
    assert tree.leaves() == ["It", "'s", "good"]
    assert [(node.label, node.word) for node in tree.nodes()] == [
        (2, "It"), (2, "'s"), (4, "good"), (4, None), (3, None)
    ]
    assert tree.nodes()[-1] is tree and not tree.is_leaf and tree.children[0].is_leaf
    assert tree == Tree(3, (Tree(2, word="It"), Tree(4, (Tree(2, word="'s"), Tree(4, word="good")))))
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree.label = 1  # type: ignore[misc]


@pytest.mark.parametrize("fields", [{"label": 1}, {"label": 1, "word": "a", "children": (Tree(1, word="b"),)}])
def test_tree_node_must_have_a_word_or_children(fields: dict) -> None:
    with pytest.raises(ValueError, match="either a word"):
        Tree(**fields)


def test_parse_tree_handles_depth_beyond_the_recursion_limit() -> None:
    depth = 20_000
    text = "(1 " * depth + "(0 w)" + ")" * depth
    tree = parse_tree(text)
    assert tree.leaves() == ["w"]
    assert len(tree.nodes()) == depth + 1
    assert str(tree) == text


def test_parse_tree_accepts_extra_spaces_and_any_non_space_word_character() -> None:
    tree = parse_tree("  ( 2  (1 a\tb)(3 -LRB-) )  ")
    assert tree.leaves() == ["a\tb", "-LRB-"] and [c.label for c in tree.children] == [1, 3]


# ---------------------------------------------------------------- broken input

@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ("", "empty line: expected a tree"),
        ("(2 (2 a) (2 b)", "column 15: unbalanced brackets: 1 '(' not closed"),
        ("(2 (2 a) (2 b)))", "column 16: unbalanced brackets: ')' after the end of the tree"),
        (")(2 a)", "column 1: unbalanced brackets: ')' before any '('"),
        ("(2 (a) (2 b))", "column 5: label 'a' is not a non-negative integer"),
        ("((2 a) (2 b))", "column 2: missing label"),
        ("(2 (2 a) (x b))", "column 11: label 'x' is not a non-negative integer"),
        ("(2 (2 a) (5 b))", "column 11: label 5 is outside [0, 5)"),
        ("(2 (2 a) (2 b)) (2 c)", "column 17: '(' after the end of the tree"),
        ("(2 (2 a) (2 b)) extra", "column 17: 'extra' after the end of the tree"),
        ("(2 (2 a b) (2 c))", "column 9: leaf opened at column 4 has a second word 'b'"),
        ("(2 (2 a) (2))", "column 12: node opened at column 10 has no word and no children"),
        ("2 (2 a)", "column 1: expected '(' but found '2'"),
    ],
)
def test_read_trees_reports_file_line_and_column(tmp_path: Path, tree: str, message: str) -> None:
    path = tmp_path / "trees.txt"
    path.write_text(f"(3 (2 good) (3 line))\n{tree}\n(1 after)\n", encoding="utf-8")
    with pytest.raises(DataFormatError) as info:
        list(read_trees(path))
    assert info.value.path == str(path) and info.value.line == 2
    assert str(info.value).startswith(f"{path}, line 2: {message}")


def test_num_labels_none_accepts_any_non_negative_label(tmp_path: Path) -> None:
    path = tmp_path / "trees.txt"
    path.write_text("(12 (7 a) (0 b))\n", encoding="utf-8")
    assert [tree.label for tree in read_trees(path, num_labels=None)] == [12]
    with pytest.raises(DataFormatError, match=r"line 1: column 2: label 12 is outside \[0, 5\)"):
        list(read_trees(path))


def test_parse_tree_without_a_file_names_a_string() -> None:
    with pytest.raises(DataFormatError, match=r"^<string>: column 6: unbalanced"):
        parse_tree("(2 a))")


def test_read_trees_reports_invalid_utf8_and_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"(2 a)\n(2 \xe9t\xe9)\n")
    with pytest.raises(DataFormatError, match=r"line 2: invalid UTF-8"):
        list(read_trees(path))
    path.write_bytes(b"")
    with pytest.raises(DataFormatError, match=r"bad.txt: file is empty"):
        list(read_trees(path))


def test_read_trees_reports_a_truncated_xz_with_a_line(tmp_path: Path) -> None:
    data = shared_file("sst", "train.txt.xz").read_bytes()
    path = tmp_path / "train.txt.xz"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(DataFormatError, match="truncated or corrupt") as info:
        list(read_trees(path))
    assert info.value.path == str(path) and info.value.line is not None and info.value.line > 100
    assert f"{path}, line {info.value.line}:" in str(info.value)
