"""The fused decoder + cross-entropy equals the unfused expression, values and gradients."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from seqnlp.nn import LogitBuffer, linear_cross_entropy


def inputs(rows: int = 7, hidden: int = 5, vocab: int = 11, dtype=torch.float64, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(rows, hidden, generator=g, dtype=dtype, requires_grad=True)
    w = torch.randn(vocab, hidden, generator=g, dtype=dtype, requires_grad=True)
    b = torch.randn(vocab, generator=g, dtype=dtype, requires_grad=True)
    t = torch.randint(vocab, (rows,), generator=g)
    return h, w, b, t


@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("use_buffer", [True, False])
def test_equals_unfused_values_and_gradients(with_bias: bool, use_buffer: bool) -> None:
    h, w, b, t = inputs()
    bias = b if with_bias else None
    buffer = LogitBuffer() if use_buffer else None
    for step in range(3):  # the buffer is reused across updates
        scale = 0.5 + step
        fused = linear_cross_entropy(h, w, bias, t, buffer) * scale
        grads = torch.autograd.grad(fused, [h, w, b] if with_bias else [h, w])
        plain = F.cross_entropy(F.linear(h, w, bias), t) * scale
        expected = torch.autograd.grad(plain, [h, w, b] if with_bias else [h, w])
        torch.testing.assert_close(fused, plain, rtol=1e-12, atol=1e-12)
        for got, want in zip(grads, expected):
            torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
    if use_buffer:
        assert not buffer.busy


def test_large_logits_are_stable() -> None:
    h, w, b, t = inputs(dtype=torch.float32)
    with torch.no_grad():
        w.mul_(1e3)
    fused = linear_cross_entropy(h, w, b, t)
    plain = F.cross_entropy(F.linear(h, w, b), t)
    assert torch.isfinite(fused)
    torch.testing.assert_close(fused, plain, rtol=1e-5, atol=1e-3)


def test_two_losses_in_flight_do_not_share_the_buffer() -> None:
    h, w, b, t = inputs()
    buffer = LogitBuffer()
    first = linear_cross_entropy(h, w, b, t, buffer)
    second = linear_cross_entropy(h * 2, w, b, t, buffer)  # the buffer is busy: fresh memory
    got = torch.autograd.grad(first + second, [h, w, b])
    plain = F.cross_entropy(F.linear(h, w, b), t) + F.cross_entropy(F.linear(h * 2, w, b), t)
    for g, e in zip(got, torch.autograd.grad(plain, [h, w, b])):
        torch.testing.assert_close(g, e)
    assert not buffer.busy


def test_no_grad_call_releases_the_buffer() -> None:
    h, w, b, t = inputs()
    buffer = LogitBuffer()
    with torch.no_grad():
        loss = linear_cross_entropy(h, w, b, t, buffer)
    assert not buffer.busy
    torch.testing.assert_close(loss, F.cross_entropy(F.linear(h, w, b), t))


def test_second_backward_is_refused() -> None:
    h, w, b, t = inputs()
    loss = linear_cross_entropy(h, w, b, t)
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="backward ran twice"):
        loss.backward()


def test_bad_shapes_are_refused() -> None:
    h, w, b, t = inputs()
    with pytest.raises(ValueError, match="targets"):
        linear_cross_entropy(h, w, b, t[:-1])


def test_bfloat16_products_stay_close_to_float32() -> None:
    h, w, b, t = inputs(rows=50, hidden=16, vocab=40, dtype=torch.float32)
    buffer = LogitBuffer()
    low = linear_cross_entropy(h, w, b, t, buffer, matmul_dtype=torch.bfloat16)
    got = torch.autograd.grad(low, [h, w, b])
    plain = F.cross_entropy(F.linear(h, w, b), t)
    want = torch.autograd.grad(plain, [h, w, b])
    assert low.dtype == torch.float32 and all(g.dtype == torch.float32 for g in got)
    torch.testing.assert_close(low, plain, rtol=2e-2, atol=2e-2)
    for g, e in zip(got, want):  # bfloat16 keeps 8 significant bits
        torch.testing.assert_close(g, e, rtol=5e-2, atol=5e-3)
    assert not buffer.busy
    # and it is not simply float32 again
    assert not torch.equal(low, plain)
