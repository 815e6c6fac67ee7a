"""Coloured point clouds as binary PLY files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from depthforge.errors import DataError
from depthforge.io.png import PathLike


def write_ply(path: PathLike, points: np.ndarray, colors: np.ndarray) -> Path:
    """Write N x 3 float points and N x 3 uint8 RGB colours as a binary little-endian PLY."""
    pts = np.asarray(points, dtype="<f4")
    rgb = np.asarray(colors, dtype=np.uint8)
    if pts.ndim != 2 or pts.shape[1] != 3 or rgb.shape != pts.shape:
        raise DataError(path, f"points {pts.shape} and colours {rgb.shape} must both be N x 3")
    vertex = np.empty(len(pts), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"),
                                       ("red", "u1"), ("green", "u1"), ("blue", "u1")])
    vertex["x"], vertex["y"], vertex["z"] = pts.T
    vertex["red"], vertex["green"], vertex["blue"] = rgb.T
    header = (f"ply\nformat binary_little_endian 1.0\nelement vertex {len(pts)}\n"
              "property float x\nproperty float y\nproperty float z\n"
              "property uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as fh:
        fh.write(header.encode("ascii"))
        fh.write(vertex.tobytes())
    return out


def read_ply(path: PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read back what :func:`write_ply` writes: (N x 3 float32 points, N x 3 uint8 colours)."""
    data = Path(path).read_bytes()
    end = data.find(b"end_header\n")
    if not data.startswith(b"ply\n") or end < 0:
        raise DataError(path, "not a PLY file")
    head = data[:end].decode("ascii", errors="replace").splitlines()
    count = next((int(line.split()[2]) for line in head if line.startswith("element vertex")), -1)
    body = data[end + len(b"end_header\n"):]
    dtype = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1")])
    if count < 0 or len(body) != count * dtype.itemsize:
        raise DataError(path, f"truncated PLY ({len(body)} bytes for {count} vertices)")
    vertex = np.frombuffer(body, dtype=dtype)
    return (np.stack([vertex["x"], vertex["y"], vertex["z"]], 1),
            np.stack([vertex["red"], vertex["green"], vertex["blue"]], 1))


__all__ = ["read_ply", "write_ply"]
