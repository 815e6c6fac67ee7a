"""Small image writers shared by the dataset writers."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from depthforge.errors import DataError


def encode_depth_png(depth: np.ndarray) -> np.ndarray:
    """KITTI 16-bit encoding: round(metres * 256) clipped to [1, 65535]; 0 where depth is 0, inf or NaN."""
    d = np.asarray(depth, dtype=np.float64)
    valid = np.isfinite(d) & (d > 0)
    out = np.zeros(d.shape, dtype=np.uint16)
    out[valid] = np.clip(np.rint(d[valid] * 256.0), 1, 65535).astype(np.uint16)
    return out


def _write(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Fixed compression level keeps the bytes identical across runs.
    if not cv2.imwrite(str(path), array, [cv2.IMWRITE_PNG_COMPRESSION, 3]):
        raise DataError(path, "could not write PNG")


def write_rgb_png(path: Path, rgb: np.ndarray) -> None:
    """Write an HxWx3 uint8 RGB image as an 8-bit colour PNG."""
    _write(path, np.ascontiguousarray(rgb[..., ::-1]))


def write_u16_png(path: Path, values: np.ndarray) -> None:
    """Write an HxW uint16 array as a 16-bit greyscale PNG."""
    _write(path, np.ascontiguousarray(values, dtype=np.uint16))


def write_u8_png(path: Path, values: np.ndarray) -> None:
    """Write an HxW uint8 array as an 8-bit greyscale PNG."""
    _write(path, np.ascontiguousarray(values, dtype=np.uint8))


def write_depth_png(path: Path, depth: np.ndarray) -> None:
    """Write metric depth (0/inf = invalid) with the KITTI 16-bit encoding."""
    write_u16_png(path, encode_depth_png(depth))


def read_u16_png(path: Path) -> np.ndarray:
    """Read a 16-bit PNG unchanged (uint16)."""
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None or img.dtype != np.uint16:
        raise DataError(path, "not a readable 16-bit PNG")
    return img
