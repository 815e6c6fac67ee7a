"""Tiled inference geometry and blending of PatchRefiner (modes ``m1``, ``m2`` and ``r<N>``).

* A ``h x w`` split cuts an ``H x W`` image into raw tiles of ``(H // h) x (W // w)`` pixels; every tile is
  predicted at the process shape ``P x Q`` (384 x 512) and placed in a *process canvas* of ``(P h) x (Q w)``.
* ``m1``: one regular grid, row-major; the canvas is the mosaic of the tile predictions (no blending).
* ``m2``: ``m1``, then three grids shifted by half a tile (raw ``(0, W'/2)``, ``(H'/2, 0)``, ``(H'/2, W'/2)``;
  process ``(0, Q/2)``, ``(P/2, 0)``, ``(P/2, Q/2)``), as many tiles as fit, each blended into the canvas by a
  running average weighted with a blurred border mask (:func:`blend_mask`); 49 tiles for 4 x 4.
* ``r<N>``: ``m2``, then the canvas is resized to the image size (average nearest, weights bilinear) and
  ``N // process_num`` rounds of ``process_num`` random tiles follow. A round draws ``process_num`` top rows
  and one column shared by all its tiles (the reference's behaviour); predictions are upsampled (nearest) to
  the raw tile size and blended with a raw-size mask (+1e-3). The draws follow Python's
  ``random.Random(seed)`` (``randint``), so the result depends on ``seed`` and ``process_num``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "BLEND_BORDER",
    "FIT_OPTIONS",
    "RunningAverage",
    "Tile",
    "TileConfig",
    "blend_mask",
    "check_tiling",
    "fit_image",
    "grid_tiles",
    "parse_mode",
    "random_tiles",
    "shifted_grids",
    "tile_boxes",
]

BLEND_BORDER = 0.15
"""Fraction of the tile height/width that the blend mask leaves out before blurring (PatchRefiner's value)."""
FIT_OPTIONS = ("error", "pad", "crop")
_MODE = re.compile(r"^(m1|m2|r([1-9][0-9]*))$")


def parse_mode(mode: str) -> tuple[str, int]:
    """``("m1", 0)``, ``("m2", 0)`` or ``("r", N)``; any other string is an error (never a silent ``m1``)."""
    match = _MODE.match(mode) if isinstance(mode, str) else None
    if match is None:
        raise ValueError(f"unknown tiling mode {mode!r}: use 'm1', 'm2' or 'r<N>' with N >= 1 (e.g. 'r32')")
    if match.group(2) is not None:
        return "r", int(match.group(2))
    return mode, 0


@dataclass(frozen=True)
class TileConfig:
    """Raw and process geometry of one tiled prediction."""

    image_shape: tuple[int, int]
    """Raw image height and width."""
    split: tuple[int, int]
    """Tiles per column and per row of the regular grid."""
    process_shape: tuple[int, int] = (384, 512)
    """Size each tile is resized to for the network."""

    @property
    def tile_shape(self) -> tuple[int, int]:
        return self.image_shape[0] // self.split[0], self.image_shape[1] // self.split[1]

    @property
    def canvas_shape(self) -> tuple[int, int]:
        return self.process_shape[0] * self.split[0], self.process_shape[1] * self.split[1]


@dataclass(frozen=True)
class Tile:
    """One tile: raw top-left corner and top-left corner in the process canvas (``-1``: not on the canvas)."""

    raw_y: int
    raw_x: int
    canvas_y: int = -1
    canvas_x: int = -1


def _multiple(mode: str) -> int:
    # half-tile shifts must be whole pixels in the raw image
    return 1 if mode == "m1" else 2


def check_tiling(mode: str, patch_split_num: Any, fit: str = "error") -> str:
    """The mode's kind (``m1``, ``m2``, ``r``) after checking the mode, the split and the fit option.

    ``patch_split_num`` must be two positive integers (a tuple, a list or an array; not booleans).
    """
    if fit not in FIT_OPTIONS:
        raise ValueError(f"unknown fit option {fit!r}: use one of {', '.join(FIT_OPTIONS)}")
    kind, _ = parse_mode(mode)
    split: tuple[object, ...] = ()
    if not isinstance(patch_split_num, str):
        try:
            split = tuple(patch_split_num)
        except TypeError:
            pass
    if len(split) != 2 or not all(isinstance(n, Integral) and not isinstance(n, bool) and int(n) >= 1
                                  for n in split):
        raise ValueError(f"patch_split_num must be two positive integers, got {patch_split_num!r}")
    return kind


def fit_image(
    image_shape: tuple[int, int], split: tuple[int, int], mode: str, fit: str = "error"
) -> tuple[int, int]:
    """The size the image is padded or cropped to so that the tiling divides it (``fit``: error, pad, crop).

    ``m1`` needs ``H % h == 0`` and ``W % w == 0``; ``m2`` and ``r<N>`` need multiples of ``2h`` and ``2w``
    (half-tile shifts). With ``fit="error"`` a size that does not divide raises with a message that names the
    ``pad`` option, and ``crop`` when the cropped region is not empty; rows and columns are never dropped
    silently.
    """
    k = _multiple(check_tiling(mode, split, fit))
    height, width = image_shape
    mh, mw = k * split[0], k * split[1]
    if height % mh == 0 and width % mw == 0:
        return height, width
    padded = (-(-height // mh) * mh, -(-width // mw) * mw)
    cropped = (height // mh * mh, width // mw * mw)
    if fit == "error":
        crop = (  # offered only when something is left to crop to
            f" or fit='crop' to use the top-left {cropped[0]}x{cropped[1]} region" if min(cropped) > 0 else ""
        )
        raise ValueError(
            f"image size {height}x{width} is not divisible by the tiling: mode {mode!r} with patch_split_num "
            f"{tuple(split)} needs multiples of {mh}x{mw}; pass fit='pad' to pad the bottom/right edges to "
            f"{padded[0]}x{padded[1]} (depth is returned at the original size){crop}"
        )
    target = padded if fit == "pad" else cropped
    if min(target) < 1 or target[0] < split[0] or target[1] < split[1]:
        raise ValueError(f"image size {height}x{width} is too small for patch_split_num {tuple(split)}")
    return target


def grid_tiles(cfg: TileConfig, raw_offset: tuple[int, int], canvas_offset: tuple[int, int]) -> list[Tile]:
    """The tiles of one regular grid, row-major, as many as fit after the offsets (raw and canvas)."""
    th, tw = cfg.tile_shape
    ph, pw = cfg.process_shape
    rows = (cfg.image_shape[0] - raw_offset[0]) // th
    cols = (cfg.image_shape[1] - raw_offset[1]) // tw
    canvas_rows = (cfg.canvas_shape[0] - canvas_offset[0]) // ph
    canvas_cols = (cfg.canvas_shape[1] - canvas_offset[1]) // pw
    if (rows, cols) != (canvas_rows, canvas_cols):
        raise ValueError(
            f"raw grid {rows}x{cols} and canvas grid {canvas_rows}x{canvas_cols} disagree for image "
            f"{cfg.image_shape} split {cfg.split}"
        )
    return [
        Tile(
            raw_offset[0] + i * th,
            raw_offset[1] + j * tw,
            canvas_offset[0] + i * ph,
            canvas_offset[1] + j * pw,
        )
        for i in range(rows)
        for j in range(cols)
    ]


def shifted_grids(cfg: TileConfig) -> list[list[Tile]]:
    """The three half-tile-shifted grids of ``m2``, in the reference's order."""
    th, tw = cfg.tile_shape
    ph, pw = cfg.process_shape
    shifts = (
        ((0, tw // 2), (0, pw // 2)),
        ((th // 2, 0), (ph // 2, 0)),
        ((th // 2, tw // 2), (ph // 2, pw // 2)),
    )
    return [grid_tiles(cfg, raw, canvas) for raw, canvas in shifts]


def random_tiles(rng: random.Random, cfg: TileConfig, process_num: int) -> list[Tile]:
    """One ``r<N>`` round: ``process_num`` random top rows, then one column shared by the whole round."""
    th, tw = cfg.tile_shape
    height, width = cfg.image_shape
    if height - th - 1 < 0 or width - tw - 1 < 0:
        raise ValueError(
            f"random tiles need an image larger than one tile; got {cfg.image_shape} split {cfg.split}"
        )
    tops = [rng.randint(0, height - th - 1) for _ in range(process_num)]
    left = rng.randint(0, width - tw - 1)
    return [Tile(top, left) for top in tops]


def tile_boxes(tiles: Sequence[Tile], cfg: TileConfig) -> torch.Tensor:
    """Boxes ``(x1, y1, x2, y2)`` of the tiles in the coarse (process-shape) frame, float32.

    Integer raw corners times a float32 scale ``process / raw``, as the reference computes them.
    """
    th, tw = cfg.tile_shape
    raw = torch.tensor([[t.raw_x, t.raw_y, t.raw_x + tw, t.raw_y + th] for t in tiles], dtype=torch.int32)
    ph, pw = cfg.process_shape
    height, width = cfg.image_shape
    scale = torch.tensor(
        [1 / width * pw, 1 / height * ph, 1 / width * pw, 1 / height * ph], dtype=torch.float32
    )
    return raw * scale.unsqueeze(0)


def blend_mask(height: int, width: int, border: float = BLEND_BORDER) -> torch.Tensor:
    """PatchRefiner's tile weight: ones inside a ``border`` margin, blurred, min-max scaled to [0, 1].

    OpenCV Gaussian blur (float32, default reflect-101 border) with sigma ``int(height / 16)`` and kernel
    ``2 * ceil(2 * sigma) + 1``; the outermost pixels get weight 0. Float32, ``height x width``. A tile too
    small to have a margin gets uniform weights.
    """
    mask = np.zeros((height, width), dtype=np.float32)
    bh, bw = int(border * height), int(border * width)
    mask[bh : height - bh, bw : width - bw] = 1.0
    sigma = int(height / 16)
    ksize = int(2 * np.ceil(2 * sigma) + 1)
    mask = cv2.GaussianBlur(mask, (ksize, ksize), sigma)
    lo, hi = mask.min(), mask.max()
    if hi <= lo:
        return torch.ones(height, width, dtype=torch.float32)
    return torch.from_numpy(((mask - lo) / (hi - lo)).astype(np.float32))


class RunningAverage:
    """The canvas of a tiled prediction: weighted running average of the tiles (float32, one image).

    Starts from the ``m1`` mosaic with the tiled blend masks as weights; :meth:`update` blends one tile where
    its weight is positive: ``avg <- (pred w + count avg) / (count + w)``, ``count <- count + w``.
    """

    def __init__(self, mosaic: torch.Tensor, weights: torch.Tensor) -> None:
        self.average = mosaic
        self.count = weights

    def update(self, pred: torch.Tensor, weight: torch.Tensor, top: int, left: int) -> None:
        """Blend ``pred`` (h x w) with ``weight`` (h x w) into the region whose top-left corner is given."""
        h, w = pred.shape[-2:]
        avg = self.average[top : top + h, left : left + w]
        cnt = self.count[top : top + h, left : left + w]
        pred = pred.to(avg.dtype)
        weight = weight.to(avg.dtype)
        on = weight > 0
        blended = (pred * weight + cnt * avg) / (cnt + weight)
        avg.copy_(torch.where(on, blended, avg))
        cnt.copy_(torch.where(on, cnt + weight, cnt))

    def resize(self, shape: tuple[int, int]) -> None:
        """Resample to ``shape``: the average nearest, the weights bilinear (``align_corners=True``)."""
        self.average = F.interpolate(self.average[None, None], size=shape)[0, 0]
        self.count = F.interpolate(self.count[None, None], size=shape, mode="bilinear", align_corners=True)[
            0, 0
        ]
