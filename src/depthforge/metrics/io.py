"""Reading depth files for evaluation: 16-bit PNG (value / 256 m), ``.npy`` and ``.pfm``."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from depthforge.errors import DataError

DEPTH_SUFFIXES: tuple[str, ...] = (".png", ".npy", ".pfm")


def read_pfm(path: str | Path) -> np.ndarray:
    """Read a PFM file ('Pf' greyscale or 'PF' colour) into float32 (H, W) or (H, W, 3), top row first."""
    p = Path(path)
    with open(p, "rb") as f:
        kind = f.readline().strip()
        if kind not in (b"Pf", b"PF"):
            raise DataError(p, f"not a PFM file (header {kind[:8]!r}, expected 'Pf' or 'PF')")
        dims = f.readline()
        while dims.startswith(b"#"):  # tolerate comment lines some writers add
            dims = f.readline()
        m = re.fullmatch(rb"\s*(\d+)\s+(\d+)\s*", dims)
        if not m:
            raise DataError(p, f"bad PFM size line {dims[:40]!r}")
        w, h = int(m.group(1)), int(m.group(2))
        try:
            scale = float(f.readline().strip())
        except ValueError:
            raise DataError(p, "bad PFM scale line") from None
        channels = 3 if kind == b"PF" else 1
        data = np.frombuffer(f.read(), dtype="<f4" if scale < 0 else ">f4")
    if data.size != w * h * channels:
        raise DataError(p, f"PFM holds {data.size} values, expected {w}x{h}x{channels}")
    img = data.reshape((h, w, channels) if channels == 3 else (h, w))
    return np.ascontiguousarray(img[::-1]).astype(np.float32)  # PFM stores the bottom row first


def write_pfm(path: str | Path, array: np.ndarray) -> None:
    """Write a float32 (H, W) map as little-endian greyscale PFM (used by tests and tools)."""
    a = np.asarray(array, dtype="<f4")
    if a.ndim != 2:
        raise DataError(path, f"write_pfm takes an (H, W) map, got shape {a.shape}")
    with open(path, "wb") as f:
        f.write(b"Pf\n%d %d\n-1.0\n" % (a.shape[1], a.shape[0]))
        f.write(np.ascontiguousarray(a[::-1]).tobytes())


def read_png16(path: str | Path) -> np.ndarray:
    """Read a 1-channel 16-bit PNG as metres (value / 256; 0 stays 0 = invalid)."""
    p = Path(path)
    img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise DataError(p, "cannot read PNG")
    if img.dtype != np.uint16 or img.ndim != 2:
        raise DataError(p, f"expected a 1-channel 16-bit PNG, got dtype {img.dtype} with shape {img.shape}")
    return img.astype(np.float32) / 256.0


def read_depth(path: str | Path) -> np.ndarray:
    """Read a depth map in metres from ``.png`` (16-bit, /256), ``.npy`` or ``.pfm`` as float32 (H, W)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if not p.is_file():
        raise DataError(p, "file does not exist")
    if suffix == ".png":
        return read_png16(p)
    if suffix == ".npy":
        a = np.load(p)
    elif suffix == ".pfm":
        a = read_pfm(p)
    else:
        raise DataError(p, f"unsupported depth file type {suffix!r}; expected one of {', '.join(DEPTH_SUFFIXES)}")
    a = np.squeeze(a)
    if a.ndim != 2:
        raise DataError(p, f"expected a single depth map, got shape {a.shape}")
    return a.astype(np.float32)
