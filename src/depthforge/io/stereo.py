"""The stereo relation between depth and disparity: ``depth = factor / disparity``, factor = focal x baseline.

``factor`` is the focal length in pixels times the baseline in metres, so depth is in metres and
disparity in pixels.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def disparity_to_depth(disparity: ArrayLike, factor: float, invalid: float | None = None) -> np.ndarray:
    """float32 ``factor / disparity``, computed in float32.

    Disparity 0 gives inf, unless ``invalid`` is given: then every non-finite result becomes ``invalid``.
    """
    disp = np.asarray(disparity, dtype=np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = (factor / disp).astype(np.float32)
    if invalid is not None:
        depth = np.nan_to_num(depth, nan=invalid, posinf=invalid, neginf=invalid)
    return depth


def depth_to_disparity(depth: ArrayLike, factor: float) -> np.ndarray:
    """float64 ``factor / depth`` where depth is finite, 0 elsewhere (so infinitely far sky -> 0)."""
    d = np.asarray(depth).astype(np.float64)
    with np.errstate(divide="ignore"):
        disp = factor / d
    return np.where(np.isfinite(d), disp, 0.0)
