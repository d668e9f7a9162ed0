"""Tests of seqnlp.nn.tree and seqnlp.nn.tree: the recursive cells and their
level-by-level evaluation, against an Elman RNN and against node-by-node recursion."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from seqnlp.nn.tree import CELLS, RNTN, RvNN, build_tree_cell, evaluate_levels
from seqnlp.text.trees import Tree, binarize, level_schedule, parse_tree

pytestmark = pytest.mark.usefixtures("one_thread")

E, H, V = 5, 4, 12


def word_ids(tree: Tree) -> dict[str, int]:
    return {w: i % V for i, w in enumerate(sorted(set(tree.leaves())))}


def post_order_arrays(tree: Tree) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    flat = tree.flatten()
    left = np.array([c[0] if c else -1 for c in flat.children])
    right = np.array([c[1] if c else -1 for c in flat.children])
    return left, right, np.array(flat.heights)


def batched_states(cell, embedding, trees, ids):
    """Every node's state via the level schedule, returned in batch-wide post-order."""
    arrays = [post_order_arrays(t) for t in trees]
    schedule = level_schedule(*zip(*arrays))
    words = np.concatenate([[ids[n.word] if n.word is not None else -1 for n in t.nodes()]
                            for t in trees])[schedule.order[:schedule.num_leaves]]
    words = torch.from_numpy(words)
    types = torch.from_numpy(np.concatenate(
        [[0 if n.is_leaf else 1 for n in t.nodes()] for t in trees])[schedule.order])
    levels = [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in schedule.levels]
    states = evaluate_levels(cell, cell.leaf(embedding(words), words), levels, types)
    back = torch.from_numpy(schedule.position)
    return tuple(s[back] for s in states)


def node_by_node_states(cell, embedding, trees, ids):
    """The same states by plain recursion over each tree, one node at a time."""

    def visit(node: Tree, out: list):
        if node.is_leaf:
            word = torch.tensor([ids[node.word]])
            state = cell.leaf(embedding(word), word)
        else:
            left, right = (visit(child, out) for child in node.children)
            kinds = [torch.tensor([0 if c.is_leaf else 1]) for c in node.children]
            state = cell.compose(left, right, *kinds)
        out.append(state)
        return state

    out: list = []
    for tree in trees:
        visit(tree, out)
    return tuple(torch.cat(parts) for parts in zip(*out))


TREES = [
    "(3 (2 It) (4 (2 's) (4 (3 very) (4 good))))",
    "(1 (1 (2 a) (1 dull)) (2 movie))",
    "(2 word)",
    "(0 (0 (1 (2 not) (1 (3 a) (2 (2 single) (2 joke)))) (2 .)) (2 end))",
]


@pytest.mark.parametrize("name", CELLS)
def test_batched_and_node_by_node_give_the_same_states_and_gradients(name: str) -> None:
    torch.manual_seed(0)
    trees = [parse_tree(t) for t in TREES]
    ids = word_ids(Tree(0, tuple(trees)))
    cell = build_tree_cell(name, E, H, vocab_size=V, num_types=2).double()
    embedding = torch.nn.Embedding(V, E).double()
    params = [*cell.parameters(), embedding.weight]
    results = []
    for run in (batched_states, node_by_node_states):
        states = run(cell, embedding, trees, ids)
        probe = torch.linspace(-1, 1, states[0].numel(), dtype=torch.float64)
        loss = sum((s * torch.linspace(-1, 1, s.numel(), dtype=torch.float64).view_as(s)).sum()
                   for s in states) + (states[0].flatten() * probe).pow(2).sum()
        grads = torch.autograd.grad(loss, params)
        results.append((states, grads))
    (states_a, grads_a), (states_b, grads_b) = results
    assert len(states_a[0]) == sum(len(t.nodes()) for t in trees)
    for a, b in zip(states_a, states_b):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    for a, b in zip(grads_a, grads_b):
        assert float(b.abs().max()) > 0  # every parameter is reached
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


def test_rvnn_on_a_right_branching_chain_is_an_elman_rnn() -> None:
    torch.manual_seed(1)
    words = ["w1", "w2", "w3", "w4", "w5", "w6"]
    tree = binarize(words, "right")
    ids = {w: i for i, w in enumerate(words)}
    cell = RvNN(H, H).double()
    embedding = torch.nn.Embedding(V, H).double()
    states = batched_states(cell, embedding, [tree], ids)[0]
    root = states[-1]

    rnn = torch.nn.RNN(H, H, nonlinearity="tanh", bias=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(cell.weight[:, :H])  # the left child is the next input word
        rnn.weight_hh_l0.copy_(cell.weight[:, H:])  # the right child is the state so far
        rnn.bias_ih_l0.copy_(cell.bias)
        rnn.bias_hh_l0.zero_()
    x = embedding(torch.tensor([ids[w] for w in words]))  # (T, H)
    inputs = x[:-1].flip(0).unsqueeze(1)  # w5, w4, ..., w1: (T-1, 1, H)
    outputs, last = rnn(inputs, x[-1].view(1, 1, H))  # h0 = the last word's vector
    torch.testing.assert_close(root, last.view(H), rtol=0, atol=1e-12)
    # every inner node of the chain is one RNN step: post-order puts the deepest first
    inner = [i for i, node in enumerate(tree.nodes()) if not node.is_leaf]
    torch.testing.assert_close(states[inner], outputs.view(-1, H), rtol=0, atol=1e-12)


def test_level_schedule_places_children_before_parents_level_by_level() -> None:
    trees = [parse_tree(t) for t in TREES]
    schedule = level_schedule(*zip(*(post_order_arrays(t) for t in trees)))
    heights = np.concatenate([t.flatten().heights for t in trees])
    assert sorted(schedule.order.tolist()) == list(range(len(heights)))
    assert np.all(np.diff(heights[schedule.order]) >= 0)  # level-major
    assert schedule.num_leaves == sum(len(t.leaves()) for t in trees)
    start = schedule.num_leaves
    for h, (left, right) in enumerate(schedule.levels, start=1):
        assert np.all(heights[schedule.order[start:start + len(left)]] == h)
        assert np.all(left < start) and np.all(right < start)
        start += len(left)
    assert start == len(heights)
    sizes = np.cumsum([len(t.nodes()) for t in trees]) - 1
    assert schedule.roots.tolist() == schedule.position[sizes].tolist()
    assert len(schedule.levels) == max(t.height for t in trees)


def test_surnn_picks_the_matrix_of_the_child_type_pair() -> None:
    torch.manual_seed(2)
    cell = build_tree_cell("surnn", H, H, num_types=2)
    a, b = torch.randn(1, H), torch.randn(1, H)
    outputs = {(s, t): cell.compose((a,), (b,), torch.tensor([s]), torch.tensor([t]))[0]
               for s in (0, 1) for t in (0, 1)}
    expected = torch.tanh(torch.cat([a, b], 1) @ cell.weight[1 * 2 + 0].T + cell.bias[2])
    torch.testing.assert_close(outputs[(1, 0)], expected)
    assert len({tuple(o.flatten().tolist()) for o in outputs.values()}) == 4
    with pytest.raises(ValueError, match="types"):
        cell.compose((a,), (b,))


def test_unknown_cell_is_refused() -> None:
    with pytest.raises(ValueError, match="rvnn, surnn"):
        build_tree_cell("gru", 2, 2)


def test_rntn_follows_its_equation_with_the_tensor_scaled_by_one_over_2h() -> None:
    torch.manual_seed(3)
    cell = build_tree_cell("rntn", H, H)
    assert cell.tensor_scale == pytest.approx(1 / (2 * H))
    a, b = torch.randn(2, H), torch.randn(2, H)
    x = torch.cat([a, b], 1)  # (2, 2H)
    bilinear = torch.einsum("ni,kij,nj->nk", x, cell.tensor, x)  # x^T V^[k] x
    expected = torch.tanh(bilinear / (2 * H) + x @ cell.weight.T + cell.bias)
    torch.testing.assert_close(cell.compose((a,), (b,))[0], expected)


@pytest.mark.parametrize(("scale", "saturated"), [(None, False), (1.0, True)])
def test_rntn_tensor_term_stays_unsaturated_through_adagrad_s_first_updates(
        scale: float | None, saturated: bool) -> None:
    """AdaGrad's first updates move every entry of V by about lr: unscaled, the (2H)^2
    products of x^T V x add up and tanh saturates (the RNTN then stopped learning)."""
    size = 30
    torch.manual_seed(0)
    cell = RNTN(size, size, tensor_scale=scale)
    leaves = nn.Parameter(torch.empty(64, size).uniform_(-0.1, 0.1))  # word vectors
    output = nn.Linear(size, 5)
    labels = torch.randint(0, 5, (32,))
    optimizer = torch.optim.Adagrad([leaves, *cell.parameters(), *output.parameters()],
                                    lr=0.05)
    for _ in range(3):
        optimizer.zero_grad()
        parents = cell.compose((leaves[:32],), (leaves[32:],))[0]
        grandparents = cell.compose((parents[:16],), (parents[16:],))[0]
        logits = output(torch.cat([parents, grandparents]))
        torch.nn.functional.cross_entropy(logits, torch.cat([labels, labels[:16]])).backward()
        optimizer.step()
    with torch.no_grad():
        parents = cell.compose((leaves[:32],), (leaves[32:],))[0]
        top = cell.compose((parents[:16],), (parents[16:],))[0]
    assert bool((top.abs() > 0.99).float().mean() > 0.3) == saturated
