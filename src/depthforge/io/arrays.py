"""Raw float array formats: NumPy ``.npy`` and PFM (portable float map)."""

from __future__ import annotations

import re
from pathlib import Path
from tokenize import TokenError

import numpy as np
from numpy.typing import ArrayLike

from depthforge.errors import DataError
from depthforge.io.png import PathLike, read_file_bytes


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
    """Load a ``.npy`` array as stored (any shape and dtype) without allowing pickles."""
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except (ValueError, OSError, EOFError, SyntaxError, TokenError, TypeError, MemoryError) as exc:
        # numpy parses the header as a Python literal: a damaged header fails in the tokenizer or parser
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise DataError(path, f"unreadable .npy file ({type(exc).__name__}: {first[:120]})") from None


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


_PFM_MAGIC = (b"Pf", b"PF")
_PFM_TOKEN = re.compile(rb"\s*(?:#[^\n]*\n\s*)*([^\s#]+)")  # next header token, skipping '#' comment lines


def _pfm_header(path: Path, raw: bytes) -> tuple[bytes, int, int, float, int]:
    """Parse the PFM header: (magic, width, height, scale, offset of the first data byte)."""
    tokens: list[bytes] = []
    pos = 0
    for _ in range(4):
        m = _PFM_TOKEN.match(raw, pos, min(len(raw), pos + 256))
        if m is None:
            break
        tokens.append(m.group(1))
        pos = m.end()
        if tokens[0] not in _PFM_MAGIC:
            break
    if len(tokens) < 4 or tokens[0] not in _PFM_MAGIC or pos >= len(raw) or not raw[pos : pos + 1].isspace():
        raise DataError(path, "not a PFM file (header must be 'Pf'/'PF', width height, scale)")
    magic, width, height, scale = tokens
    if not (width.isdigit() and height.isdigit()):
        raise DataError(path, f"bad PFM size {width[:20]!r} {height[:20]!r} (expected two integers)")
    try:
        value = float(scale)
    except ValueError:
        raise DataError(path, f"PFM header has an invalid scale {scale[:20]!r}") from None
    return magic, int(width), int(height), value, pos + 1  # one whitespace byte ends the header


def read_pfm(path: PathLike, *, greyscale: bool = False) -> np.ndarray:
    """Read a PFM file as float32, top row first: (H, W) ``Pf`` or (H, W, 3) ``PF``; scale not applied.

    The header is ``Pf``/``PF``, width and height, then the scale, whose sign gives the byte order (negative:
    little-endian). ``#`` comment lines in the header are skipped. The data must hold exactly
    width x height x channels float32 values, stored bottom row first. With ``greyscale=True`` a colour
    ``PF`` file is refused. Every problem raises :class:`DataError` naming the file.
    """
    path = Path(path)
    raw = read_file_bytes(path, "PFM")
    kind, width, height, scale, start = _pfm_header(path, raw)
    channels = 3 if kind == b"PF" else 1
    if greyscale and channels != 1:
        raise DataError(path, "PFM has 3 channels, expected 1 (greyscale 'Pf')")
    count = width * height * channels
    body = raw[start:]
    size = f"{width}x{height}" + ("x3" if channels == 3 else "")
    if len(body) < 4 * count:
        raise DataError(path, f"truncated PFM: {len(body)} data bytes, {4 * count} expected for {size}")
    if len(body) > 4 * count:
        extra = len(body) - 4 * count
        raise DataError(path, f"PFM has {extra} bytes after the {4 * count} data bytes of {size}")
    dtype = "<f4" if scale < 0 else ">f4"
    arr = np.frombuffer(body, dtype=dtype, count=count).astype(np.float32)
    shape = (height, width, 3) if channels == 3 else (height, width)
    return np.ascontiguousarray(np.flipud(arr.reshape(shape)))
