"""Tests of the Tree's views (flat post-order arrays, spans, height, relabelling) and of
binary trees built over plain sentences."""

from __future__ import annotations

import pytest

from seqnlp.text.trees import Tree, binarize, flatten, parse_tree

TREE = "(3 (2 It) (4 (2 's) (4 (3 very) (4 good))))"


def test_flat_tree_lists_nodes_in_post_order_with_children_spans_and_heights() -> None:
    flat = flatten(parse_tree(TREE))
    assert flat.words == ("It", "'s", "very", "good", None, None, None)
    assert flat.children == ((), (), (), (), (2, 3), (1, 4), (0, 5))
    assert flat.labels == (2, 2, 3, 4, 4, 4, 3)
    assert flat.heights == (0, 0, 0, 0, 1, 2, 3)
    assert flat.spans == ((0, 1), (1, 2), (2, 3), (3, 4), (2, 4), (1, 4), (0, 4))
    assert flat.leaves == [0, 1, 2, 3] and len(flat) == 7


def test_height_spans_and_binary_check() -> None:
    tree = parse_tree(TREE)
    assert tree.height == 3 and tree.children[0].height == 0
    assert tree.spans()[-1] == (0, 4) and len(tree.spans()) == len(tree.nodes())
    assert tree.is_binary()
    assert not parse_tree("(2 (1 a) (2 b) (3 c))").is_binary()
    assert not parse_tree("(2 (1 a))").is_binary()


def test_flatten_handles_depth_beyond_the_recursion_limit() -> None:
    depth = 5_000
    tree = parse_tree("(1 (0 w) " * depth + "(0 end)" + ")" * depth)
    flat = tree.flatten()
    assert flat.heights[-1] == depth == tree.height
    assert flat.spans[-1] == (0, depth + 1)


def test_relabel_returns_a_new_tree_and_leaves_the_old_one_alone() -> None:
    tree = parse_tree(TREE)
    before = str(tree)
    new = tree.relabel([0, 1, 2, 3, 4, 0, 1])
    assert str(new) == "(1 (0 It) (0 (1 's) (4 (2 very) (3 good))))"
    assert str(tree) == before and new is not tree
    with pytest.raises(ValueError, match="7 labels"):
        tree.relabel([1, 2])


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ("balanced", "(2 (2 (2 (2 a) (2 b)) (2 c)) (2 (2 d) (2 e)))"),
        ("right", "(2 (2 a) (2 (2 b) (2 (2 c) (2 (2 d) (2 e)))))"),
        ("left", "(2 (2 (2 (2 (2 a) (2 b)) (2 c)) (2 d)) (2 e))"),
    ],
)
def test_binarize_builds_the_named_shape(shape: str, expected: str) -> None:
    tree = binarize(["a", "b", "c", "d", "e"], shape, label=2)
    assert str(tree) == expected
    assert tree.leaves() == ["a", "b", "c", "d", "e"] and tree.is_binary()


def test_binarize_balanced_is_logarithmically_tall_and_a_word_is_a_leaf() -> None:
    assert binarize([str(i) for i in range(1000)]).height == 10
    assert binarize(["solo"]) == Tree(0, word="solo")


@pytest.mark.parametrize(
    ("words", "shape", "message"),
    [
        ([], "balanced", "empty sentence"),
        (["a", "b"], "diagonal", "shape must be one of"),
        (["a", "(b"], "right", "cannot be a leaf"),
        (["a b"], "right", "cannot be a leaf"),
        ([""], "left", "cannot be a leaf"),
    ],
)
def test_binarize_refuses_what_cannot_be_a_tree(words: list[str], shape: str,
                                                message: str) -> None:
    with pytest.raises(ValueError, match=message):
        binarize(words, shape)
