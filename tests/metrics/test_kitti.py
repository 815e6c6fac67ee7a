"""KITTI completion metrics: D1 golden values, devkit protocol and the devkit hole filling."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from depthforge.errors import DataError
from depthforge.metrics import devkit_fill, kitti_completion
from depthforge.metrics.kitti import KITTI_KEYS

DELTAS = ("delta1", "delta2", "delta3")


@pytest.fixture(scope="module")
def d1(load_case):
    arrays, meta = load_case("metrics_kitti_result")
    return arrays["pred_0"], arrays["gt_0"], meta["per_image"][0]


def test_penet_matches_d1_golden(d1):
    pred, gt, ref = d1
    out = kitti_completion(pred, gt, protocol="penet")
    for k in KITTI_KEYS:
        if k in DELTAS:
            assert out[k] == ref[k], k
        else:
            assert out[k] == pytest.approx(ref[k], rel=1e-5), k
    assert out["n_valid"] == 6269 - 17
    assert out["n_nonpositive"] == 0 and out["n_nonfinite"] == 0


def test_penet_accepts_torch_and_does_not_mutate(d1):
    pred, gt, ref = d1
    before = pred.copy()
    out = kitti_completion(torch.from_numpy(pred), torch.from_numpy(gt))
    assert out["rmse"] == pytest.approx(ref["rmse"], rel=1e-5)
    np.testing.assert_array_equal(pred, before)


def test_devkit_equals_penet_when_no_gt_below_threshold(d1):
    # With the <= 0.1 m GT pixels removed and a dense positive prediction, the two protocols score the
    # same pixels with the same formulas, so the devkit path must reproduce the D1 golden values.
    pred, gt, ref = d1
    gt = gt.copy()
    gt[gt <= 0.1] = 0
    out = kitti_completion(pred, gt, protocol="devkit")
    for k in KITTI_KEYS:
        assert out[k] == pytest.approx(ref[k], rel=1e-5), k
    assert out["devkit_rmse"] == pytest.approx(ref["rmse"] / 1e3, rel=1e-5)
    assert out["devkit_irmse"] == pytest.approx(ref["irmse"] / 1e3, rel=1e-5)
    assert out["devkit_silog"] == pytest.approx(ref["silog"] / 100, rel=1e-5)


def test_devkit_scores_gt_below_penet_threshold(d1):
    pred, gt, _ = d1
    assert kitti_completion(pred, gt, "devkit")["n_valid"] == 6269
    assert kitti_completion(pred, gt, "penet")["n_valid"] == 6252


def test_batch_is_plain_mean_of_images(d1):
    pred, gt, _ = d1
    p2 = np.concatenate([pred, pred * 1.1])
    g2 = np.concatenate([gt, gt])
    a = kitti_completion(pred, gt)
    b = kitti_completion(pred * 1.1, gt)
    both = kitti_completion(p2, g2)
    assert both["mae"] == pytest.approx((a["mae"] + b["mae"]) / 2, rel=1e-6)


def test_counts_nonpositive_and_nonfinite():
    gt = np.full((4, 5), 10.0, np.float32)
    pred = np.full((4, 5), 10.0, np.float32)
    pred[0, 0], pred[0, 1], pred[1, 1], pred[2, 2] = 0, -3, np.nan, np.inf
    out = kitti_completion(pred, gt, "penet")
    assert out["n_nonpositive"] == 2 and out["n_nonfinite"] == 2


def test_tiny_prediction_gives_inf_irmse_without_a_warning():
    # 1 / (1e-3 * 1e-30) squared overflows float32, as in the reference: the metric is inf, silently
    gt = np.full((2, 3), 10.0, np.float32)
    pred = np.full((2, 3), 10.0, np.float32)
    pred[0, 0] = 1e-30
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = kitti_completion(pred, gt, "penet")
    assert out["irmse"] == np.inf and np.isfinite(out["imae"]) and out["imae"] > 1e30


def test_size_mismatch_is_refused():
    with pytest.raises(DataError, match="never resize"):
        kitti_completion(np.ones((4, 5)), np.ones((4, 6)))
    with pytest.raises(DataError, match="protocol"):
        kitti_completion(np.ones((4, 5)), np.ones((4, 5)), protocol="foo")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ([0, 5, 0, 0, 3, 0], [5, 5, 3, 3, 3, 3]),   # interior run -> min, ends copy
        ([2, 0, 7, 0, 0, 0], [2, 2, 7, 7, 7, 7]),   # run touching the right border -> extrapolated
        ([0, 0, 0, 0, 0, 4], [4, 4, 4, 4, 4, 4]),   # single valid pixel at the border
        ([1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]),   # already dense
        ([9, 0, 0, 0, 0, 1], [9, 1, 1, 1, 1, 1]),
    ],
)
def test_devkit_fill_rows(row, expected):
    out = devkit_fill(np.array([row], np.float32))
    np.testing.assert_array_equal(out[0], np.array(expected, np.float32))


def test_devkit_fill_columns_and_empty_rows():
    d = np.zeros((5, 4), np.float32)
    d[1] = [0, 2, 0, 6]
    d[3] = [1, 0, 0, 0]
    out = devkit_fill(d)
    # rows with data: [2, 2, 2, 6] and [1, 1, 1, 1]
    np.testing.assert_array_equal(out[1], [2, 2, 2, 6])
    np.testing.assert_array_equal(out[3], [1, 1, 1, 1])
    np.testing.assert_array_equal(out[0], out[1])   # top rows copy the first valid row
    np.testing.assert_array_equal(out[4], out[3])   # bottom rows copy the last valid row
    np.testing.assert_array_equal(out[2], [-1, -1, -1, -1])  # the devkit never fills between valid rows


def test_devkit_fill_all_invalid_and_nan():
    assert (devkit_fill(np.zeros((3, 3), np.float32)) == -1).all()
    d = np.array([[np.nan, 4, -2, 8]], np.float32)
    np.testing.assert_array_equal(devkit_fill(d)[0], [4, 4, 4, 8])


def test_devkit_fill_matches_loop_reference_on_random_maps():
    rng = np.random.default_rng(0)

    def loop_fill(d: np.ndarray) -> np.ndarray:  # straightforward transcription used only as an oracle
        d = np.where(d > 0, d, -1).astype(np.float32)
        h, w = d.shape
        for v in range(h):
            count = 0
            for u in range(w):
                if d[v, u] >= 0:
                    if count and u - count > 0:
                        d[v, u - count:u] = min(d[v, u - count - 1], d[v, u])
                    count = 0
                else:
                    count += 1
            idx = np.flatnonzero(d[v] >= 0)
            if idx.size:
                d[v, :idx[0]] = d[v, idx[0]]
                d[v, idx[-1] + 1:] = d[v, idx[-1]]
        for u in range(w):
            idx = np.flatnonzero(d[:, u] >= 0)
            if idx.size:
                d[:idx[0], u] = d[idx[0], u]
                d[idx[-1] + 1:, u] = d[idx[-1], u]
        return d

    for density in (0.02, 0.3, 0.9):
        d = rng.uniform(1, 80, (17, 23)).astype(np.float32)
        d[rng.random(d.shape) > density] = 0
        d[5] = 0
        np.testing.assert_array_equal(devkit_fill(d), loop_fill(d))


def test_devkit_fill_is_used_before_scoring():
    gt = np.full((2, 4), 10.0, np.float32)
    pred = np.array([[10, 0, 0, 10], [0, 0, 0, 0]], np.float32)
    out = kitti_completion(pred, gt, "devkit")
    assert out["rmse"] == pytest.approx(0.0, abs=1e-9)
    assert out["n_nonpositive"] == 6
