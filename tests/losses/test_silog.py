"""SILog loss (ZoeDepth / PatchRefiner form) against values worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from depthforge.losses import silog_loss

LN2 = math.log(2.0)


def _t(rows: list[list[float]]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64).view(1, 1, len(rows), len(rows[0]))


def test_batch_of_one_by_hand() -> None:
    # g = ln(pred / 2) = ln2 * [-1, 0, 1, 2]: mean ln2/2, unbiased variance ln2^2 * 5/3
    loss = silog_loss(_t([[1, 2], [4, 8]]), _t([[2, 2], [2, 2]]), 1e-3, 80)
    expected = 10 * LN2 * math.sqrt(5 / 3 + 0.15 * 0.25)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_only_pixels_strictly_inside_the_depth_range_count() -> None:
    # gt 0 (missing), 80 (== max) and 100 are excluded; the two kept pixels give g = ln2 * [-1, 1]
    pred = _t([[1, 4, 5, 5], [5, 5, 5, 5]])
    gt = _t([[2, 2, 0, 80], [100, 0, 0, 0]])
    loss = silog_loss(pred, gt, 1e-3, 80)
    assert loss.item() == pytest.approx(10 * LN2 * math.sqrt(2.0), rel=1e-6)  # var = 2 ln2^2, mean 0


def test_pixels_are_pooled_over_the_batch() -> None:
    # image 1: g = [0, 0]; image 2: g = [ln2, ln2] -> pooled mean ln2/2, unbiased variance ln2^2/3
    pred = torch.tensor([[1.0, 1.0], [2.0, 2.0]], dtype=torch.float64).view(2, 1, 1, 2)
    gt = torch.ones(2, 1, 1, 2, dtype=torch.float64)
    loss = silog_loss(pred, gt, 1e-3, 80)
    assert loss.item() == pytest.approx(10 * LN2 * math.sqrt(1 / 3 + 0.15 / 4), rel=1e-6)


def test_prediction_is_resized_to_the_ground_truth() -> None:
    # a constant prediction stays constant under bilinear resizing: g = ln(3/1.5) everywhere, variance 0
    pred = torch.full((1, 1, 2, 3), 3.0, dtype=torch.float64)
    gt = torch.full((1, 1, 4, 6), 1.5, dtype=torch.float64)
    assert silog_loss(pred, gt, 1e-3, 80).item() == pytest.approx(10 * math.sqrt(0.15) * LN2, rel=1e-6)
    # a ramp is resized with align_corners=True: the 2-pixel row [1, 4] becomes [1, 2, 3, 4] exactly
    ramp = torch.tensor([1.0, 4.0], dtype=torch.float64).view(1, 1, 1, 2)
    gt = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64).view(1, 1, 1, 4)
    assert silog_loss(ramp, gt, 1e-3, 80).item() == pytest.approx(0.0, abs=1e-5)


def test_extra_mask_only_when_it_keeps_enough_pixels() -> None:
    pred, gt = _t([[1, 2], [4, 8]]), _t([[2, 2], [2, 2]])
    keep = torch.tensor([[True, False], [False, True]]).view(1, 1, 2, 2)
    # kept pixels g = ln2 * [-1, 2]: mean ln2/2, variance 4.5 ln2^2
    masked = silog_loss(pred, gt, 1e-3, 80, keep)
    assert masked.item() == pytest.approx(10 * LN2 * math.sqrt(4.5 + 0.15 / 4), rel=1e-6)
    # a mask that keeps nothing is ignored
    nothing = torch.zeros(1, 1, 2, 2, dtype=torch.bool)
    unmasked = silog_loss(pred, gt, 1e-3, 80).item()
    assert silog_loss(pred, gt, 1e-3, 80, nothing).item() == pytest.approx(unmasked)


def test_beta_and_scale() -> None:
    pred, gt = _t([[1, 2], [4, 8]]), _t([[2, 2], [2, 2]])
    loss = silog_loss(pred, gt, 1e-3, 80, beta=0.0, scale=1.0)
    assert loss.item() == pytest.approx(LN2 * math.sqrt(5 / 3), rel=1e-6)


def test_at_most_one_valid_pixel_gives_a_zero_with_a_graph() -> None:
    pred = torch.full((1, 1, 2, 2), 2.0, requires_grad=True)
    gt = torch.tensor([[5.0, 0.0], [0.0, 0.0]]).view(1, 1, 2, 2)
    loss = silog_loss(pred, gt, 1e-3, 80)
    assert loss.dim() == 0 and loss.item() == 0.0
    loss.backward()
    assert pred.grad is not None and torch.equal(pred.grad, torch.zeros_like(pred))


def test_gradient_is_finite_for_float32_maps() -> None:
    g = torch.Generator().manual_seed(0)
    pred = (0.5 + torch.rand(2, 1, 8, 8, generator=g)).requires_grad_()
    depth = 1 + 10 * torch.rand(2, 1, 16, 16, generator=g)
    gt = torch.where(torch.rand(2, 1, 16, 16, generator=g) < 0.5, depth, torch.zeros(2, 1, 16, 16))
    loss = silog_loss(pred, gt, 1e-3, 80)
    loss.backward()
    assert torch.isfinite(loss) and pred.grad is not None and torch.isfinite(pred.grad).all()
