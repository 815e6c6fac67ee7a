"""Fast CSPN++ propagation vs the naive reference-style implementation; hand-written backward; NaN detector."""

from __future__ import annotations

import pytest
import torch

from depthforge.models.semattnet.cspn import (
    AffinityNaNError,
    cspn_chain,
    cspn_chain_reference,
    cspn_step,
    cspn_step_reference,
    kernel_offsets,
    normalize_guide,
    shift_guide,
)


def _guide(k, b=2, h=9, w=11, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    raw = torch.randn(b, k * k - 1, h, w, generator=g, dtype=dtype)
    return normalize_guide(raw)


def test_kernel_offsets_follow_reference_index():
    # raw index t = (c - o_y) * k + (c - o_x); the centre is skipped
    offs = kernel_offsets(3)
    assert offs[0] == (1, 1) and offs[-1] == (-1, -1) and (0, 0) not in offs and len(offs) == 8


@pytest.mark.parametrize("k", [3, 5, 7])
def test_single_step_matches_naive_scatter_formula(k):
    g, g_mid = _guide(k)
    hn = torch.randn(2, 1, 9, 11, dtype=torch.float64)
    h0 = torch.randn(2, 1, 9, 11, dtype=torch.float64)
    ref = cspn_step_reference(g, g_mid, hn, h0, k)
    # explicit formula: out(p) = G_c(p) h0(p) + sum_o G_t(o)(p+o) h(p+o)
    c = (k - 1) // 2
    explicit = g_mid * h0
    for m, (oy, ox) in enumerate(kernel_offsets(k)):
        for y in range(9):
            for x in range(11):
                yy, xx = y + oy, x + ox
                if 0 <= yy < 9 and 0 <= xx < 11:
                    explicit[:, 0, y, x] += g[:, m, yy, xx] * hn[:, 0, yy, xx]
    torch.testing.assert_close(ref, explicit, rtol=0, atol=1e-12)
    fast = cspn_step(shift_guide(g, k), g_mid, hn, h0, k)
    torch.testing.assert_close(fast, ref, rtol=0, atol=1e-12)
    assert c >= 1


@pytest.mark.parametrize("k", [3, 5, 7])
@pytest.mark.parametrize("phases", [1, 4])
def test_chain_matches_naive_chain(k, phases):
    g, g_mid = _guide(k, seed=k)
    h0 = torch.randn(2, phases, 9, 11, dtype=torch.float64)
    mask = torch.rand(2, 1, 9, 11, dtype=torch.float64) * (torch.rand(2, 1, 9, 11) < 0.3)
    d = torch.rand(2, 1, 9, 11, dtype=torch.float64) * 10
    x0 = torch.randn_like(h0)
    ref = cspn_chain_reference(g, g_mid, h0, mask, d, k, 6, x0=x0)
    fast = cspn_chain(shift_guide(g, k), g_mid, h0, mask, d, k, 6, x0=x0)
    torch.testing.assert_close(fast, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k, phases", [(3, 1), (5, 4), (7, 1)])
def test_chain_backward_gradcheck(k, phases):
    torch.manual_seed(k)
    b, h, w = 1, 5, 6
    raw = torch.randn(b, k * k - 1, h, w, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(b, phases, h, w, dtype=torch.float64, requires_grad=True)
    x0 = torch.randn(b, phases, h, w, dtype=torch.float64, requires_grad=True)
    mask = torch.rand(b, 1, h, w, dtype=torch.float64).requires_grad_()
    d = (torch.rand(b, 1, h, w, dtype=torch.float64) * 5).requires_grad_()

    def fn(raw, h0, x0, mask, d):
        g, g_mid = normalize_guide(raw)
        return cspn_chain(shift_guide(g, k), g_mid, h0, mask, d, k, 2, x0=x0)

    assert torch.autograd.gradcheck(fn, (raw, h0, x0, mask, d), eps=1e-6, atol=1e-7)


def test_chain_backward_matches_autograd_of_naive():
    k, phases = 5, 4
    torch.manual_seed(1)
    raw = torch.randn(2, k * k - 1, 10, 12, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, phases, 10, 12, dtype=torch.float64, requires_grad=True)
    mask = torch.rand(2, 1, 10, 12, dtype=torch.float64, requires_grad=True)
    d = torch.rand(2, 1, 10, 12, dtype=torch.float64)
    w = torch.randn(2, phases, 10, 12, dtype=torch.float64)
    grads = []
    for impl in ("fast", "naive"):
        g, g_mid = normalize_guide(raw)
        if impl == "fast":
            out = cspn_chain(shift_guide(g, k), g_mid, h0, mask, d, k, 6)
        else:
            out = cspn_chain_reference(g, g_mid, h0, mask, d, k, 6)
        grads.append(torch.autograd.grad((out * w).sum(), (raw, h0, mask)))
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


def test_nan_detector():
    raw = torch.randn(1, 8, 5, 5)
    raw[:, :, 2, 3] = 0  # all-zero guide at one pixel -> 0/0 in the reference normalisation
    with pytest.raises(AffinityNaNError, match="1 pixel"):
        normalize_guide(raw)
    with pytest.warns(RuntimeWarning, match="NaN"):
        g, _ = normalize_guide(raw, nan_policy="warn")
    assert torch.isnan(g[:, :, 2, 3]).all()  # formula reproduced (no epsilon)
    g, _ = normalize_guide(raw, nan_policy="ignore")
    raw[:, 0, 0, 0] = float("nan")
    with pytest.raises(AffinityNaNError):
        normalize_guide(raw)


def test_weights_sum_to_one():
    g, g_mid = _guide(7)
    torch.testing.assert_close(g.sum(1, keepdim=True) + g_mid, torch.ones_like(g_mid))
