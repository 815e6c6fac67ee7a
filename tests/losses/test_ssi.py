"""Scale-and-shift-invariant L1 loss (PatchRefiner ``ScaleAndShiftInvariantLoss``) against hand-worked values."""

from __future__ import annotations

import pytest
import torch

from depthforge.losses import scale_and_shift, ssi_loss


def _t(rows: list[list[float]]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64).view(1, 1, len(rows), len(rows[0]))


def test_exact_affine_relation_gives_zero_and_recovers_scale_and_shift() -> None:
    g = torch.Generator().manual_seed(0)
    pred = torch.rand(2, 1, 5, 6, generator=g, dtype=torch.float64) * 10 + 1
    scale = torch.tensor([2.0, 0.5], dtype=torch.float64)
    shift = torch.tensor([3.0, -1.0], dtype=torch.float64)
    target = scale.view(2, 1, 1, 1) * pred + shift.view(2, 1, 1, 1)
    s, t = scale_and_shift(pred, target, torch.ones_like(pred, dtype=torch.bool))
    assert torch.allclose(s, scale) and torch.allclose(t, shift)
    assert ssi_loss(pred, target).item() == pytest.approx(0.0, abs=1e-10)


def test_two_by_two_by_hand() -> None:
    # p = [1, 2, 3, 4], y = [2, 3, 5, 9]: a00 = 30, a01 = 10, a11 = 4, b0 = 59, b1 = 19, det = 20
    # s = (4*59 - 10*19)/20 = 2.3, t = (-10*59 + 30*19)/20 = -1
    # fitted [1.3, 3.6, 5.9, 8.2], residuals [-0.7, 0.6, 0.9, -0.8] -> mean |.| = 3.0 / 4
    pred, target = _t([[1, 2], [3, 4]]), _t([[2, 3], [5, 9]])
    s, t = scale_and_shift(pred, target)
    assert s.item() == pytest.approx(2.3) and t.item() == pytest.approx(-1.0)
    assert ssi_loss(pred, target).item() == pytest.approx(0.75)


def test_two_by_two_with_a_mask_by_hand() -> None:
    # last pixel masked out: p = [1, 2, 3], y = [2, 3, 5]: a00 = 14, a01 = 6, a11 = 3, b0 = 23, b1 = 10, det = 6
    # s = (3*23 - 6*10)/6 = 1.5, t = (-6*23 + 14*10)/6 = 1/3
    # fitted [11/6, 20/6, 29/6], residuals [-1/6, 2/6, -1/6] -> mean |.| = (4/6) / 3 = 2/9
    pred, target = _t([[1, 2], [3, 4]]), _t([[2, 3], [5, 9]])
    keep = torch.tensor([[True, True], [True, False]]).view(1, 1, 2, 2)
    s, t = scale_and_shift(pred, target, keep)
    assert s.item() == pytest.approx(1.5) and t.item() == pytest.approx(1 / 3)
    assert ssi_loss(pred, target, keep).item() == pytest.approx(2 / 9)


def test_batch_of_one_is_the_per_sample_maths_and_batches_pool_pixels() -> None:
    g = torch.Generator().manual_seed(1)
    pred = torch.rand(3, 1, 4, 5, generator=g, dtype=torch.float64) + 0.5
    target = torch.rand(3, 1, 4, 5, generator=g, dtype=torch.float64) * 5 + 1
    keep = torch.rand(3, 1, 4, 5, generator=g) > 0.3
    s_all, t_all = scale_and_shift(pred, target, keep)
    sums, counts = [], []
    for i in range(3):
        s_i, t_i = scale_and_shift(pred[i : i + 1], target[i : i + 1], keep[i : i + 1])
        assert s_i.shape == (1,)
        assert s_i.item() == pytest.approx(s_all[i].item()) and t_i.item() == pytest.approx(t_all[i].item())
        n_i = int(keep[i].sum())
        sums.append(ssi_loss(pred[i : i + 1], target[i : i + 1], keep[i : i + 1]).item() * n_i)
        counts.append(n_i)
    assert ssi_loss(pred, target, keep).item() == pytest.approx(sum(sums) / sum(counts))


def test_empty_mask_gives_a_zero_connected_to_the_graph() -> None:
    pred = torch.rand(2, 1, 3, 3, requires_grad=True)
    target = torch.rand(2, 1, 3, 3) + 1
    loss = ssi_loss(pred, target, torch.zeros(2, 1, 3, 3, dtype=torch.bool))
    assert loss.dim() == 0 and loss.item() == 0.0 and loss.grad_fn is not None
    loss.backward()
    assert pred.grad is not None and torch.equal(pred.grad, torch.zeros_like(pred))


def test_singular_system_gives_zero_scale_and_shift() -> None:
    # a constant prediction: det = 4 * (4 * 2^2) - (4 * 2)^2 = 0, so s = t = 0 and the loss is mean |y|
    pred = torch.full((1, 1, 2, 2), 2.0, dtype=torch.float64, requires_grad=True)
    target = _t([[1, 2], [3, 6]])
    s, t = scale_and_shift(pred, target)
    assert s.item() == 0.0 and t.item() == 0.0
    loss = ssi_loss(pred, target)
    assert loss.item() == pytest.approx(3.0)
    loss.backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all()


def test_gradient_flows_through_the_solve() -> None:
    g = torch.Generator().manual_seed(2)
    pred = (torch.rand(2, 1, 3, 3, generator=g, dtype=torch.float64) + 0.5).requires_grad_()
    target = torch.rand(2, 1, 3, 3, generator=g, dtype=torch.float64) * 4 + 1
    keep = torch.ones(2, 1, 3, 3, dtype=torch.bool)
    keep[0, 0, 0, 0] = False
    assert torch.autograd.gradcheck(lambda p: ssi_loss(p, target, keep), (pred,))
    # the gradient differs from the one with (s, t) held fixed: they are not detached
    s, t = scale_and_shift(pred, target, keep)
    frozen = ((s.detach().view(-1, 1, 1, 1) * pred + t.detach().view(-1, 1, 1, 1) - target)[keep]).abs().mean()
    (full,) = torch.autograd.grad(ssi_loss(pred, target, keep), pred)
    (fixed,) = torch.autograd.grad(frozen, pred)
    assert not torch.allclose(full, fixed)


def test_gradient_through_the_resize() -> None:
    g = torch.Generator().manual_seed(3)
    pred = (torch.rand(1, 1, 2, 3, generator=g, dtype=torch.float64) + 0.5).requires_grad_()
    target = torch.rand(1, 1, 4, 5, generator=g, dtype=torch.float64) + 1
    assert torch.autograd.gradcheck(lambda p: ssi_loss(p, target), (pred,))


def test_prediction_is_resized_to_the_pseudo_label() -> None:
    # align_corners=True turns the row [1, 4] into [1, 2, 3, 4] exactly; y = 2 * that + 1 is fitted exactly
    ramp = torch.tensor([1.0, 4.0], dtype=torch.float64).view(1, 1, 1, 2)
    target = torch.tensor([3.0, 5.0, 7.0, 9.0], dtype=torch.float64).view(1, 1, 1, 4)
    assert ssi_loss(ramp, target).item() == pytest.approx(0.0, abs=1e-10)
    # same result as resizing by hand first
    g = torch.Generator().manual_seed(4)
    small = torch.rand(2, 1, 3, 4, generator=g, dtype=torch.float64)
    big_target = torch.rand(2, 1, 6, 8, generator=g, dtype=torch.float64) + 1
    resized = torch.nn.functional.interpolate(small, size=(6, 8), mode="bilinear", align_corners=True)
    assert ssi_loss(small, big_target).item() == pytest.approx(ssi_loss(resized, big_target).item())


def test_rejects_non_image_tensors() -> None:
    with pytest.raises(ValueError):
        ssi_loss(torch.ones(2, 2), torch.ones(2, 2))
