"""KITTI depth PNGs: uint16, 1 channel, metres = value / 256, 0 = invalid (evaluation spec §2.1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from depthforge.errors import DataError
from depthforge.io.png import PathLike, write_png_bytes

KITTI_DEPTH_SCALE = 256.0
UINT16_MAX = 65535


def depth_to_uint16(depth_m: ArrayLike, dense: bool = False) -> np.ndarray:
    """Encode metres as KITTI uint16: ``round(d * 256)`` clipped to ``[1, 65535]`` on valid pixels, else 0.

    Valid means finite and ``> 0``. The clip fixes two reference defects (SemAttNet spec §12 #13): a bare
    ``astype(uint16)`` wraps negatives around to huge depths and overflows at >= 256 m; and a tiny positive
    depth that rounds to 0 would be read back as *missing* (the devkit likewise writes ``max(d * 256, 1)``).
    So depths >= 255.998 m saturate at 65535 (255.996 m) and depths below 1/512 m become 1 (1/256 m).
    With ``dense`` (a completion model's output, e.g. a KITTI submission) every finite pixel is a
    prediction: non-positive values become 1 rather than 0, which the devkit would treat as missing.
    """
    d = np.asarray(depth_m, dtype=np.float64)
    out = np.zeros(d.shape, np.uint16)
    valid = np.isfinite(d) & ((d > 0) | dense)
    out[valid] = np.clip(np.rint(d[valid] * KITTI_DEPTH_SCALE), 1, UINT16_MAX).astype(np.uint16)
    return out


def uint16_to_depth(value: np.ndarray) -> np.ndarray:
    """Decode KITTI uint16 units to float32 metres; 0 stays 0 (invalid)."""
    return value.astype(np.float32) / np.float32(KITTI_DEPTH_SCALE)


def _as_2d(depth: ArrayLike, path: PathLike) -> np.ndarray:
    arr = np.asarray(depth)
    if arr.ndim == 3 and 1 in (arr.shape[0], arr.shape[-1]):
        arr = arr.reshape(arr.shape[1:] if arr.shape[0] == 1 else arr.shape[:-1])
    if arr.ndim != 2:
        raise DataError(path, f"depth map must be (H, W), (1, H, W) or (H, W, 1); got shape {arr.shape}")
    return arr


def write_depth_png(path: PathLike, depth_m: ArrayLike, compression: int | None = None,
                    dense: bool = False) -> Path:
    """Write depth in metres as a KITTI 16-bit greyscale PNG (see :func:`depth_to_uint16`); returns the path.

    ``compression`` is the zlib level (OpenCV's default when ``None``). Parent folders are created; any
    failure raises :class:`DataError` naming the path.
    """
    return write_png_bytes(path, depth_to_uint16(_as_2d(depth_m, path), dense=dense), compression)


def read_depth_png(path: PathLike) -> np.ndarray:
    """Read a KITTI depth PNG as float32 metres (0 = invalid); refuses anything but 1-channel 16-bit.

    This is :func:`depthforge.data.io.read_depth_png` without the empty-map warning.
    """
    from depthforge.data.io import read_depth_png as _read  # depthforge.data imports this package

    return _read(path, strict=False)
