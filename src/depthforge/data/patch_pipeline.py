"""PatchRefiner's training pipeline, shared by the UnrealStereo4K and CityScapes datasets.

The reference's order of operations: rotation about the centre (image bilinear, depth nearest, as PIL),
colour (gamma, brightness, per-channel gains), flip, ``image_lr`` (the whole image resized to the process
shape, bilinear, ``align_corners=True``), one random crop resized to the process shape, its ground truth at
raw resolution and its box in ``image_lr`` pixels. Every draw comes from the sample's keyed generator.

Two implementations give the same items bit for bit: :func:`whole_frame_train_item` runs the steps on the whole
frame (the reference's cost), :func:`fast_train_item` evaluates them only at the pixels an item reads: the crop,
and the source pixels the resize to the process shape touches.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from depthforge.batch import BOXES, GT, IMAGE, IMAGE_LR
from depthforge.data.samples import keyed_generator
from depthforge.errors import ConfigError, DataError
from depthforge.io import PathLike

PROCESS_SHAPE = (384, 512)
PATCH_SPLIT_NUM = (4, 4)
_FAST_MAX_DEGREE = 45.0  # beyond this PIL may take other code paths (transposes); use whole frames


@dataclass(frozen=True)
class PatchDraws:
    """The random numbers of one training item, drawn in the reference's order.

    rotation angle, colour gate, gamma, brightness, three channel gains, flip gate, crop top, crop left.
    Every number is always drawn, so the draws of one item never depend on the branches taken.
    """

    angle: float
    color: bool
    gamma: float
    brightness: float
    gains: tuple[float, float, float]
    flip: bool
    top: int
    left: int


def draw_patch(rng: np.random.Generator, *, degree: float, color_prob: float, flip_prob: float,
               raw_hw: tuple[int, int], crop_hw: tuple[int, int]) -> PatchDraws:
    """Draw one item's augmentation: angle = (u - 0.5) * 2 * degree, gates ``u < p``, integer crop corner."""
    angle = (float(rng.random()) - 0.5) * 2.0 * float(degree)
    color = float(rng.random()) < color_prob
    gamma = float(rng.uniform(0.9, 1.1))
    brightness = float(rng.uniform(0.9, 1.1))
    g = rng.uniform(0.9, 1.1, size=3)
    flip = float(rng.random()) < flip_prob
    top = int(rng.integers(0, raw_hw[0] - crop_hw[0] + 1))
    left = int(rng.integers(0, raw_hw[1] - crop_hw[1] + 1))
    return PatchDraws(angle, color, gamma, brightness, (float(g[0]), float(g[1]), float(g[2])), flip, top, left)


def rotation_matrix(angle: float, width: int, height: int) -> tuple[float, ...] | None:
    """The inverse affine map ``Image.rotate(angle)`` hands to PIL's transform, computed as PIL does.

    None when PIL returns an unchanged copy (the angle is a multiple of 360 degrees).
    """
    angle = angle % 360.0
    if angle == 0:
        return None
    theta = -math.radians(angle)
    a, b = round(math.cos(theta), 15), round(math.sin(theta), 15)
    d, e = round(-math.sin(theta), 15), round(math.cos(theta), 15)
    cx, cy = width / 2, height / 2
    c = a * -cx + b * -cy + 0.0 + cx
    f = d * -cx + e * -cy + 0.0 + cy
    return (a, b, c, d, e, f)


def pack_pixels(src: np.ndarray) -> np.ndarray:
    """A uint8 HxWx3 frame (or memory map) as uint32 HxW, one pixel per word (4th byte 0), for fast gathers."""
    import cv2

    packed = cv2.cvtColor(np.ascontiguousarray(src), cv2.COLOR_RGB2RGBA)  # appends a 4th byte, order unchanged
    return packed.view(np.uint32)[..., 0]


def rotate_bilinear_at(src: np.ndarray, m: tuple[float, ...], rows: np.ndarray, cols: np.ndarray,
                       packed: np.ndarray | None = None) -> np.ndarray:
    """PIL's bilinear ``rotate`` of a uint8 HxWx3 image, evaluated only at the output pixels ``rows`` x ``cols``.

    ``rows`` and ``cols`` are 1-D; the result is uint8 3 x R x C, channels first. It repeats libImaging's
    generic affine transform in double precision (centre-of-pixel mapping, clamped neighbours, truncation
    to uint8, zero outside the source), so it equals the whole-frame rotation at those pixels. ``packed``
    is :func:`pack_pixels` of ``src`` (made here when not given). Rows are processed in cache-sized
    blocks; blocks that map well inside the source skip the clamping and the outside test.
    """
    h, w, nc = src.shape
    if nc != 3:
        raise ValueError(f"expected an HxWx3 image, got shape {src.shape}")
    words = (pack_pixels(src) if packed is None else packed).reshape(-1)
    rows, cols = np.asarray(rows).ravel(), np.asarray(cols).ravel()
    x_centre, y_centre = cols.astype(np.float64) + 0.5, rows.astype(np.float64) + 0.5
    # C evaluates a0 * x + a1 * y + a2 left to right; the two products are the same per column / row.
    x_by_col, y_by_col = m[0] * x_centre, m[3] * x_centre
    x_by_row, y_by_row = m[1] * y_centre, m[4] * y_centre
    out = np.empty((len(rows), len(cols), 4), dtype=np.uint8)
    step = max(1, _BLOCK // max(len(cols), 1))
    for r in range(0, len(rows), step):
        xin = x_by_col + x_by_row[r:r + step, None]
        xin += m[2]
        yin = y_by_col + y_by_row[r:r + step, None]
        yin += m[5]
        interior = xin.min() >= 1.0 and xin.max() < w - 1 and yin.min() >= 1.0 and yin.max() < h - 1
        outside = None if interior else ~((xin >= 0.0) & (xin < w) & (yin >= 0.0) & (yin < h))
        xin -= 0.5
        yin -= 0.5
        xf, yf = np.floor(xin), np.floor(yin)
        xin -= xf  # now the weights dx, dy
        yin -= yf
        if interior:  # every neighbour lies inside the source: no clamping
            i00 = yf * w
            i00 += xf
            i00 = i00.astype(np.int32)
            i01 = i00 + 1
            i10 = i00 + w
            i11 = i10 + 1
        else:
            x0, y0 = xf.astype(np.int32), yf.astype(np.int32)
            x1, y1 = x0 + 1, y0 + 1
            for v, top in ((x0, w - 1), (x1, w - 1), (y0, h - 1), (y1, h - 1)):  # clamp (outside pixels too)
                np.maximum(v, 0, out=v)
                np.minimum(v, top, out=v)
            y0 *= w
            y1 *= w
            i00, i01, i10, i11 = y0 + x0, y0 + x1, y1 + x0, y1 + x1
        # All four bytes of each pixel word are interpolated: contiguous arrays, one weight per byte.
        p00, p01, p10, p11 = (words.take(i.ravel()).view(np.uint8).astype(np.float64) for i in (i00, i01, i10, i11))
        dx, dy = np.repeat(xin.ravel(), 4), np.repeat(yin.ravel(), 4)
        p01 -= p00  # upper row: p00 + (p01 - p00) * dx
        p01 *= dx
        p01 += p00
        p11 -= p10  # lower row
        p11 *= dx
        p11 += p10
        p11 -= p01  # between the rows: upper + (lower - upper) * dy
        p11 *= dy
        p11 += p01
        block = p11.astype(np.uint8).reshape(-1, len(cols), 4)  # C's (UINT8) cast: truncation
        if outside is not None and outside.any():
            block[outside] = 0
        out[r:r + step] = block
    return out[..., :nc].transpose(2, 0, 1)


_BLOCK = 4096  # pixels per block of rotate_bilinear_at: its float64 temporaries stay in cache


@functools.cache
def rotation_matches_pil() -> bool:
    """Whether :func:`rotate_bilinear_at` and :func:`nearest_source` reproduce the installed PIL exactly.

    Checked once per process on a small random frame; where they do not (a PIL built with fused
    multiply-adds, say), the datasets rotate whole frames with PIL instead.
    """
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (23, 37, 3), dtype=np.uint8)
    depth = rng.random((23, 37), dtype=np.float32)
    ys, xs = np.mgrid[0:23, 0:37]
    for angle in (0.37, -0.81, 7.3):
        m = rotation_matrix(angle, 37, 23)
        expected = pil_rotate(image, angle, nearest=False).transpose(2, 0, 1)
        found = nearest_source(m, ys, xs, 23, 37)
        if found is None or not np.array_equal(rotate_bilinear_at(image, m, np.arange(23), np.arange(37)),
                                               expected):
            return False
        row, col, inside = found
        if not np.array_equal(np.where(inside, depth[row, col], 0), pil_rotate(depth, angle, nearest=True)):
            return False
    return True


def _fixed(v: float) -> int:
    return math.floor(v * 65536.0 + 0.5)


def nearest_source(m: tuple[float, ...], ys: np.ndarray, xs: np.ndarray, height: int,
                   width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Source (row, column, inside) of PIL's nearest ``rotate`` at output pixels ``(ys, xs)``.

    PIL rotates with nearest neighbours in 16.16 fixed point, which these integers repeat exactly;
    None when PIL would not use fixed point (a frame over 32768 pixels), and callers then rotate the
    whole frame with PIL.
    """
    for x, y in ((0, 0), (width, height), (0, height), (width, 0)):
        if not (abs(x * m[0] + y * m[1] + m[2]) < 32768.0 and abs(x * m[3] + y * m[4] + m[5]) < 32768.0):
            return None
    if m[1] == 0 and m[3] == 0:
        return None  # PIL's scaling path
    a0, a1, a3, a4 = _fixed(m[0]), _fixed(m[1]), _fixed(m[3]), _fixed(m[4])
    a2 = _fixed(m[2] + m[0] * 0.5 + m[1] * 0.5)
    a5 = _fixed(m[5] + m[3] * 0.5 + m[4] * 0.5)
    y64, x64 = ys.astype(np.int64), xs.astype(np.int64)
    col = a2 + y64 * a1 + x64 * a0
    col >>= 16
    row = a5 + y64 * a4 + x64 * a3
    row >>= 16
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    for v, top in ((row, height - 1), (col, width - 1)):
        np.maximum(v, 0, out=v)
        np.minimum(v, top, out=v)
    return row, col, inside


def pil_rotate(array: np.ndarray, angle: float, nearest: bool) -> np.ndarray:
    """The whole-frame rotation as the reference does it: PIL, same canvas, zero fill."""
    from PIL import Image

    resample = Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(array).rotate(angle, resample=resample)).copy()


def _jitter(image: np.ndarray, draws: PatchDraws, gains: np.ndarray) -> np.ndarray:
    out = image ** draws.gamma
    out = out * draws.brightness
    out *= gains  # float64 gains, float32 result, as the reference
    return out


def color_augment(image: np.ndarray, draws: PatchDraws) -> np.ndarray:
    """The reference's colour step on float32 HxWx3 in [0, 1]: gamma, brightness, channel gains, clip."""
    return np.clip(_jitter(image, draws, np.asarray(draws.gains, dtype=np.float64)), 0, 1)


def to_unit_float(pixels: np.ndarray, bgr: bool) -> np.ndarray:
    """uint8 HxWx3 -> float32 RGB in [0, 1] (contiguous), as the reference converts it."""
    rgb = pixels.astype(np.float32)
    if bgr:
        rgb = rgb[..., ::-1]
    return np.ascontiguousarray(rgb) / 255.0


def resize_bilinear(image: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """3xHxW -> 3 x shape: bilinear, align_corners=True, no antialias (the reference's network resize)."""
    return F.interpolate(image[None], size=tuple(shape), mode="bilinear", align_corners=True)[0]


def resize_support(size: int, out: int) -> np.ndarray:
    """Sorted source indices an align-corners bilinear resize from ``size`` to ``out`` reads.

    The positions are computed both in single precision (as torch's CPU kernel does) and in double, and
    the union of their two neighbours is returned.
    """
    if out <= 1:
        return np.array([0, min(1, size - 1)], dtype=np.int64)
    i = np.arange(out)
    scale32 = np.float32(size - 1) / np.float32(out - 1)
    pos32 = (scale32 * i.astype(np.float32)).astype(np.float64)
    pos64 = (size - 1) / (out - 1) * i.astype(np.float64)
    idx = np.concatenate([np.floor(pos32), np.floor(pos64)]).astype(np.int64)
    idx = np.clip(np.concatenate([idx, idx + 1]), 0, size - 1)
    return np.unique(idx)


def resize_from_support(values: np.ndarray, rows: np.ndarray, cols: np.ndarray, raw_hw: tuple[int, int],
                        shape: tuple[int, int]) -> torch.Tensor:
    """:func:`resize_bilinear` of a whole frame known only at ``rows`` x ``cols`` (values: 3 x R x C).

    The pixels are placed into a frame of the full size, so that torch computes exactly the same positions
    and weights as for the whole frame and reads only the pixels it was given. The frame's memory is kept
    between calls (one frame per process: 100 MB at 2160x3840); what earlier items left in it is never read.
    """
    h, w = raw_hw
    frame = _FRAME_BUFFER.get((h, w))
    if frame is None:
        _FRAME_BUFFER.clear()
        frame = _FRAME_BUFFER[(h, w)] = np.empty((3, h * w), dtype=np.float32)
    # The positions torch reads depend only on the sizes: the first use of each pair of sizes checks,
    # on a frame of NaNs, that the support covers them all.
    check = (h, w, *shape) not in _CHECKED_SIZES
    if check:
        frame.fill(np.nan)
    frame[:, _flat_index(rows, cols, w)] = values.reshape(3, -1)
    out = resize_bilinear(torch.from_numpy(frame).view(3, h, w), shape)
    if check:
        if torch.isnan(out).any() and not np.isnan(values).any():
            raise RuntimeError(f"resize support of {h}x{w} -> {shape[0]}x{shape[1]} misses pixels torch reads")
        _CHECKED_SIZES.add((h, w, *shape))
    return out


_FRAME_BUFFER: dict[tuple[int, int], np.ndarray] = {}
_CHECKED_SIZES: set[tuple[int, ...]] = set()


def _flat_index(rows: np.ndarray, cols: np.ndarray, width: int) -> np.ndarray:
    key = (rows.tobytes(), cols.tobytes(), width)
    if _FLAT_INDEX[0] != key:
        _FLAT_INDEX[:] = [key, (rows[:, None] * width + cols[None, :]).ravel()]
    return _FLAT_INDEX[1]


_FLAT_INDEX: list[Any] = [None, None]  # the last (rows, columns, width) and their flat frame indices


def crop_boxes(draws: PatchDraws, raw_hw: tuple[int, int], crop_hw: tuple[int, int],
               shape: tuple[int, int]) -> torch.Tensor:
    """The crop's ``(x1, y1, x2, y2)`` in process-shape pixels, float32 (4,)."""
    (h, w), (ch, cw), (ph, pw) = raw_hw, crop_hw, shape
    return torch.tensor([draws.left / w * pw, draws.top / h * ph, (draws.left + cw) / w * pw,
                         (draws.top + ch) / h * ph], dtype=torch.float32)


def default_crop(raw_hw: tuple[int, int], split_num: tuple[int, int]) -> tuple[int, int]:
    """The patch size: raw shape / patch_split_num (floored)."""
    return raw_hw[0] // split_num[0], raw_hw[1] // split_num[1]


def gather_augmented(source: np.ndarray, draws: PatchDraws, rows: np.ndarray, cols: np.ndarray,
                     matrix: tuple[float, ...] | None, bgr: bool, packed: np.ndarray | None = None) -> np.ndarray:
    """Float32 3 x R x C RGB pixels of the augmented frame (rotated, converted, colour-jittered, flipped)
    at final rows ``rows`` and columns ``cols``, reading only the source pixels they need.

    Every step after the rotation is elementwise, so these are the whole-frame pipeline's values.
    """
    width = source.shape[1]
    src_cols = width - 1 - cols if draws.flip else cols
    if matrix is None:
        r0, r1 = int(rows[0]), int(rows[-1]) + 1
        block = source[r0:r1] if r1 - r0 == len(rows) else source[rows]
        c0, c1 = int(src_cols.min()), int(src_cols.max()) + 1
        if c1 - c0 == len(src_cols):  # a contiguous range: slice (reversed under a flip)
            pixels = block[:, c0:c1] if not draws.flip else block[:, c0:c1][:, ::-1]
        else:
            pixels = block[:, src_cols]
        planes = np.asarray(pixels).transpose(2, 0, 1)
    else:
        planes = rotate_bilinear_at(source, matrix, rows, src_cols, packed)
    image = planes.astype(np.float32)
    if bgr:
        image = image[::-1]
    image = np.ascontiguousarray(image) / 255.0
    if draws.color:
        gains = np.asarray(draws.gains, dtype=np.float64)[:, None, None]
        image = np.clip(_jitter(image, draws, gains), 0, 1)
    return image


def gather_rotated_depth(depth_source: np.ndarray, draws: PatchDraws, rows: np.ndarray, cols: np.ndarray,
                         matrix: tuple[float, ...] | None,
                         convert: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray | None:
    """The rotated (nearest, zero fill) and flipped map at final ``rows`` x ``cols``; None when PIL
    would not rotate in fixed point. ``convert`` maps gathered source values to the map's values
    (e.g. disparity -> depth) before the zero fill."""
    height, width = depth_source.shape
    src_cols = width - 1 - cols if draws.flip else cols
    if matrix is None:
        r0, r1 = int(rows[0]), int(rows[-1]) + 1
        block = np.asarray(depth_source[r0:r1])
        values = block[:, src_cols]
        return values if convert is None else convert(values)
    found = nearest_source(matrix, rows[:, None], src_cols[None, :], height, width)
    if found is None:
        return None
    row, col, inside = found
    values = np.asarray(depth_source[row, col])
    if convert is not None:
        values = convert(values)
    values[~inside] = 0
    return values


class KeyedDataset(Dataset):
    """Base of the PatchRefiner datasets: keys and per-sample generators as the KITTI dataset has them.

    ``ds[i]`` seeds the augmentation with ``(seed, i)``; ``ds[(i, sample_seed)]`` with ``sample_seed``
    (the engine passes one derived from (seed, epoch, i)), so items do not depend on workers or resumes.
    """

    seed: int
    samples: Sequence[Any]

    def __len__(self) -> int:
        return len(self.samples)

    def generator(self, key: int | tuple[int, Any]) -> tuple[int, np.random.Generator]:
        """Resolve a key into (index, the sample's augmentation generator)."""
        return keyed_generator(key, len(self.samples), self.seed)


def check_pair(value: Any, name: str, allow_zero: bool = False) -> None:
    """A ConfigError unless ``value`` is two positive ints."""
    low = 0 if allow_zero else 1
    if len(value) != 2 or not all(isinstance(v, int) and v >= low for v in value):
        raise ConfigError(f"{name} must be two integers >= {low}, got {list(value)}")


@dataclass(frozen=True)
class PatchRefinerDataOptions:
    """Augmentation and shape options the PatchRefiner datasets share."""

    min_depth: float = 1e-3
    """Smallest valid depth in metres (the evaluation and loss range)."""
    max_depth: float = 80.0
    """Largest valid depth in metres."""
    degree: float = 1.0
    """Random rotation in [-degree, degree) degrees (0 turns it off)."""
    color_aug_prob: float = 0.5
    """Probability of the gamma / brightness / channel-gain colour step."""
    flip_prob: float = 0.5
    """Probability of a horizontal flip."""
    process_shape: tuple[int, int] = PROCESS_SHAPE
    """(H, W) the network sees: ``image_lr`` and the crops are resized to it."""
    patch_split_num: tuple[int, int] = PATCH_SPLIT_NUM
    """The default crop is the raw shape divided by these (rows, columns)."""
    crop_size: tuple[int, int] | None = None
    """(H, W) of the random crop at raw resolution; None: raw shape / patch_split_num."""
    sample: Literal["crop", "whole"] = "crop"
    """crop: a random patch (PatchRefiner); whole: the whole image resized (coarse pre-training)."""
    whole_frame: bool = False
    """Augment whole frames as the reference does (slow; same items as the default fast path)."""

    def __post_init__(self) -> None:
        check_pair(self.process_shape, "process_shape")
        check_pair(self.patch_split_num, "patch_split_num")
        if self.crop_size is not None:
            check_pair(self.crop_size, "crop_size")
        for name in ("color_aug_prob", "flip_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.degree < 0:
            raise ConfigError(f"degree must be >= 0, got {self.degree}")
        if not 0 <= self.min_depth < self.max_depth:
            raise ConfigError(f"need 0 <= min_depth < max_depth, got {self.min_depth} and {self.max_depth}")

    def crop_for(self, raw_hw: tuple[int, int], where: PathLike) -> tuple[int, int]:
        """The crop (H, W) for frames of ``raw_hw``; a DataError when it does not fit."""
        crop = tuple(self.crop_size) if self.crop_size is not None else default_crop(raw_hw, self.patch_split_num)
        if not (1 <= crop[0] <= raw_hw[0] and 1 <= crop[1] <= raw_hw[1]):
            raise DataError(where, f"crop {crop[0]}x{crop[1]} does not fit the {raw_hw[0]}x{raw_hw[1]} frames")
        return int(crop[0]), int(crop[1])

    @property
    def use_fast_path(self) -> bool:
        return not self.whole_frame and self.degree < _FAST_MAX_DEGREE


def whole_frame_train_item(image_u8: np.ndarray, depth: np.ndarray, draws: PatchDraws, bgr: bool,
                           options: PatchRefinerDataOptions, crop_hw: tuple[int, int]) -> dict[str, Any]:
    """The reference's training transform on whole frames (rotate, convert, colour, flip, resize, crop)."""
    if rotation_matrix(draws.angle, image_u8.shape[1], image_u8.shape[0]) is not None:
        image_u8 = pil_rotate(image_u8, draws.angle, nearest=False)
        depth = pil_rotate(depth, draws.angle, nearest=True)
    image = to_unit_float(image_u8, bgr)
    if draws.color:
        image = color_augment(image, draws)
    if draws.flip:
        image, depth = image[:, ::-1].copy(), depth[:, ::-1].copy()
    frame = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
    shape = tuple(options.process_shape)
    if options.sample == "whole":
        return {IMAGE: resize_bilinear(frame, shape), GT: torch.from_numpy(np.ascontiguousarray(depth))[None]}
    (ch, cw), t, left = crop_hw, draws.top, draws.left
    crop = frame[:, t:t + ch, left:left + cw].contiguous()
    return {IMAGE: resize_bilinear(crop, shape), IMAGE_LR: resize_bilinear(frame, shape),
            GT: torch.from_numpy(np.ascontiguousarray(depth[t:t + ch, left:left + cw]))[None],
            BOXES: crop_boxes(draws, depth.shape, crop_hw, shape)}


def fast_train_item(source: np.ndarray, depth_source: np.ndarray, to_depth: Callable[[np.ndarray], np.ndarray] | None,
                    whole_depth: Callable[[], np.ndarray], draws: PatchDraws, bgr: bool,
                    options: PatchRefinerDataOptions, crop_hw: tuple[int, int]) -> dict[str, Any] | None:
    """:func:`whole_frame_train_item`'s item computed from the pixels it needs only; None where that is not
    exact (the caller then uses the whole-frame path).

    ``source`` is the uint8 HxWx3 frame (possibly a memory map), ``depth_source`` the map that gives the
    depth through ``to_depth`` (disparity for UnrealStereo4K, or depth itself), ``whole_depth`` the
    unrotated depth of the whole frame (for ``sample: whole``).
    """
    h, w = source.shape[:2]
    shape = tuple(options.process_shape)
    m = rotation_matrix(draws.angle, w, h)
    if m is not None and not rotation_matches_pil():
        return None
    packed = None if m is None else pack_pixels(source)  # one pass over the frame speeds up the gathers
    rows_lr, cols_lr = resize_support(h, shape[0]), resize_support(w, shape[1])
    lr = resize_from_support(gather_augmented(source, draws, rows_lr, cols_lr, m, bgr, packed), rows_lr, cols_lr,
                             (h, w), shape)
    if options.sample == "whole":
        depth = whole_depth()
        if m is not None:
            depth = pil_rotate(depth, draws.angle, nearest=True)
        if draws.flip:
            depth = depth[:, ::-1].copy()
        return {IMAGE: lr, GT: torch.from_numpy(np.ascontiguousarray(depth))[None]}
    (ch, cw), t, left = crop_hw, draws.top, draws.left
    rows, cols = np.arange(t, t + ch), np.arange(left, left + cw)
    gt = gather_rotated_depth(depth_source, draws, rows, cols, m, to_depth)
    if gt is None:
        return None
    crop = gather_augmented(source, draws, rows, cols, m, bgr, packed)
    image = resize_bilinear(torch.from_numpy(crop), shape)
    return {IMAGE: image, IMAGE_LR: lr, GT: torch.from_numpy(np.ascontiguousarray(gt, dtype=np.float32))[None],
            BOXES: crop_boxes(draws, (h, w), crop_hw, shape)}


def split_path(root: PathLike, path: str) -> Path:
    """A split file option: relative to ``root`` unless absolute."""
    p = Path(path)
    return p if p.is_absolute() else Path(root) / p
