"""Checked PNG encoding/decoding (OpenCV codec, Python file I/O so every failure raises with the path)."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from depthforge.errors import DataError

PathLike = str | os.PathLike[str]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_png_bytes(path: PathLike, img: np.ndarray, compression: int | None = None) -> Path:
    """Encode ``img`` (OpenCV order: grey, BGR or BGRA; uint8 or uint16) as PNG and write it to ``path``.

    ``compression`` is the zlib level 0-9 (OpenCV's default when ``None``). Parent folders are created.
    Unlike ``cv2.imwrite`` (which returns False, or does nothing at all for a missing folder), every
    failure raises a :class:`DataError` naming the path.
    """
    path = Path(path)
    try:
        params = [] if compression is None else [cv2.IMWRITE_PNG_COMPRESSION, compression]
        ok, buf = cv2.imencode(".png", np.ascontiguousarray(img), params)
    except cv2.error as exc:
        raise DataError(path, f"cannot encode {img.dtype} array of shape {img.shape} as PNG ({exc})") from exc
    if not ok:
        raise DataError(path, f"cannot encode {img.dtype} array of shape {img.shape} as PNG")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buf.tobytes())
    except OSError as exc:
        raise DataError(path, f"cannot write PNG ({exc.strerror or exc})") from exc
    return path


def read_file_bytes(path: PathLike, what: str = "file") -> bytes:
    """All bytes of ``path``; a missing file, a folder or a read error raises :class:`DataError`."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except IsADirectoryError:
        raise DataError(path, "is a directory, expected a file") from None
    except OSError as exc:
        raise DataError(path, f"cannot read {what} ({exc.strerror or exc})") from None


def read_png_unchanged(path: PathLike) -> np.ndarray:
    """Decode a PNG keeping bit depth and channels (``IMREAD_UNCHANGED``); raises with the path on failure."""
    path = Path(path)
    try:
        data = np.frombuffer(path.read_bytes(), np.uint8)
    except OSError as exc:
        raise DataError(path, f"cannot read PNG ({exc.strerror or exc})") from exc
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise DataError(path, "not a decodable PNG image")
    return img


@dataclass(frozen=True)
class PngHeader:
    """The PNG ``IHDR`` fields that matter for format checks."""

    width: int
    height: int
    bit_depth: int
    color_type: int  # 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA

    @property
    def channels(self) -> int:
        return {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(self.color_type, 0)


def parse_png_header(data: bytes) -> PngHeader | None:
    """Width, height, bit depth and colour type from the first 26 bytes of a PNG; ``None`` if not a PNG."""
    if len(data) < 26 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height, bit_depth, color_type = struct.unpack(">IIBB", data[16:26])
    return PngHeader(width, height, bit_depth, color_type)
