"""UnrealStereo4K files: disparity ``.npy``, camera ``Extrinsics`` text files and the ``.raw`` image dump.

* Disparity ``DispN/NNNNN.npy``: float32 HxW, pixels; 0 where the view sees nothing (sky). Depth in
  metres is ``focal * baseline / disparity`` (inf where disparity is 0), see
  :func:`depthforge.io.stereo.disparity_to_depth`.
* Extrinsics ``ExtrinsicsN/NNNNN.txt``: line 0 holds the 3x3 intrinsics row-major (token 0 is the focal
  length in pixels), line 1 the 3x4 world-to-camera ``[R|t]`` row-major (token 3 is the x translation;
  the two views of a frame differ there by the baseline in metres).
* Image ``ImageN/NNNNN.raw``: headerless uint8 BGR pixels, row-major HxWx3; the size is not stored, so
  readers must be told it (the ``.png`` next to it holds the same image).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from depthforge.errors import DataError
from depthforge.io.arrays import read_npy, write_npy
from depthforge.io.png import PathLike, read_file_bytes


def read_disparity_npy(path: PathLike) -> np.ndarray:
    """Read a disparity ``.npy`` as float32 HxW pixels."""
    disp = read_npy(path)
    if disp.ndim != 2:
        raise DataError(path, f"disparity array has shape {disp.shape}, expected HxW")
    if not (np.issubdtype(disp.dtype, np.floating) or np.issubdtype(disp.dtype, np.integer)):
        raise DataError(path, f"disparity array has dtype {disp.dtype}, expected a real number type")
    return disp.astype(np.float32)


def write_disparity_npy(path: PathLike, disparity: ArrayLike) -> Path:
    """Write disparity in pixels as a float32 ``.npy``."""
    return write_npy(path, disparity)


@dataclass(frozen=True)
class Extrinsics:
    """One ``Extrinsics`` file: its first two lines as numbers."""

    intrinsics: tuple[float, ...]  # 3x3 K row-major
    pose: tuple[float, ...]  # 3x4 world-to-camera [R|t] row-major

    @property
    def focal(self) -> float:
        return self.intrinsics[0]

    @property
    def tx(self) -> float:
        return self.pose[3]


def read_extrinsics(path: PathLike) -> Extrinsics:
    """Parse an ``Extrinsics`` file; it needs at least the focal length on line 0 and t_x on line 1."""
    p = Path(path)
    lines = read_file_bytes(p, "extrinsics").decode("ascii", errors="replace").splitlines()
    try:
        intrinsics = tuple(float(t) for t in lines[0].split())
        pose = tuple(float(t) for t in lines[1].split())
    except (IndexError, ValueError) as exc:
        raise DataError(p, f"cannot read focal length and baseline ({exc})") from None
    if not intrinsics or len(pose) < 4:
        raise DataError(p, "cannot read focal length and baseline (line 0 needs the focal length, "
                        "line 1 at least 4 numbers)")
    return Extrinsics(intrinsics, pose)


def _numbers(values: ArrayLike) -> str:
    # repr keeps every float exactly, so the file reads back to the same values.
    return " ".join(repr(float(v)) for v in np.ravel(values))


def write_extrinsics(path: PathLike, intrinsics: ArrayLike, pose: ArrayLike) -> Path:
    """Write a 3x3 intrinsics matrix and a 3x4 world-to-camera ``[R|t]`` as an ``Extrinsics`` file."""
    p = Path(path)
    k, rt = np.asarray(intrinsics), np.asarray(pose)
    if k.size != 9 or rt.size != 12:
        raise DataError(p, f"extrinsics need 3x3 intrinsics and a 3x4 pose, got {k.shape} and {rt.shape}")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"{_numbers(k)}\n{_numbers(rt)}\n")
    except OSError as exc:
        raise DataError(p, f"cannot write extrinsics ({exc.strerror or exc})") from exc
    return p


def read_raw_image(path: PathLike, height: int, width: int) -> np.ndarray:
    """Read a ``.raw`` dump of ``height`` x ``width`` as uint8 HxWx3 RGB."""
    data = read_file_bytes(path, ".raw image")
    if len(data) != height * width * 3:
        raise DataError(path, f".raw image has {len(data)} bytes, expected {height * width * 3} for "
                        f"{height}x{width}x3")
    return np.frombuffer(data, np.uint8).reshape(height, width, 3)[..., ::-1].copy()


def write_raw_image(path: PathLike, rgb: np.ndarray) -> Path:
    """Write a uint8 HxWx3 RGB array as a headerless BGR ``.raw`` dump."""
    p = Path(path)
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise DataError(p, f".raw image needs a uint8 HxWx3 array, got {rgb.dtype} of shape {rgb.shape}")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(np.ascontiguousarray(rgb[..., ::-1]).tobytes())
    except OSError as exc:
        raise DataError(p, f"cannot write .raw image ({exc.strerror or exc})") from exc
    return p
