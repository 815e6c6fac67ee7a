"""Reading depth files for evaluation: 16-bit PNG (value / 256 m), ``.npy`` and ``.pfm``.

The readers are the strict ones of :mod:`depthforge.data.io` in their lenient mode: predictions may hold
negative, zero or non-finite values, which the metrics count instead of refusing the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from depthforge.data.folder import DEPTH_SUFFIXES
from depthforge.data.io import read_depth as _read_depth
from depthforge.data.io import read_depth_png as _read_depth_png
from depthforge.io.arrays import read_pfm, write_pfm

__all__ = ["DEPTH_SUFFIXES", "read_depth", "read_pfm", "read_png16", "write_pfm"]


def read_png16(path: str | Path) -> np.ndarray:
    """Read a 1-channel 16-bit PNG as metres (value / 256; 0 stays 0 = invalid)."""
    return _read_depth_png(path, strict=False)


def read_depth(path: str | Path) -> np.ndarray:
    """Read a depth map in metres from ``.png`` (16-bit, /256), ``.npy`` or ``.pfm`` as float32 (H, W).

    Values are returned as stored (NaN, infinite and negative values included).
    """
    return _read_depth(path, strict=False)
