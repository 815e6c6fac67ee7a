"""Edge detectors used by the boundary metrics (MDEC ``extract_edges`` and the CityScapes protocol).

The detectors are library-version sensitive. Depth edges are scikit-image 0.26.0 ``feature.canny``, here
re-implemented pixel-exactly (:func:`canny_exact`, checked against the library in
``tests/metrics/test_edges_exact.py``) because two Canny calls per frame dominate the boundary metrics;
segmentation and RGB edges call kornia 0.9.0 ``filters.canny`` / ``filters.spatial_gradient`` directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Literal

import cv2
import kornia
import numpy as np
import numpy.typing as npt
import torch
from skimage.feature import canny

from depthforge.errors import DataError
from depthforge.metrics._arrays import ArrayLike, as_color, as_image


def log_depth(depth: np.ndarray) -> np.ndarray:
    """``(d > 0) * ln(max(d, eps))``, eps the machine epsilon of the dtype (torch's log, as the reference).

    Only the logarithm runs in torch (its values are torch's); the clamp and the mask are exact operations,
    done in numpy without torch's thread hand-off.
    """
    d = np.ascontiguousarray(depth)
    if d.dtype.kind != "f":  # integer maps become float32, as torch's ``.float()``
        d = d.astype(np.float32)
    eps = np.finfo(d.dtype).eps
    logged = torch.from_numpy(np.maximum(d, d.dtype.type(eps))).log_().numpy()
    logged *= d > 0
    return logged


def extract_edges(
    depth: ArrayLike, preprocess: Literal["log", "inv", "none"] = "log", sigma: float = 1.0,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean depth edges: scikit-image Canny (default thresholds 0.1/0.2, absolute) on log depth.

    ``preprocess='log'`` is what MDEC (protocol ``mdec``) and PatchRefiner (``cityscapes-pr``) use;
    ``'inv'`` uses disparity normalised to [0, 1]; ``'none'`` runs on the raw map.
    Non-positive depths map to 0 before the log.
    """
    d = as_image(depth, "depth")
    if preprocess == "log":
        x = log_depth(d)
    elif preprocess == "inv":
        t = torch.from_numpy(np.ascontiguousarray(d, dtype=np.float32))
        x = ((t > 0) / t.clamp(min=torch.finfo(t.dtype).eps)).numpy()
        x = x - x.min()
        x = x / x.max() if x.max() > 0 else x
    elif preprocess == "none":
        x = d
    else:
        raise DataError("preprocess", f"unknown depth preprocessing {preprocess!r}; use 'log', 'inv' or 'none'")
    return canny_exact(x, sigma=sigma, mask=mask)


def square_dilate(mask: np.ndarray, size: int) -> np.ndarray:
    """Binary dilation with a ``size x size`` square (odd size).

    Equals the references' ``gaussian_blur2d(k x k, sigma, reflect) > 0`` trick: every Gaussian tap is
    positive, and reflect padding only repeats pixels that are inside the window anyway.
    """
    if size % 2 != 1:
        raise DataError("size", f"square dilation needs an odd size, got {size}")
    if size == 1:
        return mask.astype(bool)
    # OpenCV ignores outside pixels, SciPy's 'nearest' repeats border ones: for a binary max, the same.
    grown = cv2.dilate(np.ascontiguousarray(mask, dtype=bool).view(np.uint8), np.ones((size, size), np.uint8))
    return grown.view(bool)


def seg_edges(seg_color: ArrayLike) -> np.ndarray:
    """Edges of a colour label map: kornia ``canny`` with defaults on the 0..255 float values."""
    seg = torch.from_numpy(as_color(seg_color, "seg_color"))[None]
    _, edges = kornia.filters.canny(seg)
    return (edges > 0)[0, 0].numpy()


def image_edges(image: ArrayLike, rel_threshold: float = 0.05, dilation: int = 3) -> np.ndarray:
    """RGB edges of the CityScapes protocol: summed per-channel normalised-Sobel magnitude >= 5 % of its max.

    ``image`` is RGB in [0, 1] (uint8 input is divided by 255). The result is dilated by a square of
    side ``dilation`` (the reference's 3x3 Gaussian > 0 trick).
    """
    raw = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    img = as_color(raw, "image")
    if raw.dtype == np.uint8:
        img = img / np.float32(255.0)
    grad = kornia.filters.spatial_gradient(torch.from_numpy(np.ascontiguousarray(img))[None])
    mag = (grad[:, :, 0] ** 2 + grad[:, :, 1] ** 2) ** 0.5
    total = mag.sum(dim=1, keepdim=True)
    edges = total.ge(rel_threshold * total.max())[0, 0].numpy()
    return square_dilate(edges, dilation)


# ------------------------------------------------------------------------------------------------------------
# Canny, pixel-exact with scikit-image 0.26 ``feature.canny`` (no mask, mode 'constant', absolute thresholds)
# ------------------------------------------------------------------------------------------------------------
# Each stage repeats the arithmetic of the code it replaces: SciPy's 1-D correlations accumulate in float64
# (centre tap first, then the symmetric pairs from the outermost inwards) and round once per pass to the image
# dtype; the suppression step mixes float and double as scikit-image's compiled loop does. The speed comes
# from whole-array passes on reused buffers, a cached normaliser (the smoothed all-ones image depends on the
# shape only), bit-level selects and one connected-components pass for the hysteresis.


class _Scratch(threading.local):
    """Work arrays reused across calls, per thread, for the latest image shape.

    Fresh multi-megabyte temporaries cost a page fault per 4 KiB page on every call, more than the
    arithmetic done in them; a new image shape releases the previous set.
    """

    def __init__(self) -> None:
        self.image_shape: tuple[int, ...] | None = None
        self.arrays: dict[tuple[str, tuple[int, ...], np.dtype], np.ndarray] = {}

    def start(self, image_shape: tuple[int, ...]) -> None:
        if image_shape != self.image_shape:
            self.arrays.clear()
            self.image_shape = image_shape

    def get(self, tag: str, shape: tuple[int, ...], dtype: npt.DTypeLike) -> np.ndarray:
        key = (tag, tuple(shape), np.dtype(dtype))
        buf = self.arrays.get(key)
        if buf is None:
            buf = self.arrays[key] = np.empty(shape, dtype)
        return buf


_scratch = _Scratch()


def _gaussian_taps(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """Normalised Gaussian weights of offsets ``0 .. r``, r = int(truncate * sigma + 0.5) (SciPy's kernel)."""
    r = int(truncate * sigma + 0.5)
    offsets = np.arange(-r, r + 1)
    bell = np.exp(-0.5 / (sigma * sigma) * offsets**2)
    return (bell / bell.sum())[r:]


_BLOCK = 65536  # elements per block of work: every temporary of a block stays in the core's cache


def _symmetric_pass(
    x: np.ndarray, taps: np.ndarray, axis: int, reflect: bool, out: np.ndarray
) -> np.ndarray:
    """Correlate along ``axis`` with the symmetric kernel ``taps`` (offset 0 first) into ``out``.

    Sums in float64, one rounding to ``out``'s dtype. Borders: zeros, or with ``reflect`` SciPy's 'reflect'
    (the edge sample repeated; one-tap kernels only). Works through blocks of rows.
    """
    r = len(taps) - 1
    h, w = x.shape
    grown = (h + 2 * r, w) if axis == 0 else (h, w + 2 * r)
    padded = _scratch.get(f"pad{axis}", grown, np.float64)  # converted once, not once per tap
    along = padded if axis == 0 else padded.T  # first axis walks the filtered one
    n = x.shape[axis]
    along[r : r + n] = x if axis == 0 else x.T
    if r and reflect:
        along[0], along[-1] = along[1], along[-2]
    elif r:
        along[:r], along[-r:] = 0, 0
    rows = max(1, _BLOCK // w)
    acc_all = _scratch.get("acc", (rows, w), np.float64)
    pair_all = _scratch.get("pair", (rows, w), np.float64)
    f64 = np.float64

    def tap(k: int, top: int, bottom: int) -> np.ndarray:
        """Input samples at offset ``k`` for output rows ``top:bottom``."""
        if axis == 0:
            return padded[top + r + k : bottom + r + k]
        return padded[top:bottom, r + k : r + k + w]

    for top in range(0, h, rows):
        bottom = min(top + rows, h)
        acc, pair = acc_all[: bottom - top], pair_all[: bottom - top]
        np.multiply(tap(0, top, bottom), taps[0], out=acc, dtype=f64)
        for k in range(r, 0, -1):  # outermost pair first
            np.add(tap(-k, top, bottom), tap(k, top, bottom), out=pair, dtype=f64)
            pair *= taps[k]
            acc += pair
        np.copyto(out[top:bottom], acc, casting="same_kind")
    return out


def _central_difference(x: np.ndarray, axis: int, out: np.ndarray) -> np.ndarray:
    """``x[i+1] - x[i-1]`` along ``axis``, borders as SciPy's 'reflect' (x[-1] = x[0], x[n] = x[n-1]).

    A single rounding: SciPy computes it in float64 and rounds to float32, which gives the same value,
    since 53 >= 2 * 24 + 2 bits make that double rounding innocuous.
    """
    y, d = np.moveaxis(x, axis, 0), np.moveaxis(out, axis, 0)
    if y.shape[0] == 1:
        np.subtract(y, y, out=d)
        return out
    np.subtract(y[2:], y[:-2], out=d[1:-1])
    np.subtract(y[1], y[0], out=d[0])
    np.subtract(y[-1], y[-2], out=d[-1])
    return out


_SOBEL_SMOOTH = np.array([2.0, 1.0])


def _sobel(x: np.ndarray, axis: int, out: np.ndarray) -> np.ndarray:
    """SciPy ``ndimage.sobel(x, axis)``: difference along ``axis``, then [1, 2, 1] across it."""
    diff = _central_difference(x, axis, _scratch.get("diff", x.shape, x.dtype))
    return _symmetric_pass(diff, _SOBEL_SMOOTH, 1 - axis, True, out)


@lru_cache(maxsize=8)
def _bleed_normaliser(shape: tuple[int, int], sigma: float, dtype: str) -> np.ndarray:
    """The smoothed all-ones image plus machine epsilon, by which scikit-image divides (read-only, cached)."""
    ones = np.ones(shape, np.dtype(dtype))
    out = _gaussian_smooth(ones, sigma, np.empty_like(ones)) + np.finfo(dtype).eps
    out.setflags(write=False)
    return out


def _gaussian_smooth(x: np.ndarray, sigma: float, out: np.ndarray) -> np.ndarray:
    """SciPy ``gaussian_filter(x, sigma, mode='constant', truncate=4)``: axis 0, then axis 1, x's dtype."""
    taps = _gaussian_taps(sigma)
    first = _symmetric_pass(x, taps, 0, False, _scratch.get("smooth0", x.shape, x.dtype))
    return _symmetric_pass(first, taps, 1, False, out)


def _bit_mask(cond: np.ndarray, width: int) -> np.ndarray:
    """All-ones words where ``cond`` holds, zeros elsewhere (unsigned integers of ``width`` bytes)."""
    words = cond.astype(f"u{width}")
    np.negative(words, out=words)
    return words


def _pick(mask: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``where(mask, a, b)`` for floats by bit operations (several times faster than ``np.where``)."""
    kind = mask.dtype
    bits = np.bitwise_xor(a.view(kind), b.view(kind))
    bits &= mask
    bits ^= b.view(kind)
    return bits.view(a.dtype)


_Neighbours = Callable[[int, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _ridge(i: np.ndarray, j: np.ndarray, m: np.ndarray, neighbours: _Neighbours) -> np.ndarray:
    """Which pixels are local maxima across the edge (the suppression test, element-wise).

    ``neighbours(side, same, steep)`` returns the (far, near) magnitudes on that side (see
    :func:`_suppress_non_maxima`). The test interpolates linearly with weight minor/major component:
    float product, double sum, as scikit-image's compiled loop evaluates it.
    """
    f64 = np.float64
    same = (i > 0) == (j > 0)
    ai, aj = np.abs(i), np.abs(j)
    # |gi| dominates: strictly for like signs; ties count as dominant for opposite signs
    steep = (ai > aj) | ((ai == aj) & ~same)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.minimum(ai, aj) / np.maximum(ai, aj)
    rest = np.subtract(1.0, weight, dtype=f64)
    keep = np.ones(m.shape, bool)
    for side in (1, -1):
        far, near = neighbours(side, same, steep)
        far *= weight  # in the image dtype, as the compiled loop multiplies
        total = np.multiply(near, rest, dtype=f64)
        total += far
        keep &= np.less_equal(total, m, signature=(f64, f64, bool))
    return keep


def _suppress_non_maxima(gi: np.ndarray, gj: np.ndarray, mag: np.ndarray, low: float) -> np.ndarray:
    """Magnitudes of the interior pixels that are >= ``low`` and local maxima across the edge, else 0.

    The gradient picks the neighbour pair: with ``s`` = +1 when both components are positive or both are
    non-positive (else -1), the far neighbour is the diagonal (s, 1) and the near one is axial, (s, 0) when
    |gi| dominates and (0, 1) otherwise; the opposite side uses the negated offsets. Blocks with few
    candidates gather them; dense blocks select neighbours with bit operations over the whole block.
    """
    out = _scratch.get("strength", mag.shape, mag.dtype)
    out.fill(0)
    h, w = mag.shape
    if h < 3 or w < 3:
        return out
    # a zero threshold becomes 1e-14 so that zero magnitudes never pass; the loop holds it as a C float
    floor = np.float32(low if low != 0 else 1e-14)
    flat, flat_i, flat_j, flat_out = mag.ravel(), gi.ravel(), gj.ravel(), out.ravel()
    width = mag.dtype.itemsize
    # the flat range of interior rows; the wrapped first/last columns are excluded per block
    for start in range(w + 1, h * w - w - 1, _BLOCK):
        stop = min(start + _BLOCK, h * w - w - 1)
        candidate = flat[start:stop] >= floor
        candidate[(-start) % w :: w] = False  # first column
        candidate[(-start - 1) % w :: w] = False  # last column
        picked = np.flatnonzero(candidate)
        if picked.size == 0:
            continue
        if picked.size * 3 < candidate.size:
            at = picked + start

            def gathered(
                side: int, same: np.ndarray, steep: np.ndarray, at: np.ndarray = at
            ) -> tuple[np.ndarray, np.ndarray]:
                row_step = np.where(same, w, -w)
                return flat[at + side * (row_step + 1)], flat[at + side * np.where(steep, row_step, 1)]

            keep = _ridge(flat_i[at], flat_j[at], flat[at], gathered)
            flat_out[at[keep]] = flat[at[keep]]
            continue

        def shifted(dy: int, dx: int, start: int = start, stop: int = stop) -> np.ndarray:
            return flat[start + dy * w + dx : stop + dy * w + dx]

        def selected(side: int, same: np.ndarray, steep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            same_bits = _bit_mask(same, width)
            far = _pick(same_bits, shifted(side, side), shifted(-side, side))
            axial = _pick(same_bits, shifted(side, 0), shifted(-side, 0))
            return far, _pick(_bit_mask(steep, width), axial, shifted(0, side))

        keep = _ridge(flat_i[start:stop], flat_j[start:stop], shifted(0, 0), selected) & candidate
        np.copyto(flat_out[start:stop], shifted(0, 0), where=keep)
    return out


def _hysteresis(strength: np.ndarray, high: float) -> np.ndarray:
    """Pixels of 8-connected non-zero regions of ``strength`` that hold a value >= ``high`` (new array)."""
    weak = strength > 0
    count, labels = cv2.connectedComponents(weak.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    if count <= 1:
        return weak
    seeded = np.zeros(count, bool)
    seeded[labels.ravel()[np.flatnonzero(weak & (strength >= high))]] = True  # faster than a mask index
    seeded[0] = False
    return np.take(seeded, labels)


def canny_exact(
    image: np.ndarray, sigma: float = 1.0, low_threshold: float = 0.1, high_threshold: float = 0.2,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean Canny edges, pixel-identical to ``skimage.feature.canny(image, sigma, low, high, mask)``.

    The exact fast path covers float32/float64 images without a mask; anything else is passed to
    scikit-image itself.
    """
    x = np.asarray(image)
    if (
        mask is not None or x.ndim != 2 or x.dtype not in (np.float32, np.float64) or not sigma > 1e-15
        or low_threshold > high_threshold
    ):
        return canny(x, sigma=sigma, low_threshold=low_threshold, high_threshold=high_threshold, mask=mask)
    sigma = float(sigma)
    _scratch.start(x.shape)
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite input: the edges stay well defined
        smooth = _gaussian_smooth(x, sigma, _scratch.get("smooth", x.shape, x.dtype))
        smooth /= _bleed_normaliser(x.shape, sigma, x.dtype.str)
        gj = _sobel(smooth, 1, _scratch.get("gj", x.shape, x.dtype))
        gi = _sobel(smooth, 0, _scratch.get("gi", x.shape, x.dtype))
        mag = np.multiply(gi, gi, out=_scratch.get("mag", x.shape, x.dtype))
        mag += np.multiply(gj, gj, out=_scratch.get("gj2", x.shape, x.dtype))
        np.sqrt(mag, out=mag)
        strength = _suppress_non_maxima(gi, gj, mag, low_threshold)
    return _hysteresis(strength, high_threshold)
