"""depthpro-boundary: scale-invariant boundary F1."""

from __future__ import annotations

import numpy as np
import pytest

from depthforge.metrics import boundary_f1


@pytest.fixture()
def scene() -> np.ndarray:
    d = np.full((30, 40), 10.0)
    d[8:20, 10:25] = 4.0
    d[:, 32:] = 25.0
    return d


def test_identical_maps_score_one(scene):
    assert boundary_f1(scene, scene)["boundary_f1"] == pytest.approx(1.0)


def test_scale_invariance(scene):
    shifted = np.roll(scene, 2, axis=1)
    a = boundary_f1(shifted, scene)
    b = boundary_f1(shifted * 3, scene)
    assert a == b
    assert 0 < a["boundary_f1"] < 1


def test_flat_prediction_scores_zero(scene):
    assert boundary_f1(np.full_like(scene, 7.0), scene)["boundary_f1"] == 0.0


def test_small_jumps_count_only_above_threshold(scene):
    # a 1.1 ratio is a boundary for t < 1.1 only; only one of the four directions has relations and the
    # reference averages the per-direction ratios with empty directions counting 0, hence the 0.25
    gt = np.ones((10, 10))
    gt[:, 5:] = 1.1
    f = boundary_f1(gt, gt)["boundary_f1"]
    t = np.linspace(1.05, 1.25, 10)
    assert f == pytest.approx(0.25 * t[t < 1.1].sum() / t.sum())


def test_mask_drops_pairs_touching_invalid_gt(scene):
    pred = scene.copy()
    pred[:, 32:] = 10.0  # misses the right-hand boundary
    mask = np.ones(scene.shape, bool)
    mask[:, 30:] = False
    assert boundary_f1(pred, scene)["boundary_f1"] < 1
    assert boundary_f1(pred, scene, mask=mask)["boundary_f1"] == pytest.approx(1.0)
