"""Writing visualisations to disk."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from numpy.typing import ArrayLike

from depthforge.errors import DataError
from depthforge.io.png import PathLike, write_png_bytes


def save_png(path: PathLike, img: ArrayLike) -> Path:
    """Save an RGB (H, W, 3), RGBA (H, W, 4) or grey (H, W) uint8/uint16 image as PNG; returns the path.

    Creates missing parent folders and raises :class:`DataError` naming the path if anything fails (the
    reference's ``cv2.imwrite`` silently writes nothing into a missing folder).
    """
    arr = np.asarray(img)
    if arr.dtype not in (np.uint8, np.uint16):
        raise DataError(path, f"image must be uint8 or uint16, got {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)  # OpenCV encodes BGR
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGBA2BGRA)
    elif arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    elif arr.ndim != 2:
        raise DataError(path, f"image must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); got {arr.shape}")
    return write_png_bytes(path, arr)
