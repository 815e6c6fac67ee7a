"""The reference KITTI transforms (SemAttNet ``train_transform`` / ``val_transform``), made deterministic.

Train, in the reference order:

1. ``flip`` with p = 0.5;
2. colour jitter of the *full* RGB image: brightness, contrast and saturation factors each drawn from
   U[max(0, 1 - j), 1 + j], hue factor 0; the four PIL enhancers run in a random order, and the hue
   step still round-trips RGB -> HSV -> RGB (``jitter_hue_roundtrip=False`` skips it);
3. bottom crop of every modality to ``bottom_crop`` (last rows, columns centred at
   ``int(round((W - w) / 2))`` -- Python's round, i.e. half to even), then the horizontal flip;
4. random crop to ``crop_h x crop_w`` at one offset for all modalities (``random_crop=False`` skips it).

Val: the bottom crop only. Test: nothing.

All randomness comes from the ``numpy.random.Generator`` passed in, drawn in the reference's order
(flip, brightness, contrast, saturation, enhancer order, crop row, crop column), so a sample's
augmentation depends only on that generator's seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from depthforge.batch import IMAGE
from depthforge.data import pil_numerics
from depthforge.errors import ConfigError


@dataclass(frozen=True)
class KittiTransformConfig:
    """Augmentation settings; the defaults are the reference's (``--jitter 0.1``, 320x1216 crop)."""

    crop_h: int = 320
    crop_w: int = 1216
    random_crop: bool = True
    jitter: float = 0.1
    hflip: bool = True
    jitter_hue_roundtrip: bool = True
    bottom_crop: tuple[int, int] = (352, 1216)

    def __post_init__(self) -> None:
        bh, bw = self.bottom_crop
        if min(self.crop_h, self.crop_w, bh, bw) <= 0:
            raise ConfigError(f"crop sizes must be positive, got crop {self.crop_h}x{self.crop_w}, bottom {bh}x{bw}")
        if self.random_crop and (self.crop_h > bh or self.crop_w > bw):
            raise ConfigError(f"random crop {self.crop_h}x{self.crop_w} does not fit in the bottom crop {bh}x{bw}")
        if self.jitter < 0:
            raise ConfigError(f"jitter must be >= 0, got {self.jitter}")


@dataclass(frozen=True)
class AugmentParams:
    """One sample's random draws. ``order`` is a permutation of 0..3 = brightness, contrast, saturation, hue."""

    flip: bool
    brightness: float
    contrast: float
    saturation: float
    order: tuple[int, ...]
    crop_top: int = 0
    crop_left: int = 0


def draw_params(rng: np.random.Generator, cfg: KittiTransformConfig) -> AugmentParams:
    """Draw the train augmentation of one sample, in the reference's order."""
    flip = bool(rng.uniform(0.0, 1.0) < 0.5)
    lo, hi = max(0.0, 1.0 - cfg.jitter), 1.0 + cfg.jitter
    brightness, contrast, saturation = (float(rng.uniform(lo, hi)) for _ in range(3))
    order = tuple(int(k) for k in rng.permutation(4))
    top = left = 0
    if cfg.random_crop:
        bh, bw = cfg.bottom_crop
        top = int(rng.integers(0, bh - cfg.crop_h + 1))
        left = int(rng.integers(0, bw - cfg.crop_w + 1))
    return AugmentParams(flip and cfg.hflip, brightness, contrast, saturation, order, top, left)


def bottom_crop_offsets(height: int, width: int, out_h: int, out_w: int) -> tuple[int, int]:
    """Top-left corner of the reference BottomCrop (``round`` is Python's: half to even)."""
    return height - out_h, int(round((width - out_w) / 2.0))


def bottom_crop(array: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Keep the last ``out_h`` rows and the centred ``out_w`` columns (a view)."""
    top, left = bottom_crop_offsets(array.shape[0], array.shape[1], out_h, out_w)
    return array[top : top + out_h, left : left + out_w]


def color_jitter(rgb: np.ndarray, params: AugmentParams, hue_roundtrip: bool = True) -> np.ndarray:
    """Apply the PIL enhancers in ``params.order`` to a uint8 HxWx3 image (bit-exact with Pillow)."""
    out = rgb
    for step in params.order:
        if step == 0:
            out = pil_numerics.adjust_brightness(out, params.brightness)
        elif step == 1:
            out = pil_numerics.adjust_contrast(out, params.contrast)
        elif step == 2:
            out = pil_numerics.adjust_saturation(out, params.saturation)
        elif hue_roundtrip:
            out = pil_numerics.hsv_roundtrip(out)
    return out


def train_arrays(
    arrays: dict[str, np.ndarray], params: AugmentParams, cfg: KittiTransformConfig
) -> dict[str, np.ndarray]:
    """Train transform of HxW[xC] arrays keyed ``image``, ``semantic``, ``sparse``, ``gt`` (views where possible).

    Only ``image`` is colour-jittered; every key gets the same crops and flip.
    """
    bh, bw = cfg.bottom_crop
    out: dict[str, np.ndarray] = {}
    for key, array in arrays.items():
        if key == IMAGE:
            array = color_jitter(array, params, cfg.jitter_hue_roundtrip)
        array = bottom_crop(array, bh, bw)
        if params.flip:
            array = array[:, ::-1]
        if cfg.random_crop:
            array = array[params.crop_top : params.crop_top + cfg.crop_h, params.crop_left : params.crop_left + cfg.crop_w]
        out[key] = array
    return out


def val_arrays(arrays: dict[str, np.ndarray], cfg: KittiTransformConfig) -> dict[str, np.ndarray]:
    """Val transform: bottom crop only."""
    bh, bw = cfg.bottom_crop
    return {key: bottom_crop(array, bh, bw) for key, array in arrays.items()}


def to_tensor(array: np.ndarray) -> torch.Tensor:
    """HxW or HxWxC array -> float32 CxHxW tensor, values unscaled (the reference's ``ToTensor().float()``)."""
    chw = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    # One pass: the cast and the contiguous copy happen together.
    return torch.from_numpy(np.ascontiguousarray(chw, dtype=np.float32))
