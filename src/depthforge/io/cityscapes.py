"""CityScapes disparity PNGs and camera files.

Disparity PNG: 1 channel, uint16 ``v``; disparity in pixels = ``(v - 1) / 256`` for ``v > 0``, and
``v = 0`` marks an invalid pixel (decoded as disparity 0). The encoder writes ``round(d * 256) + 1``
clipped to ``[1, 65535]``, so every valid disparity stays distinguishable from invalid.

Camera JSON: ``extrinsic.baseline`` (metres) and ``intrinsic.fx`` (pixels); depth in metres is
``fx * baseline / disparity`` (:func:`depthforge.io.stereo.disparity_to_depth` with ``invalid=0``: pixels
of disparity 0 get depth 0).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from depthforge.errors import DataError
from depthforge.io.png import PathLike, read_u16_png, write_u16_png

DISPARITY_SCALE = 256.0


def disparity_to_uint16(disparity: ArrayLike) -> np.ndarray:
    """Encode disparity in pixels as PNG values ``round(d * 256) + 1`` in ``[1, 65535]``; 0 where not finite > 0."""
    d = np.asarray(disparity, dtype=np.float64)
    v = np.clip(np.rint(d * DISPARITY_SCALE) + 1.0, 1, 65535)
    return np.where(np.isfinite(d) & (d > 0), v, 0).astype(np.uint16)


def uint16_to_disparity(values: np.ndarray) -> np.ndarray:
    """Decode PNG values to float32 disparity in pixels: ``(v - 1) / 256`` for ``v > 0``, 0 for ``v = 0``."""
    disp = values.astype(np.float32)
    valid = disp > 0
    disp[valid] = (disp[valid] - 1) / DISPARITY_SCALE
    return disp


def read_disparity_png(path: PathLike) -> np.ndarray:
    """Read a CityScapes disparity PNG as float32 HxW pixels (0 = invalid); anything but 16-bit grey raises."""
    return uint16_to_disparity(read_u16_png(path, "disparity PNG"))


def write_disparity_png(path: PathLike, disparity: ArrayLike, compression: int | None = None) -> Path:
    """Write disparity in pixels as a CityScapes disparity PNG (see :func:`disparity_to_uint16`)."""
    values = disparity_to_uint16(disparity)
    if values.ndim != 2:
        raise DataError(path, f"disparity map must be (H, W), got shape {values.shape}")
    return write_u16_png(path, values, compression)


def read_camera(path: PathLike) -> dict[str, Any]:
    """The parsed camera JSON; a missing or malformed file raises."""
    p = Path(path)
    try:
        info = json.loads(p.read_text())
    except FileNotFoundError:
        raise DataError(p, "file not found") from None
    except (OSError, ValueError) as exc:
        raise DataError(p, f"cannot read camera JSON ({exc})") from None
    if not isinstance(info, dict):
        raise DataError(p, "camera JSON must hold an object")
    return info


def camera_factor(path: PathLike) -> float:
    """``baseline * fx`` from a camera JSON: the depth-from-disparity factor of that image."""
    info = read_camera(path)
    try:
        return float(info["extrinsic"]["baseline"]) * float(info["intrinsic"]["fx"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(path, f"cannot read baseline and fx ({exc})") from None


def write_camera(path: PathLike, camera: dict[str, Any]) -> Path:
    """Write a camera JSON (4-space indent, final newline); it must hold ``extrinsic.baseline`` and ``intrinsic.fx``."""
    p = Path(path)
    if not {"baseline"} <= set(camera.get("extrinsic", {})) or not {"fx"} <= set(camera.get("intrinsic", {})):
        raise DataError(p, "camera needs extrinsic.baseline and intrinsic.fx")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(camera, indent=4) + "\n")
    except OSError as exc:
        raise DataError(p, f"cannot write camera JSON ({exc.strerror or exc})") from exc
    return p
