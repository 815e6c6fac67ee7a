"""Strict readers for depth maps, RGB images and semantic maps.

Every problem with an input file raises :class:`~depthforge.errors.DataError` with a one-line message
that names the file. PNGs are decoded with OpenCV from bytes read once; before decoding, the signature
and the final ``IEND`` chunk are checked, because a file cut short at a chunk boundary can otherwise
decode "successfully" with missing rows. Corrupt data inside the file (bad CRC, bad zlib stream) makes
libpng fail, which is reported the same way.
"""

from __future__ import annotations

import warnings
from os import PathLike
from pathlib import Path

import cv2
import numpy as np

from depthforge.errors import DataError
from depthforge.io.arrays import read_pfm
from depthforge.io.png import PNG_SIGNATURE, parse_png_header, read_file_bytes

PathLikeStr = str | PathLike[str]

_IEND = b"IEND"
# Some writers append a few bytes after IEND; only the tail is searched.
_IEND_SEARCH_TAIL = 1024
DEPTH_SCALE = 256.0  # KITTI: metres = uint16 / 256


class EmptyDepthWarning(UserWarning):
    """A depth map without a single valid (positive) value was read."""


def _decode_checked(
    path: PathLikeStr, start: bytes, end: bytes, kind: str, missing_end: str, corrupt: str
) -> np.ndarray:
    """Read ``path`` once, check its start signature and end marker, then decode it unchanged with OpenCV."""
    p = Path(path)
    data = read_file_bytes(p)
    if not data.startswith(start):
        raise DataError(p, f"not a {kind} file (bad signature)")
    if data.rfind(end, max(0, len(data) - _IEND_SEARCH_TAIL)) < 0:
        raise DataError(p, f"truncated {kind} (no {missing_end} the {len(data)}-byte file)")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise DataError(p, f"corrupt {kind} (decoder failed{corrupt})")
    return image


def decode_png(path: PathLikeStr) -> np.ndarray:
    """Decode a PNG exactly as stored (bit depth and channels unchanged; colour order BGR[A])."""
    corrupt = ": bad CRC, bad compressed data or truncated"
    return _decode_checked(path, PNG_SIGNATURE, _IEND, "PNG", "IEND chunk at the end of", corrupt)


def decode_jpeg(path: PathLikeStr) -> np.ndarray:
    """Decode a JPEG (colour order BGR), checking the start and end-of-image markers first."""
    return _decode_checked(path, b"\xff\xd8", b"\xff\xd9", "JPEG", "end-of-image marker in", "")


def _decode_image(path: PathLikeStr) -> np.ndarray:
    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        return decode_png(path)
    if suffix in (".jpg", ".jpeg"):
        return decode_jpeg(path)
    raise DataError(path, f"unsupported image format '{suffix}' (expected .png, .jpg or .jpeg)")


def read_depth_png(path: PathLikeStr, *, strict: bool = True) -> np.ndarray:
    """Read a KITTI 16-bit depth PNG as float32 HxW metres (0 = no measurement).

    An all-empty map is accepted with an :class:`EmptyDepthWarning`, or silently with ``strict=False``.
    """
    raw = decode_png(path)
    if raw.ndim != 2:
        raise DataError(path, f"depth PNG has {raw.shape[2]} channels, expected 1 (16-bit grey)")
    if raw.dtype != np.uint16:
        bits = raw.dtype.itemsize * 8
        raise DataError(path, f"{bits}-bit PNG where a 16-bit depth PNG is expected")
    depth = raw.astype(np.float32) / np.float32(DEPTH_SCALE)
    if strict:
        _warn_if_empty(path, depth)
    return depth


def read_depth(path: PathLikeStr, *, strict: bool = True) -> np.ndarray:
    """Read a depth map in metres from ``.png`` (KITTI 16-bit), ``.npy`` or ``.pfm`` as float32 HxW.

    Non-finite and negative values are rejected; 0 means "no measurement". An all-empty map is
    accepted with an :class:`EmptyDepthWarning`.

    ``strict=False`` is for predictions, whose metrics count non-positive and non-finite values instead
    of refusing the file: values are returned as stored, no warning is given, and a ``.npy`` array may
    carry extra size-1 axes anywhere (such as 1xHxW). File format and shape problems still raise.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".png":
        return read_depth_png(p, strict=strict)
    if suffix == ".npy":
        depth = _read_npy(p, squeeze=not strict)
    elif suffix == ".pfm":
        depth = read_pfm(p, greyscale=True)
    else:
        raise DataError(p, f"unsupported depth format '{suffix}' (expected .png, .npy or .pfm)")
    if strict:
        _check_depth_values(p, depth)
        _warn_if_empty(p, depth)
    return depth


def _read_npy(path: Path, squeeze: bool = False) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(path, f"unreadable .npy file ({str(exc).splitlines()[0]})") from None
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    while squeeze and array.ndim > 2 and 1 in array.shape:
        array = array.squeeze(axis=array.shape.index(1))
    if array.ndim != 2:
        expected = "HxW with any size-1 axes" if squeeze else "HxW or HxWx1"
        raise DataError(path, f"depth array has shape {array.shape}, expected {expected}")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise DataError(path, f"depth array has dtype {array.dtype}, expected a real number type")
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
            head = fh.read(26)
    except OSError as exc:
        raise DataError(p, f"cannot read file ({exc.strerror or exc})") from None
    header = parse_png_header(head)
    if header is None:
        raise DataError(p, "not a PNG file (bad signature or header)")
    return header.height, header.width
