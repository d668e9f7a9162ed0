"""Recursive neural networks over binary trees: the composition of two children's states into
their parent's, for the standard RvNN and the syntactically untied SU-RNN (Socher et al. 2011,
2013a), the matrix-vector MV-RNN (Socher et al. 2012), the tensor RNTN (Socher et al. 2013b)
and the binary Tree-LSTM (Tai et al. 2015).

Every cell works on batches of nodes: `leaf(vectors, words)` gives the states of n leaves,
`compose(left, right, left_type, right_type)` those of n parents from their children's. A
state is a tuple of tensors (the vector; MV-RNN adds a matrix, the Tree-LSTM a memory cell),
and `hidden(state)` is the vector a classifier reads. Cells never see a tree.

`evaluate_levels` batches dynamically by tree level (as TensorFlow Fold, Looks et al. 2017,
and DGL do): every node of one height, across a whole batch of trees, is composed in one
call, so a batch costs one step per level instead of one per node. The nodes of a batch are
laid out level-major: the leaves of every tree first (height 0), then every node of height
1, and so on. A node's children always sit at lower positions, so level h reads its
children from the states already computed and appends its own:

    positions  0 ........ L-1 | L ...... L+n1-1 | ... |  ... N-1
    height     0 (all leaves) | 1               | ... |  max height
               <- states[:start_h] ready ------> <- level h composed in one call ->

The layout itself (which node goes where, NumPy only) is `seqnlp.text.trees.level_schedule`;
this module runs a cell over it.

Legend: n nodes, E input (word vector) size, H hidden size, T node types.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

CELLS = ("rvnn", "surnn", "mvrnn", "rntn", "treelstm")
State = tuple[Tensor, ...]  # one tensor per part of a node's state, each (n, ...)


class TreeCell(nn.Module):
    """What every cell shares: a leaf's vector is its word vector, or, when E != H, the
    projection tanh(W_e x + b_e) of it (the Tree-LSTM has its own leaf equations).

    Args:
        input_size: E.
        hidden_size: H.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.project = nn.Linear(input_size, hidden_size) if input_size != hidden_size else None

    def leaf_vector(self, vectors: Tensor) -> Tensor:
        """(n, E) -> (n, H)."""
        return vectors if self.project is None else torch.tanh(self.project(vectors))

    def leaf(self, vectors: Tensor, words: Tensor) -> State:
        """The states of n leaves from their word vectors (n, E) and ids (n,)."""
        return (self.leaf_vector(vectors),)

    def compose(self, left: State, right: State, left_type: Tensor | None = None,
                right_type: Tensor | None = None) -> State:
        raise NotImplementedError

    def compose_pairs(self, children: State, left_type: Tensor | None = None,
                      right_type: Tensor | None = None) -> State:
        """`compose` from the children gathered in one call: each part (2n, ...) holds
        parent i's left child in row 2i and its right child in row 2i + 1. A cell that
        reads [c1; c2] takes it as the view (n, 2H) of the gathered (2n, H), saving a
        gather and a concatenation (and their gradients) per part and level."""
        return self.compose(tuple(part[0::2] for part in children),
                            tuple(part[1::2] for part in children), left_type, right_type)

    @staticmethod
    def hidden(state: State) -> Tensor:
        """The node vectors (n, H) a classifier reads."""
        return state[0]

    def extra_repr(self) -> str:
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}"


def _uniform(module: nn.Module, fan_in: int) -> None:
    bound = 1.0 / math.sqrt(fan_in)
    for parameter in module.parameters(recurse=False):
        nn.init.uniform_(parameter, -bound, bound)


class RvNN(TreeCell):
    """The standard recursive neural network: one W for every pair of children.

        p = tanh(W [c1; c2] + b),  W (H, 2H)

    On a right-branching chain (w1 (w2 (... (w_{n-1} w_n)))) this is an Elman RNN reading
    w_{n-1}, ..., w_1 from the initial state x_n, with W = [W_ih, W_hh].

    Shape: compose((n, H), (n, H)) -> ((n, H),)
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.weight = nn.Parameter(torch.empty(hidden_size, 2 * hidden_size))
        self.bias = nn.Parameter(torch.empty(hidden_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/sqrt(2H), 1/sqrt(2H)) for W and b."""
        _uniform(self, 2 * self.hidden_size)

    def compose(self, left: State, right: State, left_type: Tensor | None = None,
                right_type: Tensor | None = None) -> State:
        children = torch.cat([left[0], right[0]], dim=1)  # (n, 2H)
        return (torch.tanh(F.linear(children, self.weight, self.bias)),)

    def compose_pairs(self, children: State, left_type: Tensor | None = None,
                      right_type: Tensor | None = None) -> State:
        pairs = children[0].view(-1, 2 * self.hidden_size)  # (n, 2H): [c1; c2]
        return (torch.tanh(F.linear(pairs, self.weight, self.bias)),)


class SURNN(TreeCell):
    """The syntactically untied RvNN: the composition matrix depends on the children's types
    (their syntactic categories; on SST, whether each child is a word or a phrase).

        p = tanh(W^(t1, t2) [c1; c2] + b^(t1, t2)),  W^(t1, t2) (H, 2H), one per type pair

    Shape: compose((n, H), (n, H), (n,), (n,)) -> ((n, H),)
    """

    def __init__(self, input_size: int, hidden_size: int, num_types: int) -> None:
        super().__init__(input_size, hidden_size)
        self.num_types = num_types
        pairs = num_types * num_types
        self.weight = nn.Parameter(torch.empty(pairs, hidden_size, 2 * hidden_size))
        self.bias = nn.Parameter(torch.empty(pairs, hidden_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/sqrt(2H), 1/sqrt(2H)) for every W and b."""
        _uniform(self, 2 * self.hidden_size)

    def compose(self, left: State, right: State, left_type: Tensor | None = None,
                right_type: Tensor | None = None) -> State:
        if left_type is None or right_type is None:
            raise ValueError("the SU-RNN composes by the children's types: pass them")
        pair = left_type * self.num_types + right_type  # (n,)
        children = torch.cat([left[0], right[0]], dim=1).unsqueeze(2)  # (n, 2H, 1)
        mixed = torch.bmm(self.weight[pair], children).squeeze(2)  # (n, H)
        return (torch.tanh(mixed + self.bias[pair]),)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", num_types={self.num_types}"


class MVRNN(TreeCell):
    """The matrix-vector RNN: every word and phrase has a vector a and a matrix A, and each
    child's matrix transforms the other child's vector.

        p = tanh(W [B a; A b] + b_W),  W (H, 2H)
        P = W_M [A; B],                W_M (H, 2H), so P = W_M,1 A + W_M,2 B  (H, H)

    A word's matrix is a row of a (V, H, H) table, initialised to the identity plus
    N(0, 0.01^2) noise (Socher et al. 2012): V H^2 parameters, held as an embedding of
    (V, H^2) rows (`sparse`: its gradient holds only the rows of the words used).

    Shape: compose(((n, H), (n, H, H)), ...) -> ((n, H), (n, H, H))
    """

    def __init__(self, input_size: int, hidden_size: int, vocab_size: int,
                 sparse: bool = False) -> None:
        super().__init__(input_size, hidden_size)
        self.vocab_size = vocab_size
        self.word_matrices = nn.Embedding(vocab_size, hidden_size * hidden_size, sparse=sparse)
        self.weight = nn.Parameter(torch.empty(hidden_size, 2 * hidden_size))
        self.bias = nn.Parameter(torch.empty(hidden_size))
        self.weight_matrix = nn.Parameter(torch.empty(hidden_size, 2 * hidden_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Word matrices I + N(0, 0.01^2); W and b U(-1/sqrt(2H), 1/sqrt(2H)); W_M
        [I I] / 2 + N(0, 0.01^2), so that a parent's matrix starts as its children's mean."""
        size = self.hidden_size
        eye = torch.eye(size)
        nn.init.normal_(self.word_matrices.weight, 0.0, 0.01)
        nn.init.normal_(self.weight_matrix, 0.0, 0.01)
        with torch.no_grad():
            self.word_matrices.weight.add_(eye.flatten())
            self.weight_matrix.add_(torch.cat([eye, eye], dim=1) / 2)
        bound = 1.0 / math.sqrt(2 * size)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def leaf(self, vectors: Tensor, words: Tensor) -> State:
        size = self.hidden_size
        matrices = self.word_matrices(words).view(-1, size, size)
        return self.leaf_vector(vectors), matrices  # (n, H), (n, H, H)

    def compose(self, left: State, right: State, left_type: Tensor | None = None,
                right_type: Tensor | None = None) -> State:
        (a, matrix_a), (b, matrix_b) = left, right
        b_a = torch.bmm(matrix_b, a.unsqueeze(2)).squeeze(2)  # (n, H): B a
        a_b = torch.bmm(matrix_a, b.unsqueeze(2)).squeeze(2)  # (n, H): A b
        vector = torch.tanh(F.linear(torch.cat([b_a, a_b], dim=1), self.weight, self.bias))
        size = self.hidden_size
        matrix = (torch.matmul(self.weight_matrix[:, :size], matrix_a)
                  + torch.matmul(self.weight_matrix[:, size:], matrix_b))  # (n, H, H)
        return vector, matrix

    def extra_repr(self) -> str:
        return super().extra_repr() + f", vocab_size={self.vocab_size}"


class RNTN(TreeCell):
    """The recursive neural tensor network: a bilinear tensor term beside the RvNN's.

        x = [c1; c2] (2H),  p = tanh(s x^T V^[1:H] x + W x + b),  V (H, 2H, 2H), W (H, 2H)

    where slice k of V gives the k-th entry of the bilinear term, x^T V^[k] x, and s is a
    fixed scale, 1/(2H) by default. s changes nothing the network can express (s V is
    Socher et al.'s tensor); it is there for the optimizer. AdaGrad and Adam move every
    entry of V by about the learning rate in their first updates, whatever its gradient's
    size, and x^T V^[k] x sums (2H)^2 products: without s, two AdaGrad updates at lr 0.05
    took the term from 0.002 to about 10 on SST and left 64% of the parents saturated
    (|p| > 0.99), after which the RNTN stopped learning (dev root accuracy 0.25). With
    s = 1/(2H) the step on s V is s times smaller and the term stays near 0.1-0.2.

    Shape: compose((n, H), (n, H)) -> ((n, H),)
    """

    def __init__(self, input_size: int, hidden_size: int,
                 tensor_scale: float | None = None) -> None:
        super().__init__(input_size, hidden_size)
        self.tensor_scale = 1.0 / (2 * hidden_size) if tensor_scale is None else tensor_scale
        self.tensor = nn.Parameter(torch.empty(hidden_size, 2 * hidden_size, 2 * hidden_size))
        self.weight = nn.Parameter(torch.empty(hidden_size, 2 * hidden_size))
        self.bias = nn.Parameter(torch.empty(hidden_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """V, W and b U(-1/sqrt(2H), 1/sqrt(2H)) (s V then starts 2H times smaller)."""
        _uniform(self, 2 * self.hidden_size)

    def compose(self, left: State, right: State, left_type: Tensor | None = None,
                right_type: Tensor | None = None) -> State:
        return self._compose(torch.cat([left[0], right[0]], dim=1))

    def compose_pairs(self, children: State, left_type: Tensor | None = None,
                      right_type: Tensor | None = None) -> State:
        return self._compose(children[0].view(-1, 2 * self.hidden_size))

    def _compose(self, x: Tensor) -> State:
        """x = [c1; c2] (n, 2H)."""
        tensor_term = self.tensor_scale * F.bilinear(x, x, self.tensor)  # (n, H)
        return (torch.tanh(tensor_term + F.linear(x, self.weight, self.bias)),)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", tensor_scale={self.tensor_scale:g}"


class BinaryTreeLSTM(TreeCell):
    """The binary (N-ary, N = 2) Tree-LSTM of Tai et al. (2015), one forget gate per child.
    Words enter at the leaves only, as in their constituency Tree-LSTM:

        leaf:   i, o, u = sigma(W_i x + b_i), sigma(W_o x + b_o), tanh(W_u x + b_u)
                c = i * u,  h = o * tanh(c)
        parent: [i; f_l; f_r; o; u] = U [h_l; h_r] + b        (U (5H, 2H))
                c = sigma(i) * tanh(u) + sigma(f_l) * c_l + sigma(f_r) * c_r
                h = sigma(o) * tanh(c)

    Shape: leaf((n, E)) -> ((n, H), (n, H)); compose(((n, H), (n, H)), ...) -> same
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.project = None  # the leaf gates read the word vector directly
        self.weight_leaf = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.bias_leaf = nn.Parameter(torch.empty(3 * hidden_size))
        self.weight = nn.Parameter(torch.empty(5 * hidden_size, 2 * hidden_size))
        self.bias = nn.Parameter(torch.empty(5 * hidden_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias (torch.nn.LSTM's rule), the
        forget biases then set to 1 (Jozefowicz et al. 2015)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)
        with torch.no_grad():
            self.bias[self.hidden_size:3 * self.hidden_size].fill_(1.0)

    def leaf(self, vectors: Tensor, words: Tensor) -> State:
        i, o, u = F.linear(vectors, self.weight_leaf, self.bias_leaf).chunk(3, dim=1)
        cell = torch.sigmoid(i) * torch.tanh(u)  # (n, H)
        return torch.sigmoid(o) * torch.tanh(cell), cell

    def compose(self, left: State, right: State, left_type: Tensor | None = None,
                right_type: Tensor | None = None) -> State:
        (h_left, c_left), (h_right, c_right) = left, right
        return self._compose(torch.cat([h_left, h_right], dim=1), c_left, c_right)

    def compose_pairs(self, children: State, left_type: Tensor | None = None,
                      right_type: Tensor | None = None) -> State:
        hidden, memory = children  # (2n, H) each
        size = self.hidden_size
        pairs = memory.view(-1, 2, size)  # (n, 2, H)
        return self._compose(hidden.view(-1, 2 * size), pairs[:, 0], pairs[:, 1])

    def _compose(self, hidden: Tensor, c_left: Tensor, c_right: Tensor) -> State:
        """hidden = [h_l; h_r] (n, 2H), the children's memory cells (n, H) each."""
        gates = F.linear(hidden, self.weight, self.bias)  # (n, 5H)
        i, f_left, f_right, o, u = gates.chunk(5, dim=1)
        cell = (torch.sigmoid(i) * torch.tanh(u) + torch.sigmoid(f_left) * c_left
                + torch.sigmoid(f_right) * c_right)
        return torch.sigmoid(o) * torch.tanh(cell), cell


def build_tree_cell(name: str, input_size: int, hidden_size: int, vocab_size: int = 0,
                    num_types: int = 2, sparse: bool = False) -> TreeCell:
    """The cell called `name` ("rvnn", "surnn", "mvrnn", "rntn", "treelstm").

    Args:
        vocab_size: V, the word matrices of the MV-RNN (unused by the others).
        num_types: T, the node types of the SU-RNN (T^2 composition matrices).
        sparse: sparse gradients for the MV-RNN's word matrices.
    """
    if name == "rvnn":
        return RvNN(input_size, hidden_size)
    if name == "surnn":
        return SURNN(input_size, hidden_size, num_types)
    if name == "mvrnn":
        return MVRNN(input_size, hidden_size, vocab_size, sparse)
    if name == "rntn":
        return RNTN(input_size, hidden_size)
    if name == "treelstm":
        return BinaryTreeLSTM(input_size, hidden_size)
    raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {name!r}")


def evaluate_levels(cell: TreeCell, leaves: State,
                    levels: Sequence[tuple[Tensor, Tensor]],
                    types: Tensor | None = None) -> State:
    """Run a recursive cell bottom-up over a batch laid out by `level_schedule`.

    Args:
        cell: a `TreeCell` (its `compose_pairs` is called once per level, on the
            children gathered in one index per state part).
        leaves: the leaves' states, each (L, ...).
        levels: per height h >= 1, the (n_h,) positions of the left and right children.
        types: (N,) each node's type (SU-RNN), or None.

    Returns:
        The state of every node, each part (N, ...), in level-major order.
    """
    states = leaves
    for left, right in levels:
        left_type = None if types is None else types[left]
        right_type = None if types is None else types[right]
        pairs = torch.stack([left, right], dim=1).view(-1)  # (2n,): l_0, r_0, l_1, r_1, ...
        new = cell.compose_pairs(tuple(s.index_select(0, pairs) for s in states),
                                 left_type, right_type)
        states = tuple(torch.cat([old, part]) for old, part in zip(states, new))
    return states
