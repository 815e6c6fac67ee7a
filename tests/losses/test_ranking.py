"""Edge-guided ranking loss (PatchRefiner ``EdgeguidedRankingLoss``): pair term by hand, sampler geometry."""

from __future__ import annotations

import math

import kornia
import pytest
import torch

from depthforge.losses import edge_ranking_loss
from depthforge.losses.ranking import edge_guided_pairs, pair_loss, random_pairs
from depthforge.metrics.edges import extract_edges


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _scene(batch: int = 1, height: int = 48, width: int = 64) -> torch.Tensor:
    """A step in depth (5 m -> 15 m at column 30) on a gentle vertical ramp: clear Canny edges."""
    rows = torch.arange(height, dtype=torch.float32).view(-1, 1)
    cols = torch.arange(width).view(1, -1)
    depth = 5.0 + 10.0 * (cols >= 30).float() + 0.05 * rows
    return depth.view(1, 1, height, width).repeat(batch, 1, 1, 1)


def test_pair_loss_by_hand() -> None:
    # pair 1: r = 10 / 10.1 ~ 0.990, inside (1/1.03, 1.03) -> equal, (2 - 1)^2 = 1
    # pair 2: r = 2 >= 1.03 -> label +1, log(1 + exp(+1 * (1 - 3))) = log(1 + e^-2)
    # pair 3: r = 0.5 <= 1/1.03 -> label -1, log(1 + exp(-1 * (2 - 1))) = log(1 + e^-1)
    z_a, z_b = torch.tensor([2.0, 3.0, 1.0]), torch.tensor([1.0, 1.0, 2.0])
    y_a, y_b = torch.tensor([10.0, 20.0, 5.0]), torch.tensor([10.1, 10.0, 10.0])
    ranked = math.log(1 + math.exp(-2)) + math.log(1 + math.exp(-1))
    assert pair_loss(z_a, z_b, y_a, y_b, 0.03, 1.0).item() == pytest.approx(1 / 3 + ranked / 3, rel=1e-6)
    assert pair_loss(z_a, z_b, y_a, y_b, 0.03, 0.5).item() == pytest.approx(0.5 / 3 + ranked / 3, rel=1e-6)


def test_pair_loss_is_stable_where_the_naive_form_overflows() -> None:
    # l * (z_b - z_a) = 200: log(1 + exp(200)) overflows in float32; the stable value is 200
    loss = pair_loss(torch.tensor([0.0]), torch.tensor([200.0]), torch.tensor([20.0]), torch.tensor([10.0]), 0.03, 1.0)
    assert loss.item() == pytest.approx(200.0)


def test_sampler_offsets_along_the_direction() -> None:
    # one anchor at (2, 40) and angle 0: every point stays on row 2, a and b at -d, c and d at +d, d in 2..30
    anchors = torch.zeros(5, 81, dtype=torch.bool)
    anchors[2, 40] = True
    theta = torch.zeros(5, 81)
    for seed in (0, 1, 2, 3):  # both sides of the 90 degree coin give the same offsets for angle 0
        points_a, points_b = edge_guided_pairs(anchors, theta, 2000, _gen(seed))
        n = 2000
        assert points_a.shape == points_b.shape == (2, 3 * n)
        assert (points_a[0] == 2).all() and (points_b[0] == 2).all()
        a, b, c = points_a[1, :n], points_a[1, n : 2 * n], points_a[1, 2 * n :]
        d = points_b[1, 2 * n :]
        assert torch.equal(points_b[1, :n], b) and torch.equal(points_b[1, n : 2 * n], c)  # (a,b), (b,c), (c,d)
        assert set((40 - a).tolist()) == set(range(2, 31)) and set((40 - b).tolist()) == set(range(2, 31))
        assert set((c - 40).tolist()) == set(range(2, 31)) and set((d - 40).tolist()) == set(range(2, 31))


def test_sampler_drops_quadruples_that_leave_the_image() -> None:
    g = _gen(5)
    anchors = torch.rand(40, 50, generator=g) > 0.7
    theta = torch.rand(40, 50, generator=g) * 6.0 - 3.0
    points_a, points_b = edge_guided_pairs(anchors, theta, 3000, _gen(6))
    pairs = points_a.shape[1]
    assert pairs % 3 == 0 and 0 < pairs < 3 * 3000
    for points in (points_a, points_b):
        assert (points[0] >= 0).all() and (points[0] < 40).all()
        assert (points[1] >= 0).all() and (points[1] < 50).all()


def test_sampler_without_anchors_is_empty() -> None:
    points_a, points_b = edge_guided_pairs(torch.zeros(6, 6, dtype=torch.bool), torch.zeros(6, 6), 10, _gen(0))
    assert points_a.shape == points_b.shape == (2, 0)


def test_random_pairs_come_from_valid_pixels() -> None:
    valid = torch.zeros(4, 5, dtype=torch.bool)
    valid[1, 1:4] = True
    first, second = random_pairs(valid, 100, _gen(0))
    assert first.numel() == second.numel() == 3  # at most the valid count
    assert valid.view(-1)[first].all() and valid.view(-1)[second].all()
    single = torch.zeros(4, 5, dtype=torch.bool)
    single[2, 2] = True
    assert random_pairs(single, 10, _gen(0))[0].numel() == 0  # the reference's caught TypeError


def test_ordered_prediction_beats_a_reversed_one() -> None:
    pseudo = _scene(2)
    ordered = edge_ranking_loss(pseudo * 0.3, pseudo, pseudo, range_ratio=1.0, generator=_gen(7))[0]
    reversed_ = edge_ranking_loss(30.0 / pseudo, pseudo, pseudo, range_ratio=1.0, generator=_gen(7))[0]
    assert ordered.item() < reversed_.item()


def test_seeded_generator_reproduces() -> None:
    pseudo = _scene(2)
    pred = pseudo + torch.rand(pseudo.shape, generator=_gen(8))
    first = edge_ranking_loss(pred, pseudo, pseudo, generator=_gen(9))
    second = edge_ranking_loss(pred, pseudo, pseudo, generator=_gen(9))
    assert first[0].item() == second[0].item() and first[1] == second[1]


def test_batch_of_one_and_sample_num() -> None:
    pseudo = _scene(1)
    pred = (pseudo * 0.5).requires_grad_()
    loss, sample_num = edge_ranking_loss(pred, pseudo, pseudo, point_pairs=500, generator=_gen(10))
    assert loss.dim() == 0 and math.isfinite(loss.item()) and loss.dtype == pred.dtype
    loss.backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0
    # sample_num = edge pairs + as many random pairs (the valid pixels far outnumber them); the same seed
    # replays the same draws for the edge pairs
    anchors = torch.from_numpy(extract_edges(pseudo[0, 0].numpy(), preprocess="log"))
    magnitude = kornia.filters.sobel(pseudo, normalized=True, eps=1e-6)[0, 0]
    edge_pairs = edge_guided_pairs(anchors, magnitude, 500, _gen(10))[0].shape[1]
    assert edge_pairs > 0
    assert sample_num == pytest.approx(2 * edge_pairs)


def test_range_ratio_divides_the_prediction() -> None:
    pseudo = _scene(2)
    pred = pseudo * 0.7 + torch.rand(pseudo.shape, generator=_gen(11))
    default = edge_ranking_loss(pred, pseudo, pseudo, generator=_gen(12))
    by_hand = edge_ranking_loss(pred / (250 / 80), pseudo, pseudo, range_ratio=1.0, generator=_gen(12))
    assert default[0].item() == pytest.approx(by_hand[0].item(), rel=1e-6) and default[1] == by_hand[1]


def test_true_angle_option_runs() -> None:
    pseudo = _scene(2)
    loss, sample_num = edge_ranking_loss(pseudo * 0.5, pseudo, pseudo, true_angle=True, generator=_gen(13))
    assert math.isfinite(loss.item()) and sample_num > 0


def test_labels_and_ground_truth_are_resized_to_the_prediction() -> None:
    pseudo = _scene(1, 96, 128)
    pred = torch.nn.functional.interpolate(pseudo, size=(48, 64), mode="bilinear", align_corners=True)
    loss, sample_num = edge_ranking_loss(pred * 0.5, pseudo, pseudo, generator=_gen(14))
    assert math.isfinite(loss.item()) and sample_num > 0


def test_pseudo_label_without_edges_adds_nothing() -> None:
    # as the reference: an image without edge anchors is skipped (no random pairs either)
    pseudo = torch.full((2, 1, 32, 32), 7.0)
    pred = torch.rand(2, 1, 32, 32, requires_grad=True)
    loss, sample_num = edge_ranking_loss(pred, pseudo, pseudo, generator=_gen(15))
    assert loss.item() == 0.0 and sample_num == 0.0 and loss.grad_fn is not None
    loss.backward()
    assert pred.grad is not None and torch.equal(pred.grad, torch.zeros_like(pred))


def test_no_valid_pixel_gives_a_zero_connected_to_the_graph() -> None:
    pseudo = _scene(2)
    pred = (pseudo * 0.5).requires_grad_()
    loss, sample_num = edge_ranking_loss(pred, pseudo, torch.zeros_like(pseudo), generator=_gen(16))
    assert loss.item() == 0.0 and sample_num == 0.0
    loss.backward()
    assert pred.grad is not None and torch.equal(pred.grad, torch.zeros_like(pred))


def test_direction_map_reference_magnitude_and_true_angle() -> None:
    from depthforge.losses.ranking import _direction_map

    # depth growing down the rows by 1 per pixel: normalised Sobel gives gx = 0, gy = 1 inside the image
    ramp = torch.arange(8, dtype=torch.float64).view(1, 1, 8, 1).repeat(1, 1, 1, 8) + 1.0
    magnitude = _direction_map(ramp, true_angle=False)[0, 0, 2:-2, 2:-2]
    assert torch.allclose(magnitude, torch.full_like(magnitude, math.sqrt(1 + 1e-6)))
    angle = _direction_map(ramp, true_angle=True)[0, 0, 2:-2, 2:-2]
    assert torch.allclose(angle, torch.full_like(angle, math.pi / 2))
