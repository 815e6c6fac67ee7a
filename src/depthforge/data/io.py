"""Strict readers for depth maps, RGB images and semantic maps.

Every problem with an input file raises :class:`~depthforge.errors.DataError` with a one-line message
that names the file. PNGs are decoded with OpenCV from bytes read once; before decoding, the signature
and the final ``IEND`` chunk are checked, because a file cut short at a chunk boundary can otherwise
decode "successfully" with missing rows. Corrupt data inside the file (bad CRC, bad zlib stream) makes
libpng fail, which is reported the same way.
"""

from __future__ import annotations

import re
import warnings
from os import PathLike
from pathlib import Path

import cv2
import numpy as np

from depthforge.errors import DataError

PathLikeStr = str | PathLike[str]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IEND = b"IEND"
# Some writers append a few bytes after IEND; only the tail is searched.
_IEND_SEARCH_TAIL = 1024
DEPTH_SCALE = 256.0  # KITTI: metres = uint16 / 256


class EmptyDepthWarning(UserWarning):
    """A depth map without a single valid (positive) value was read."""


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except IsADirectoryError:
        raise DataError(path, "is a directory, expected a file") from None
    except OSError as exc:
        raise DataError(path, f"cannot read file ({exc.strerror or exc})") from None


def decode_png(path: PathLikeStr) -> np.ndarray:
    """Decode a PNG exactly as stored (bit depth and channels unchanged; colour order BGR[A])."""
    p = Path(path)
    data = _read_bytes(p)
    if not data.startswith(_PNG_SIGNATURE):
        raise DataError(p, "not a PNG file (bad signature)")
    if data.rfind(_IEND, max(0, len(data) - _IEND_SEARCH_TAIL)) < 0:
        raise DataError(p, f"truncated PNG (no IEND chunk at the end of the {len(data)}-byte file)")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise DataError(p, "corrupt PNG (decoder failed: bad CRC, bad compressed data or truncated)")
    return image


def decode_jpeg(path: PathLikeStr) -> np.ndarray:
    """Decode a JPEG (colour order BGR), checking the start and end-of-image markers first."""
    p = Path(path)
    data = _read_bytes(p)
    if not data.startswith(b"\xff\xd8"):
        raise DataError(p, "not a JPEG file (bad signature)")
    if data.rfind(b"\xff\xd9", max(0, len(data) - _IEND_SEARCH_TAIL)) < 0:
        raise DataError(p, f"truncated JPEG (no end-of-image marker in the {len(data)}-byte file)")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise DataError(p, "corrupt JPEG (decoder failed)")
    return image


def _decode_image(path: PathLikeStr) -> np.ndarray:
    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        return decode_png(path)
    if suffix in (".jpg", ".jpeg"):
        return decode_jpeg(path)
    raise DataError(path, f"unsupported image format '{suffix}' (expected .png, .jpg or .jpeg)")


def read_depth_png(path: PathLikeStr) -> np.ndarray:
    """Read a KITTI 16-bit depth PNG as float32 HxW metres (0 = no measurement)."""
    raw = decode_png(path)
    if raw.ndim != 2:
        raise DataError(path, f"depth PNG has {raw.shape[2]} channels, expected 1 (16-bit grey)")
    if raw.dtype != np.uint16:
        bits = raw.dtype.itemsize * 8
        raise DataError(path, f"{bits}-bit PNG where a 16-bit depth PNG is expected")
    depth = raw.astype(np.float32) / np.float32(DEPTH_SCALE)
    _warn_if_empty(path, depth)
    return depth


def read_depth(path: PathLikeStr) -> np.ndarray:
    """Read a depth map in metres from ``.png`` (KITTI 16-bit), ``.npy`` or ``.pfm`` as float32 HxW.

    Non-finite and negative values are rejected; 0 means "no measurement". An all-empty map is
    accepted with an :class:`EmptyDepthWarning`.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".png":
        return read_depth_png(p)
    if suffix == ".npy":
        depth = _read_npy(p)
    elif suffix == ".pfm":
        depth = _read_pfm(p)
    else:
        raise DataError(p, f"unsupported depth format '{suffix}' (expected .png, .npy or .pfm)")
    _check_depth_values(p, depth)
    _warn_if_empty(p, depth)
    return depth


def _read_npy(path: Path) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(path, f"unreadable .npy file ({str(exc).splitlines()[0]})") from None
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim != 2:
        raise DataError(path, f"depth array has shape {array.shape}, expected HxW or HxWx1")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise DataError(path, f"depth array has dtype {array.dtype}, expected a real number type")
    return array.astype(np.float32)


_PFM_HEADER = re.compile(rb"(P[Ff])\s+(\d+)\s+(\d+)\s+([-+0-9.eE]+)\s")


def _read_pfm(path: Path) -> np.ndarray:
    data = _read_bytes(path)
    match = _PFM_HEADER.match(data)
    if match is None:
        raise DataError(path, "not a PFM file (bad header)")
    if match.group(1) == b"PF":
        raise DataError(path, "PFM has 3 channels, expected 1 (greyscale 'Pf')")
    width, height = int(match.group(2)), int(match.group(3))
    try:
        scale = float(match.group(4))
    except ValueError:
        raise DataError(path, "PFM header has an invalid scale") from None
    expected = width * height * 4
    payload = data[match.end() :]
    if len(payload) < expected:
        raise DataError(path, f"truncated PFM ({len(payload)} of {expected} data bytes)")
    dtype = "<f4" if scale < 0 else ">f4"  # negative scale = little endian
    # PFM stores rows bottom to top.
    array = np.frombuffer(payload[:expected], dtype=dtype).reshape(height, width)[::-1]
    return array.astype(np.float32)


def _check_depth_values(path: PathLikeStr, depth: np.ndarray) -> None:
    n_nan = int(np.isnan(depth).sum())
    if n_nan:
        raise DataError(path, f"depth contains {n_nan} NaN values")
    n_inf = int(np.isinf(depth).sum())
    if n_inf:
        raise DataError(path, f"depth contains {n_inf} infinite values")
    n_neg = int((depth < 0).sum())
    if n_neg:
        raise DataError(path, f"depth contains {n_neg} negative values (min {float(depth.min()):g})")


def _warn_if_empty(path: PathLikeStr, depth: np.ndarray) -> None:
    if not depth.any():
        warnings.warn(f"{path}: depth map has no valid pixels", EmptyDepthWarning, stacklevel=3)


def _to_rgb(path: PathLikeStr, raw: np.ndarray, what: str) -> np.ndarray:
    """Mimic PIL's ``.convert('RGB')`` for 8-bit grey, grey+alpha, palette, RGB and RGBA PNGs."""
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


def read_rgb(path: PathLikeStr) -> np.ndarray:
    """Read an 8-bit colour PNG/JPEG as uint8 HxWx3 RGB (0-255, not normalised)."""
    return _to_rgb(path, _decode_image(path), "RGB image")


def read_semantic(path: PathLikeStr) -> np.ndarray:
    """Read a semantic map as uint8 HxWx3 (grey and palette maps are expanded like PIL's ``convert('RGB')``)."""
    return _to_rgb(path, _decode_image(path), "semantic map")


def image_size(path: PathLikeStr) -> tuple[int, int]:
    """(height, width) from a PNG header without decoding the pixels."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(24)
    except OSError as exc:
        raise DataError(p, f"cannot read file ({exc.strerror or exc})") from None
    if len(head) < 24 or not head.startswith(_PNG_SIGNATURE) or head[12:16] != b"IHDR":
        raise DataError(p, "not a PNG file (bad signature or header)")
    return int.from_bytes(head[20:24], "big"), int.from_bytes(head[16:20], "big")
