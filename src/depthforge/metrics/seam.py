"""Tile-seam consistency of a tiled depth prediction.

:func:`seam_error` compares the depth jumps across the borders of a regular tiling with the jumps between
neighbouring pixels one step inside the tiles on either side of the same borders. A seamless map (a smooth
ramp, or any map whose tiles agree at their borders) scores about 0; per-tile offsets score high.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from depthforge.errors import DataError
from depthforge.metrics._arrays import ArrayLike, as_batch

__all__ = ["seam_error"]


def _borders(size: int, tiles: int) -> list[int]:
    step = size // tiles
    return [k * step for k in range(1, tiles)]


def seam_error(depth: ArrayLike, tiling: Sequence[int]) -> float:
    """Mean absolute jump across tile borders relative to the jump one step inside the tiles, minus 1.

    ``depth``: (H, W), (1, H, W) or (B, 1, H, W), numpy or torch; ``tiling``: tiles per column and per row
    (``patch_split_num``); borders lie at multiples of ``H // rows`` and ``W // cols``. For a border between
    pixels ``b - 1`` and ``b`` the jump is ``|d[b] - d[b - 1]|``; the inside jumps are
    ``|d[b - 1] - d[b - 2]|`` and ``|d[b + 1] - d[b]|``. The score is
    ``mean(border jumps) / mean(inside jumps) - 1`` over every border pixel of every image (non-finite
    pixels are skipped); 0 when both means are 0, ``inf`` when only the inside jumps vanish.
    """
    d = as_batch(depth, "depth").astype(np.float64)
    if len(tiling) != 2 or min(int(t) for t in tiling) < 1:
        raise DataError("tiling", f"expected two positive tile counts (rows, cols), got {tuple(tiling)}")
    rows, cols = int(tiling[0]), int(tiling[1])
    _, height, width = d.shape
    if (rows > 1 and height // rows < 3) or (cols > 1 and width // cols < 3):
        raise DataError(
            "depth", f"tiles of a {height}x{width} map split {rows}x{cols} are too small (< 3 pixels)"
        )
    border: list[np.ndarray] = []
    inside: list[np.ndarray] = []
    for b in _borders(height, rows):
        border.append(np.abs(d[:, b] - d[:, b - 1]))
        inside.append(np.abs(d[:, b - 1] - d[:, b - 2]))
        inside.append(np.abs(d[:, b + 1] - d[:, b]))
    for b in _borders(width, cols):
        border.append(np.abs(d[:, :, b] - d[:, :, b - 1]))
        inside.append(np.abs(d[:, :, b - 1] - d[:, :, b - 2]))
        inside.append(np.abs(d[:, :, b + 1] - d[:, :, b]))
    if not border:
        return 0.0
    across = np.concatenate([a.ravel() for a in border])
    within = np.concatenate([a.ravel() for a in inside])
    across = across[np.isfinite(across)]
    within = within[np.isfinite(within)]
    mean_across = float(across.mean()) if across.size else 0.0
    mean_within = float(within.mean()) if within.size else 0.0
    if mean_within == 0.0:
        return 0.0 if mean_across == 0.0 else float("inf")
    return mean_across / mean_within - 1.0
