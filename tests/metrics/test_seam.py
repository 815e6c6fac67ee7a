"""Tile-seam error: about 0 on seamless maps, large with per-tile offsets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from depthforge.errors import DataError
from depthforge.metrics import seam_error


def _ramp(h: int = 64, w: int = 96) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return 5.0 + 0.02 * y + 0.01 * x


def test_smooth_ramp_scores_zero() -> None:
    assert abs(seam_error(_ramp(), (4, 4))) < 1e-9
    smooth = 10 + np.sin(np.linspace(0, 3, 96))[None, :] * np.cos(np.linspace(0, 2, 64))[:, None]
    assert abs(seam_error(smooth, (4, 4))) < 0.05


def test_per_tile_offsets_score_high() -> None:
    depth = _ramp()
    offsets = np.random.default_rng(0).uniform(-0.5, 0.5, (4, 4))
    tiled = depth + np.kron(offsets, np.ones((16, 24)))
    score = seam_error(tiled, (4, 4))
    assert score > 10
    # by hand: one horizontal border of a 2x1 split, jump 1 + 0.02 across, 0.02 inside
    two = _ramp(8, 4)
    two[4:] += 1.0
    assert seam_error(two, (2, 1)) == pytest.approx((1.02 / 0.02) - 1)


def test_accepts_torch_batches_and_checks_inputs() -> None:
    depth = torch.from_numpy(_ramp()).float()[None, None].repeat(2, 1, 1, 1)
    assert abs(seam_error(depth, (2, 3))) < 1e-5
    assert seam_error(np.ones((8, 8)), (2, 2)) == 0.0
    with pytest.raises(DataError):
        seam_error(_ramp(8, 8), (4, 4))
    with pytest.raises(DataError):
        seam_error(_ramp(), (0, 2))
