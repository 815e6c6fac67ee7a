"""Nearest-neighbour fill baseline."""

from __future__ import annotations

import numpy as np

from depthforge.baselines import nearest_fill


def test_every_pixel_takes_its_nearest_sample() -> None:
    d = np.zeros((5, 9), np.float32)
    d[2, 1], d[2, 7] = 3.0, 8.0
    out = nearest_fill(d)
    assert out.dtype == np.float32 and out.shape == d.shape
    np.testing.assert_array_equal(out[:, :4], 3.0)
    np.testing.assert_array_equal(out[:, 5:], 8.0)
    assert d[0, 0] == 0  # input untouched


def test_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    d = np.where(rng.random((12, 15)) < 0.1, rng.uniform(1, 50, (12, 15)), 0).astype(np.float32)
    out = nearest_fill(d)
    pts = np.argwhere(d > 0)
    for r, c in np.ndindex(d.shape):
        dist = ((pts - (r, c)) ** 2).sum(1)
        # with ties any of the nearest samples is acceptable
        assert out[r, c] in d[tuple(pts[dist == dist.min()].T)]


def test_invalid_values_are_holes_and_empty_stays_empty() -> None:
    d = np.zeros((4, 4), np.float32)
    assert not nearest_fill(d).any()
    d[0, 0], d[3, 3], d[0, 3] = 5.0, np.nan, -2.0
    out = nearest_fill(d)
    np.testing.assert_array_equal(out, 5.0)
