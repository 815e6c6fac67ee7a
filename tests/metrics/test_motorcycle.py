"""Real-data check on the Middlebury Motorcycle pair shipped inside scikit-image (no download)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from skimage import data

from depthforge.metrics import boundary_f1, boundary_metrics, extract_edges

# Calibration from the ``stereo_motorcycle`` docstring (Middlebury 2014, downsampled x4).
FOCAL_PX, DOFFS_PX, BASELINE_MM = 994.978, 31.086, 193.001


@pytest.fixture(scope="module")
def motorcycle() -> tuple[np.ndarray, np.ndarray]:
    """Metric GT depth (m, 0 = missing) and its valid mask."""
    _, _, disp = data.stereo_motorcycle()
    disp = disp.astype(np.float64)
    valid = np.isfinite(disp)  # missing disparities are stored as inf (the docstring says NaN)
    depth = np.zeros_like(disp)
    depth[valid] = BASELINE_MM * FOCAL_PX / (disp[valid] + DOFFS_PX) / 1000.0
    return depth.astype(np.float32), valid


def test_calibrated_depth_is_plausible(motorcycle):
    depth, valid = motorcycle
    assert depth.shape == (500, 741) and valid.mean() > 0.8
    assert 0.5 < np.median(depth[valid]) < 5.0  # a table-top scene a couple of metres away


def test_boundary_metrics_perfect_on_itself_and_worse_when_blurred(motorcycle):
    depth, valid = motorcycle
    gt_edges = extract_edges(depth)
    assert gt_edges.sum() > 1000
    same = boundary_metrics(depth, gt_edges, valid)
    assert same["EdgeAcc"] == 0.0 and same["EdgeComp"] == 0.0 and same["f1_score"] == 1.0
    # fill holes from the nearest valid pixel so the blur does not mix in zeros, then blur
    idx = ndimage.distance_transform_edt(~valid, return_distances=False, return_indices=True)
    blurred = ndimage.gaussian_filter(depth[tuple(idx)], sigma=4)
    worse = boundary_metrics(blurred, gt_edges, valid)
    assert worse["EdgeAcc"] > same["EdgeAcc"] + 0.3
    assert worse["EdgeComp"] > same["EdgeComp"] + 0.3
    assert worse["f1_score"] < 0.9
    full = np.where(valid, depth, depth[tuple(idx)])
    assert boundary_f1(blurred, full, mask=valid)["boundary_f1"] < boundary_f1(full, full, mask=valid)["boundary_f1"]
