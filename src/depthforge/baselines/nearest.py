"""Nearest-neighbour depth fill: each pixel takes its closest valid measurement (a second simple baseline)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage

from depthforge.errors import DataError


def nearest_fill(depth: ArrayLike, min_depth: float = 0.0) -> np.ndarray:
    """Fill every empty pixel with the value of the nearest valid pixel (Euclidean distance in pixels).

    Args:
        depth: (H, W) sparse depth, 0 (or any value ``<= min_depth``, or non-finite) = empty. Not modified.
        min_depth: values at or below it count as empty.

    Returns:
        New dense float32 (H, W) map. An input without any valid pixel gives an all-zero map. Ties between
        equally distant points are broken by ``scipy.ndimage.distance_transform_edt``'s scan order.
    """
    d = np.asarray(depth, dtype=np.float32)
    if d.ndim != 2:
        raise DataError(None, f"depth map must be 2-D (H, W), got shape {d.shape}")
    valid = np.isfinite(d) & (d > min_depth)
    if not valid.any():
        return np.zeros(d.shape, np.float32)
    # The EDT measures the distance to the nearest zero of its input: pass the *empty* mask (valid = 0).
    rows, cols = ndimage.distance_transform_edt(~valid, return_distances=False, return_indices=True)
    return d[rows, cols]
