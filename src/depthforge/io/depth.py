"""Depth maps in metres: the KITTI 16-bit PNG codec and :func:`read_depth`, which dispatches by suffix.

KITTI PNG: 1 channel, uint16, metres = value / 256, 0 = no measurement. ``.npy`` and ``.pfm`` hold
metres as floats (see :mod:`depthforge.io.arrays`).

Readers take ``strict``. Strict (the default) is for inputs: non-finite and negative values are refused
and an all-empty map gives an :class:`EmptyDepthWarning`. Lenient (``strict=False``) is for predictions,
whose metrics count non-positive and non-finite values instead of refusing the file. Format and shape
problems raise :class:`~depthforge.errors.DataError` naming the file in both modes.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from depthforge.errors import DataError
from depthforge.io.arrays import read_npy, read_pfm
from depthforge.io.png import PathLike, read_u16_png, write_png_bytes

KITTI_DEPTH_SCALE = 256.0
UINT16_MAX = 65535
DEPTH_SUFFIXES = (".png", ".npy", ".pfm")


class EmptyDepthWarning(UserWarning):
    """A depth map without a single valid (positive) value was read."""


def depth_to_uint16(depth_m: ArrayLike, dense: bool = False) -> np.ndarray:
    """Encode metres as KITTI uint16: ``round(d * 256)`` clipped to ``[1, 65535]`` on valid pixels, else 0.

    Valid means finite and ``> 0``. The clip matters twice: a bare ``astype(uint16)`` wraps negatives
    around to huge depths and overflows at >= 256 m; and a tiny positive depth that rounds to 0 would be
    read back as *missing* (the KITTI devkit likewise writes ``max(d * 256, 1)``). So depths >= 255.998 m
    saturate at 65535 (255.996 m) and depths below 1/512 m become 1 (1/256 m).
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


def read_depth_png(path: PathLike, *, strict: bool = True) -> np.ndarray:
    """Read a KITTI 16-bit depth PNG as float32 HxW metres (0 = no measurement).

    Anything but a 1-channel 16-bit PNG raises. An all-empty map is accepted with an
    :class:`EmptyDepthWarning`, or silently with ``strict=False``.
    """
    depth = uint16_to_depth(read_u16_png(path, "depth PNG"))
    if strict:
        _warn_if_empty(path, depth)
    return depth


def read_depth(path: PathLike, *, strict: bool = True) -> np.ndarray:
    """Read a depth map in metres from ``.png`` (KITTI 16-bit), ``.npy`` or ``.pfm`` as float32 HxW.

    Strict: NaN, infinite and negative values raise; 0 means "no measurement"; an all-empty map gives
    an :class:`EmptyDepthWarning`; a ``.npy`` array is HxW or HxWx1.
    Lenient (``strict=False``): values are returned as stored, no warning is given, and a ``.npy`` array
    may carry extra size-1 axes anywhere (such as 1xHxW).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".png":
        return read_depth_png(p, strict=strict)
    if suffix == ".npy":
        depth = _depth_from_npy(p, read_npy(p), squeeze=not strict)
    elif suffix == ".pfm":
        depth = read_pfm(p, greyscale=True)
    else:
        raise DataError(p, f"unsupported depth format '{suffix}' (expected .png, .npy or .pfm)")
    if strict:
        _check_depth_values(p, depth)
        _warn_if_empty(p, depth)
    return depth


def read_prediction(path: PathLike) -> np.ndarray:
    """A predicted depth map in metres: :func:`read_depth` with ``strict=False``."""
    return read_depth(path, strict=False)


def _depth_from_npy(path: Path, array: np.ndarray, squeeze: bool) -> np.ndarray:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    while squeeze and array.ndim > 2 and 1 in array.shape:
        array = array.squeeze(axis=array.shape.index(1))
    if array.ndim != 2:
        expected = "HxW with any size-1 axes" if squeeze else "HxW or HxWx1"
        raise DataError(path, f"depth array has shape {array.shape}, expected {expected}")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise DataError(path, f"depth array has dtype {array.dtype}, expected a real number type")
    return array.astype(np.float32)


def _check_depth_values(path: PathLike, depth: np.ndarray) -> None:
    n_nan = int(np.isnan(depth).sum())
    if n_nan:
        raise DataError(path, f"depth contains {n_nan} NaN values")
    n_inf = int(np.isinf(depth).sum())
    if n_inf:
        raise DataError(path, f"depth contains {n_inf} infinite values")
    n_neg = int((depth < 0).sum())
    if n_neg:
        raise DataError(path, f"depth contains {n_neg} negative values (min {float(depth.min()):g})")


def _warn_if_empty(path: PathLike, depth: np.ndarray) -> None:
    if not depth.any():
        warnings.warn(f"{path}: depth map has no valid pixels", EmptyDepthWarning, stacklevel=3)
