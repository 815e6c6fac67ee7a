"""Colourised depth and error images as uint8 RGB arrays (vectorised lookup-table indexing)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from depthforge.errors import DataError

Color = tuple[int, int, int]
_LUT_SIZE = 256


@lru_cache(maxsize=32)
def colormap_lut(cmap: str) -> np.ndarray:
    """(256, 3) uint8 RGB lookup table of a matplotlib colormap (``matplotlib.colormaps[cmap]``)."""
    import matplotlib  # deferred: importing matplotlib costs ~0.3 s and most callers never draw

    try:
        colormap = matplotlib.colormaps[cmap]
    except KeyError:
        raise ValueError(f"unknown matplotlib colormap {cmap!r}") from None
    rgba = colormap(np.linspace(0.0, 1.0, _LUT_SIZE))
    lut = np.rint(rgba[:, :3] * 255.0).astype(np.uint8)
    lut.setflags(write=False)  # cached and shared between callers
    return lut


def as_depth_2d(depth: ArrayLike, name: str = "depth") -> np.ndarray:
    """A depth-like input as a float32 (H, W) array; accepts (1, H, W), (H, W, 1) and CPU tensors."""
    arr = np.asarray(depth, dtype=np.float32)
    if arr.ndim == 3 and 1 in (arr.shape[0], arr.shape[-1]):
        arr = arr.reshape(arr.shape[1:] if arr.shape[0] == 1 else arr.shape[:-1])
    if arr.ndim != 2:
        raise DataError(None, f"{name} must be (H, W), (1, H, W) or (H, W, 1); got shape {arr.shape}")
    return arr


def apply_colormap(
    values: np.ndarray,
    valid: np.ndarray,
    vmin: float,
    vmax: float,
    cmap: str,
    invalid_color: Color = (0, 0, 0),
) -> np.ndarray:
    """Map ``values`` from ``[vmin, vmax]`` (clipped) through ``cmap``; ``~valid`` -> ``invalid_color``."""
    lut = colormap_lut(cmap)
    span = vmax - vmin
    # A constant image (span 0) maps to the low end of the colormap.
    scale = (_LUT_SIZE - 1) / span if span > 0 else 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        idx = np.clip((values - vmin) * scale, 0, _LUT_SIZE - 1)
    idx = np.where(valid, idx, 0.0)  # NaN/inf never reach the integer cast
    out = lut[np.rint(idx).astype(np.intp)]
    out[~valid] = np.asarray(invalid_color, np.uint8)
    return out


def colorize(
    depth: ArrayLike,
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str = "jet",
    invalid_color: Color = (0, 0, 0),
) -> np.ndarray:
    """Colourise a depth map into a uint8 (H, W, 3) RGB image.

    Valid pixels are finite and ``> 0``; the others (0 = missing in KITTI maps, negatives, NaN, inf) get
    ``invalid_color`` (black by default).

    Range: given ``vmin``/``vmax`` are a FIXED range, identical for every image, so the same depth always gets
    the same colour (values outside are clipped). A bound left ``None`` is taken from this image's valid
    pixels (per-image min-max, as the SemAttNet reference does, except that its min includes the zeros). Use
    ``cmap="magma_r"`` or ``"turbo_r"`` to show near as bright; ``"jet"`` shows near as blue, like the
    reference.
    """
    d = as_depth_2d(depth)
    valid = np.isfinite(d) & (d > 0)
    if vmin is None or vmax is None:
        lo, hi = (float(d[valid].min()), float(d[valid].max())) if valid.any() else (0.0, 1.0)
        vmin = lo if vmin is None else vmin
        vmax = hi if vmax is None else vmax
    return apply_colormap(d, valid, float(vmin), float(vmax), cmap, invalid_color)


def error_map(
    pred: ArrayLike,
    gt: ArrayLike,
    vmax: float | None = None,
    cmap: str = "coolwarm",
    invalid_color: Color = (0, 0, 0),
) -> np.ndarray:
    """Absolute error ``|pred - gt|`` as a uint8 (H, W, 3) RGB image.

    Only pixels with a valid ground truth (finite, ``> 0``) and a finite prediction are coloured; the rest get
    ``invalid_color``. The range is ``[0, vmax]`` (errors above are clipped); ``vmax=None`` uses this image's
    largest error. The default diverging ``coolwarm`` goes from blue (no error) to red, so zero error stays
    distinct from the black invalid pixels.
    """
    p = as_depth_2d(pred, "pred")
    g = as_depth_2d(gt, "gt")
    if p.shape != g.shape:
        raise DataError(None, f"pred shape {p.shape} differs from gt shape {g.shape}")
    valid = np.isfinite(g) & (g > 0) & np.isfinite(p)
    err = np.abs(p - g)
    if vmax is None:
        vmax = float(err[valid].max()) if valid.any() else 1.0
    return apply_colormap(err, valid, 0.0, float(vmax), cmap, invalid_color)
