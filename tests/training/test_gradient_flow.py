"""Gradient-flow diagnostics: ||dL/dh_t|| against closed forms, and the plot."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seqnlp.training.gradient_flow import hidden_grad_norms, plot_gradient_flow


def linear_rnn(w: torch.Tensor, u: torch.Tensor, x: torch.Tensor) -> list[torch.Tensor]:
    """h_t = W h_(t-1) + U x_t from h_(-1) = 0; the states the loop fed back, (B, H) each."""
    x = x.detach().requires_grad_()  # so that the states are in an autograd graph
    h = x.new_zeros(x.size(0), w.size(0))
    states = []
    for t in range(x.size(1)):
        h = h @ w.T + x[:, t] @ u.T
        states.append(h)
    return states


def test_norms_equal_the_closed_form_of_a_linear_rnn() -> None:
    # L = sum_b v . h_(T-1): dL/dh_t = (W^T)^(T-1-t) v for every sequence b, so the norm
    # over the (B, H) slice is sqrt(B) * ||(W^T)^(T-1-t) v||.
    gen = torch.Generator().manual_seed(0)
    batch, hidden, steps = 3, 4, 12
    w = torch.randn(hidden, hidden, generator=gen, dtype=torch.float64)
    w = 0.6 * w / torch.linalg.matrix_norm(w, ord=2)  # spectral norm 0.6: a contraction
    u = torch.randn(hidden, 2, generator=gen, dtype=torch.float64)
    v = torch.randn(hidden, generator=gen, dtype=torch.float64)
    x = torch.randn(batch, steps, 2, generator=gen, dtype=torch.float64)
    states = linear_rnn(w, u, x)
    loss = (states[-1] @ v).sum()
    norms = hidden_grad_norms(loss, [states])
    wt, vec = w.T.numpy(), v.numpy()
    expected = [np.sqrt(batch) * np.linalg.norm(np.linalg.matrix_power(wt, steps - 1 - t) @ vec)
                for t in range(steps)]
    assert norms.shape == (1, steps)
    np.testing.assert_allclose(norms[0], expected, rtol=1e-12)
    assert norms[0, 0] < 1e-2 * norms[0, -1]  # this W shrinks the gradient: it vanishes


def test_a_scalar_recurrence_decays_geometrically() -> None:
    # h_t = a h_(t-1) + x_t with a loss on every step, L = sum_t h_t: dL/dh_t = sum_{k<T-t} a^k.
    a, steps = 0.5, 6
    x = torch.ones(1, steps, 1, dtype=torch.float64)
    states = linear_rnn(torch.tensor([[a]], dtype=torch.float64),
                        torch.ones(1, 1, dtype=torch.float64), x)
    loss = torch.stack(states).sum()
    norms = hidden_grad_norms(loss, [states])[0]
    expected = [sum(a**k for k in range(steps - t)) for t in range(steps)]
    np.testing.assert_allclose(norms, expected, rtol=1e-12)


def test_a_stacked_tensor_sees_only_its_direct_paths() -> None:
    # Gradient w.r.t. a (B, T, H) tensor built after the loop covers what leaves that
    # tensor: here the loss reads its last step only, so earlier steps get 0.
    w = torch.eye(2, dtype=torch.float64) * 0.9
    x = torch.ones(2, 5, 2, dtype=torch.float64)
    states = linear_rnn(w, torch.eye(2, dtype=torch.float64), x)
    stacked = torch.stack(states, dim=1)  # (B, T, H)
    loss = stacked[:, -1].sum() + 0.0 * stacked.sum()
    norms = hidden_grad_norms(loss, [stacked], retain_graph=True)
    np.testing.assert_allclose(norms[0], [0, 0, 0, 0, 2.0], atol=1e-12)
    through_recurrence = hidden_grad_norms(loss, [states])[0]
    np.testing.assert_allclose(through_recurrence, [2.0 * 0.9**k for k in range(4, -1, -1)])


def test_layers_give_rows_and_unused_states_give_zeros() -> None:
    x = torch.randn(2, 4, 3, requires_grad=True)
    lower = torch.tanh(x)  # (B, T, H)
    upper = lower * 2.0
    unused = torch.randn(2, 4, 3, requires_grad=True)
    norms = hidden_grad_norms(upper.sum(), [lower, upper, unused])
    assert norms.shape == (3, 4)
    np.testing.assert_allclose(norms[0], 2.0 * np.sqrt(6), rtol=1e-6)
    np.testing.assert_allclose(norms[1], np.sqrt(6), rtol=1e-6)
    assert (norms[2] == 0).all()


def test_layers_of_different_lengths_are_refused() -> None:
    a = torch.randn(2, 4, 3, requires_grad=True)
    b = torch.randn(2, 5, 3, requires_grad=True)
    with pytest.raises(ValueError, match="same number of steps"):
        hidden_grad_norms(a.sum() + b.sum(), [a, b])
    with pytest.raises(ValueError, match=r"expected \(B, T, H\)"):
        hidden_grad_norms(a.sum(), [a[0]])


def test_plot_writes_a_png_with_log_scale_lines(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    steps = np.arange(50)
    panels = {
        "at initialisation": {"rnn": 0.9 ** (49 - steps), "lstm": np.ones(50)},
        "after training": {"two layers": np.stack([0.8 ** (49 - steps), np.r_[0.0, np.ones(49)]])},
    }
    path = plot_gradient_flow(panels, tmp_path / "plots" / "flow.png", title="test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000
