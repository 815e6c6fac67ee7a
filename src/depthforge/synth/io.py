"""Small image writers shared by the dataset writers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from depthforge.errors import DataError
from depthforge.io.depth_png import depth_to_uint16
from depthforge.io.depth_png import write_depth_png as _write_depth_png
from depthforge.io.png import read_png_unchanged, write_png_bytes

# KITTI 16-bit encoding: round(metres * 256) clipped to [1, 65535]; 0 where depth is 0, inf or NaN.
encode_depth_png = depth_to_uint16

# Fixed compression level keeps the bytes identical across runs.
_PNG_COMPRESSION = 3


def _write(path: Path, array: np.ndarray) -> None:
    write_png_bytes(path, array, compression=_PNG_COMPRESSION)


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
    _write_depth_png(path, depth, compression=_PNG_COMPRESSION)


def read_u16_png(path: Path) -> np.ndarray:
    """Read a 16-bit PNG unchanged (uint16)."""
    img = read_png_unchanged(path)
    if img.dtype != np.uint16:
        raise DataError(path, "not a readable 16-bit PNG")
    return img
