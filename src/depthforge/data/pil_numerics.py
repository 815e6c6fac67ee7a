"""Vectorised re-implementations of the Pillow operations used by the reference colour jitter.

The reference jitters RGB with ``PIL.ImageEnhance`` (Brightness, Contrast, Color) and a hue step that
round-trips the image through PIL's HSV mode. These functions reproduce Pillow's C code bit for bit on
``uint8`` RGB arrays (checked against Pillow in the tests):

* ``Image.blend(a, b, alpha)`` computes ``(UINT8)(a + alpha * (b - a))`` in single precision with ``alpha``
  cast to ``float`` and truncation (clipped to [0, 255] when extrapolating).
* RGB -> L uses ``(19595 R + 38470 G + 7471 B + 0x8000) >> 16``.
* RGB -> HSV -> RGB (``libImaging/Convert.c``) mixes float and double arithmetic and is costly to
  emulate; it is a function of the 24-bit colour, so a table built by Pillow itself is used.

Brightness and contrast are per-value functions, so they are applied with 256-entry lookup tables;
saturation depends on (grey, value) and uses a 65,536-entry table.
"""

from __future__ import annotations

import cv2
import numpy as np

_VALUES = np.arange(256, dtype=np.int32)


def _blend_table(base: np.ndarray, factor: float) -> np.ndarray:
    """``Image.blend(base, x, factor)`` for every ``x`` in 0..255, broadcast against ``base`` (int32)."""
    alpha = np.float32(factor)
    diff = (_VALUES - base).astype(np.float32)
    out = base.astype(np.float32) + alpha * diff
    # C casts float -> UINT8 by truncation; the extrapolating branch clips first.
    return np.clip(np.trunc(out), 0, 255).astype(np.uint8)


def to_grey(rgb: np.ndarray) -> np.ndarray:
    """Pillow's ``convert('L')`` of an HxWx3 uint8 image (ITU-R 601-2 luma, rounded)."""
    r = rgb[..., 0].astype(np.uint32)
    g = rgb[..., 1].astype(np.uint32)
    b = rgb[..., 2].astype(np.uint32)
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)


def adjust_brightness(rgb: np.ndarray, factor: float) -> np.ndarray:
    """``ImageEnhance.Brightness(img).enhance(factor)`` (blend with black)."""
    return cv2.LUT(rgb, _blend_table(np.int32(0), factor))


def adjust_contrast(rgb: np.ndarray, factor: float) -> np.ndarray:
    """``ImageEnhance.Contrast(img).enhance(factor)`` (blend with the rounded mean grey level)."""
    grey = to_grey(rgb)
    # ImageStat's mean is an exact integer sum divided by the count, rounded with int(mean + 0.5).
    mean = int(int(grey.sum(dtype=np.int64)) / grey.size + 0.5)
    return cv2.LUT(rgb, _blend_table(np.int32(mean), factor))


def adjust_saturation(rgb: np.ndarray, factor: float) -> np.ndarray:
    """``ImageEnhance.Color(img).enhance(factor)`` (blend with the grey version of the image)."""
    table = _blend_table(_VALUES[:, None], factor).reshape(-1)  # index: grey * 256 + value
    index = to_grey(rgb).astype(np.int32)[..., None] * 256 + rgb
    return table[index]


_HSV_TABLE: np.ndarray | None = None


def hsv_roundtrip_table() -> np.ndarray:
    """Table of Pillow's RGB -> HSV -> RGB round trip for all 2**24 colours, as packed uint32 RGBX.

    Built once per process by Pillow itself (about 0.6 s, 64 MiB), so the result is exact for the
    installed Pillow. Building it before DataLoader workers fork lets them share the pages.
    """
    global _HSV_TABLE
    if _HSV_TABLE is None:
        from PIL import Image

        code = np.arange(1 << 24, dtype=np.uint32)
        colours = np.empty((1 << 24, 4), dtype=np.uint8)
        colours[:, 0] = code >> 16
        colours[:, 1] = (code >> 8) & 255
        colours[:, 2] = code & 255
        rgb = Image.fromarray(np.ascontiguousarray(colours[:, :3]).reshape(4096, 4096, 3))
        colours[:, :3] = np.asarray(rgb.convert("HSV").convert("RGB")).reshape(-1, 3)
        colours[:, 3] = 0
        _HSV_TABLE = colours.view(np.uint32).reshape(-1)
    return _HSV_TABLE


def hsv_roundtrip(rgb: np.ndarray) -> np.ndarray:
    """``img.convert('HSV').convert('RGB')``: the reference's hue step with factor 0 (slightly lossy)."""
    code = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2]
    packed = hsv_roundtrip_table()[code]
    return packed.view(np.uint8).reshape(*rgb.shape[:2], 4)[..., :3]
