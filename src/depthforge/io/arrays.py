"""Raw float depth exchange formats: NumPy ``.npy`` and PFM (portable float map)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from depthforge.errors import DataError
from depthforge.io.png import PathLike


def write_npy(path: PathLike, depth: ArrayLike) -> Path:
    """Save a depth map as float32 ``.npy`` (NaN and negatives kept as they are); creates parent folders."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:  # np.save on a name would silently append ".npy"
            np.save(fh, np.asarray(depth, dtype=np.float32), allow_pickle=False)
    except OSError as exc:
        raise DataError(path, f"cannot write .npy ({exc.strerror or exc})") from exc
    return path


def read_npy(path: PathLike) -> np.ndarray:
    """Load a ``.npy`` array without allowing pickles."""
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(path, f"cannot read .npy ({exc})") from exc


def write_pfm(path: PathLike, data: ArrayLike, scale: float = 1.0) -> Path:
    """Write a (H, W) or (H, W, 3) float array as little-endian PFM (rows bottom-to-top, as the format says).

    ``scale`` is the positive scale factor of the header; its sign is set to negative to mark little-endian.
    """
    path = Path(path)
    arr = np.asarray(data, dtype=np.float32)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 2:
        kind = "Pf"
    elif arr.ndim == 3 and arr.shape[2] == 3:
        kind = "PF"
    else:
        raise DataError(path, f"PFM holds (H, W) or (H, W, 3) data, got shape {arr.shape}")
    if not scale > 0:
        raise DataError(path, f"PFM scale must be positive, got {scale}")
    header = f"{kind}\n{arr.shape[1]} {arr.shape[0]}\n{-abs(scale):g}\n".encode("ascii")
    body = np.ascontiguousarray(np.flipud(arr)).astype("<f4").tobytes()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(header + body)
    except OSError as exc:
        raise DataError(path, f"cannot write PFM ({exc.strerror or exc})") from exc
    return path


_PFM_HEADER = re.compile(rb"^(P[Ff])\s+(\d+)\s+(\d+)\s+([-+0-9.eE]+)\s")


def read_pfm(path: PathLike) -> np.ndarray:
    """Read a PFM file as float32, top row first: (H, W) ``Pf`` or (H, W, 3) ``PF``; scale not applied."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(path, f"cannot read PFM ({exc.strerror or exc})") from exc
    m = _PFM_HEADER.match(raw[:256])
    if m is None:
        raise DataError(path, "not a PFM file (header must be 'Pf'/'PF', width height, scale)")
    kind, width, height, scale = m.group(1), int(m.group(2)), int(m.group(3)), float(m.group(4))
    channels = 3 if kind == b"PF" else 1
    count = width * height * channels
    dtype = "<f4" if scale < 0 else ">f4"
    body = raw[m.end():]
    if len(body) < 4 * count:
        expected = f"{4 * count} expected for {width}x{height}"
        raise DataError(path, f"truncated PFM: {len(body)} data bytes, {expected}")
    arr = np.frombuffer(body, dtype=dtype, count=count).astype(np.float32)
    shape = (height, width, 3) if channels == 3 else (height, width)
    return np.ascontiguousarray(np.flipud(arr.reshape(shape)))
