"""Monocular metrics (mono-zoe): D2 golden values, clamping, resizing, SEE pieces."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from depthforge.metrics import MONO_KEYS, get_boundaries, monocular, soft_edge_error
from depthforge.metrics.mono import crop_mask


def _check(out: dict, ref: dict) -> None:
    for k in MONO_KEYS:
        if k in ("a1", "a2", "a3"):
            assert out[k] == ref[k], k
        else:
            assert out[k] == pytest.approx(ref[k], rel=1e-5), k


def test_matches_d2_golden_and_keeps_input(load_case):
    arrays, meta = load_case("metrics_compute_metrics")
    pred = torch.from_numpy(arrays["pred_0"].copy())
    before = pred.clone()
    out = monocular(pred, arrays["gt_0"], 0.001, 80, boundary=arrays["boundary_0"])
    _check(out, meta["cases"][0]["metrics"])
    assert torch.equal(pred, before) or torch.allclose(pred, before, equal_nan=True)
    assert list(out) == list(MONO_KEYS)


def test_boundary_of_d2_is_get_boundaries_of_disparity(load_case):
    arrays, _ = load_case("metrics_compute_metrics")
    gt = arrays["gt_0"][0, 0]
    disp = np.where(gt > 0, 400.0 / np.where(gt > 0, gt, 1), 0).astype(np.float32)
    np.testing.assert_array_equal(get_boundaries(disp, th=1), arrays["boundary_0"][0, 0])


def test_clamp_rules():
    gt = np.full((2, 3), 5.0, np.float32)
    pred = np.array([[np.nan, np.inf, -np.inf], [100.0, 1e-9, 5.0]], np.float32)
    out = monocular(pred, gt, 1.0, 10.0)
    # clamped prediction: [1, 10, 1, 10, 1, 5]
    p = np.array([1, 10, 1, 10, 1, 5], np.float64)
    assert out["rmse"] == pytest.approx(np.sqrt(np.mean((5 - p) ** 2)), rel=1e-6)
    assert out["a1"] == pytest.approx(1 / 6)


def test_prediction_is_resized_bilinear_align_corners_false():
    gt = np.linspace(1, 9, 8 * 12, dtype=np.float32).reshape(8, 12)
    small = torch.from_numpy(gt)[None, None]
    small = torch.nn.functional.interpolate(small, size=(4, 6), mode="bilinear", align_corners=False)
    up = torch.nn.functional.interpolate(small, size=(8, 12), mode="bilinear", align_corners=False)
    out = monocular(small, gt, 1e-3, 80)
    ref = monocular(up, gt, 1e-3, 80)
    assert out == ref


def test_strict_valid_range_and_nan_batch_mean():
    gt = np.array([[1e-3, 0.5, 80.0, 2.0]], np.float32)
    pred = np.array([[9.0, 0.5, 9.0, 2.0]], np.float32)
    out = monocular(pred, gt, 1e-3, 80)
    assert out["rmse"] == 0.0  # only the two in-range pixels count
    empty = np.zeros((1, 4), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an image without valid pixels is NaN, quietly
        both = monocular(np.stack([pred, pred])[:, None], np.stack([gt, empty])[:, None], 1e-3, 80)
        assert np.isnan(monocular(pred, empty, 1e-3, 80)["rmse"])
    assert both["rmse"] == 0.0  # the NaN of the empty image is skipped (np.nanmean)


def test_get_boundaries_marks_both_sides_of_a_jump():
    x = np.zeros((3, 4), np.float32)
    x[:, 2:] = 5
    b = get_boundaries(x, th=1)
    np.testing.assert_array_equal(b, np.array([[0, 1, 1, 0]] * 3, np.float32))
    assert get_boundaries(x, th=5).sum() == 0
    assert get_boundaries(x, th=1, dilation=3).sum() == 12


def test_soft_edge_error_takes_the_best_neighbour():
    gt = np.zeros((5, 5), np.float32)
    gt[:, 3:] = 10
    pred = np.zeros((5, 5), np.float32)
    pred[:, 2:] = 10  # edge one pixel off: SEE forgives it
    assert soft_edge_error(pred, gt).max() == 0
    pred[:, 1:] = 10  # two pixels off: not forgiven
    assert soft_edge_error(pred, gt)[2, 1] == 10
    # zero fill at the border: a constant 4 map is 0 inside but compares with 0 outside
    assert soft_edge_error(np.zeros((3, 3)), np.full((3, 3), 4.0))[0, 0] == 0


def test_crops():
    m = crop_mask((352, 1216), garg_crop=True)
    assert m[int(0.40810811 * 352), int(0.03594771 * 1216)] and not m[0, 0]
    assert crop_mask((480, 640), eigen_crop=True, eigen_kind="nyu").sum() == (471 - 45) * (601 - 41)
    gt = np.full((352, 1216), 5.0, np.float32)
    pred = gt.copy()
    pred[:100] = 50  # outside the Garg crop rows
    assert monocular(pred, gt, 1e-3, 80, garg_crop=True)["rmse"] == 0
