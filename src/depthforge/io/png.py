"""Checked PNG and JPEG coding with OpenCV; Python does the file I/O so every failure names the path.

Before decoding, a file's start signature and its end marker (PNG ``IEND``, JPEG end-of-image) are
checked, because a file cut short at a chunk boundary can otherwise decode "successfully" with missing
rows. Corrupt data inside the file (bad CRC, bad zlib stream) makes the decoder fail, which is reported
the same way.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from depthforge.errors import DataError

PathLike = str | os.PathLike[str]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_START = b"\xff\xd8"
JPEG_END = b"\xff\xd9"
_IEND = b"IEND"
# Some writers append a few bytes after the end marker; only the tail is searched.
_END_SEARCH_TAIL = 1024


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


def _bad_png_chunk(data: bytes) -> str | None:
    """The type of the first PNG chunk whose CRC does not match its data (``None``: all match).

    Checked before decoding because libpng reports damaged data on the process's stderr by itself, which would
    add a second line to the one-line error."""
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        end = pos + 8 + length
        stored = data[end : end + 4]
        if len(stored) < 4 or zlib.crc32(data[pos + 4 : end]) != int.from_bytes(stored, "big"):
            return kind.decode("latin-1") if kind.isalpha() else repr(kind)  # a damaged type: its bytes
        if kind == _IEND:
            return None
        pos = end + 4
    return None


def _decode_checked(path: PathLike, start: bytes, end: bytes, kind: str, missing_end: str, corrupt: str) -> np.ndarray:
    """Read ``path`` once, check its start signature and end marker, then decode it unchanged."""
    p = Path(path)
    data = read_file_bytes(p)
    if not data.startswith(start):
        raise DataError(p, f"not a {kind} file (bad signature)")
    if data.rfind(end, max(0, len(data) - _END_SEARCH_TAIL)) < 0:
        raise DataError(p, f"truncated {kind} (no {missing_end} the {len(data)}-byte file)")
    if kind == "PNG" and (chunk := _bad_png_chunk(data)) is not None:
        raise DataError(p, f"corrupt PNG (bad CRC in its {chunk} chunk)")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise DataError(p, f"corrupt {kind} (decoder failed{corrupt})")
    return image


def decode_png(path: PathLike) -> np.ndarray:
    """Decode a PNG exactly as stored (bit depth and channels unchanged; colour order BGR[A])."""
    corrupt = ": bad CRC, bad compressed data or truncated"
    return _decode_checked(path, PNG_SIGNATURE, _IEND, "PNG", "IEND chunk at the end of", corrupt)


def decode_jpeg(path: PathLike) -> np.ndarray:
    """Decode a JPEG (colour order BGR), checking the start and end-of-image markers first."""
    return _decode_checked(path, JPEG_START, JPEG_END, "JPEG", "end-of-image marker in", "")


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


def write_u8_png(path: PathLike, values: np.ndarray, compression: int | None = None) -> Path:
    """Write an HxW array as an 8-bit greyscale PNG (values cast to uint8)."""
    return write_png_bytes(path, np.ascontiguousarray(values, dtype=np.uint8), compression)


def write_u16_png(path: PathLike, values: np.ndarray, compression: int | None = None) -> Path:
    """Write an HxW array as a 16-bit greyscale PNG (values cast to uint16)."""
    return write_png_bytes(path, np.ascontiguousarray(values, dtype=np.uint16), compression)


def read_u16_png(path: PathLike, what: str = "PNG") -> np.ndarray:
    """Decode a 1-channel 16-bit PNG as uint16 HxW; any other bit depth or channel count raises.

    ``what`` names the kind of file in the messages (e.g. ``"depth PNG"``).
    """
    raw = decode_png(path)
    if raw.ndim != 2:
        raise DataError(path, f"{what} has {raw.shape[2]} channels, expected 1 (16-bit grey)")
    if raw.dtype != np.uint16:
        raise DataError(path, f"{raw.dtype.itemsize * 8}-bit PNG where a 16-bit {what} is expected")
    return raw


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


def image_size(path: PathLike) -> tuple[int, int]:
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
