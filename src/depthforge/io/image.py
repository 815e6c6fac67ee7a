"""Images: RGB photographs and colour-coded semantic maps (8-bit PNG or JPEG), and edge maps (PNG).

RGB and semantic readers return uint8 HxWx3 RGB (0-255, not normalised). Grey, grey+alpha, palette and
RGBA files are converted the way PIL's ``convert('RGB')`` does; anything that is not 8-bit raises.
Edge maps are read as bool HxW: non-zero = edge.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from depthforge.errors import DataError
from depthforge.io.png import PathLike, decode_jpeg, decode_png, write_png_bytes

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def decode_image(path: PathLike) -> np.ndarray:
    """Decode a PNG or JPEG (chosen by suffix) unchanged, after the signature and end-marker checks."""
    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        return decode_png(path)
    if suffix in (".jpg", ".jpeg"):
        return decode_jpeg(path)
    raise DataError(path, f"unsupported image format '{suffix}' (expected .png, .jpg or .jpeg)")


def _to_rgb(path: PathLike, raw: np.ndarray, what: str) -> np.ndarray:
    """Mimic PIL's ``.convert('RGB')`` for 8-bit grey, grey+alpha, palette, RGB and RGBA images."""
    if raw.dtype != np.uint8:
        raise DataError(path, f"{raw.dtype.itemsize * 8}-bit PNG where an 8-bit {what} is expected")
    if raw.ndim == 2:
        return cv2.cvtColor(raw, cv2.COLOR_GRAY2RGB)
    channels = raw.shape[2]
    if channels == 3:
        return cv2.cvtColor(raw, cv2.COLOR_BGR2RGB)
    if channels == 4:
        return cv2.cvtColor(raw, cv2.COLOR_BGRA2RGB)
    if channels == 2:  # grey + alpha: alpha is dropped, as PIL does
        return cv2.cvtColor(np.ascontiguousarray(raw[..., 0]), cv2.COLOR_GRAY2RGB)
    raise DataError(path, f"{what} has {channels} channels, expected 1, 3 or 4")


def read_rgb(path: PathLike) -> np.ndarray:
    """Read an 8-bit colour PNG/JPEG as uint8 HxWx3 RGB (0-255, not normalised)."""
    return _to_rgb(path, decode_image(path), "RGB image")


def read_semantic(path: PathLike) -> np.ndarray:
    """Read a semantic map as uint8 HxWx3 (grey and palette maps are expanded like PIL's ``convert('RGB')``)."""
    return _to_rgb(path, decode_image(path), "semantic map")


def write_rgb_png(path: PathLike, rgb: np.ndarray, compression: int | None = None) -> Path:
    """Write an HxWx3 uint8 RGB array as an 8-bit colour PNG; returns the path."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise DataError(path, f"RGB PNG needs a uint8 HxWx3 array, got {rgb.dtype} of shape {rgb.shape}")
    return write_png_bytes(path, np.ascontiguousarray(rgb[..., ::-1]), compression)


def read_edges(path: PathLike) -> np.ndarray:
    """Read an edge map (PNG, any bit depth, grey or colour) as bool HxW: True where any channel is non-zero."""
    raw = decode_png(path)
    return raw.astype(bool) if raw.ndim == 2 else raw.any(axis=2)


def write_edges(path: PathLike, edges: np.ndarray, compression: int | None = None) -> Path:
    """Write a boolean HxW edge map as an 8-bit grey PNG (255 = edge, 0 = none)."""
    edges = np.asarray(edges)
    if edges.ndim != 2:
        raise DataError(path, f"edge map must be (H, W), got shape {edges.shape}")
    return write_png_bytes(path, np.where(edges.astype(bool), 255, 0).astype(np.uint8), compression)
