"""IP-Basic unguided depth completion (Ku, Harakeh, Waslander, CRV 2018).

Both variants are pipelines of named image-processing steps, each a pure function of the working map
(:data:`Step`), listed in a table per variant. The steps use the published kernels and thresholds and
OpenCV's morphology and blurs, so outputs equal the authors' implementation bit for bit on float32 input
(``tests/baselines/test_ip_basic.py`` checks them against a per-pixel formulation of the algorithm).
Behaviour that differs from the authors' code, none of it numeric:

* The input is never modified: the pipeline works on a private float32 copy (the original's
  ``fill_in_fast`` writes its first inversion into the caller's array).
* Input is converted to float32 (``cv2.medianBlur`` with a 5x5 window rejects float64) and non-finite
  values count as empty (0), so no NaN can spread through the filters.
* An unknown ``blur_type`` raises instead of silently skipping the blur; pass ``"none"`` to skip it.

Depth is in metres, 0 = empty. "Valid" always means ``> 0.1`` on the current (inverted) map. The map is
inverted as ``max_depth - d`` so that grey-level max filters (``cv2.dilate``) let nearer points win over
farther ones.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import cv2
import numpy as np
from numpy.typing import ArrayLike

from depthforge.baselines.kernels import (
    CROSS_3,
    CROSS_5,
    CROSS_7,
    CROSS_KERNEL_3,
    CROSS_KERNEL_5,
    CROSS_KERNEL_7,
    DIAMOND_5,
    DIAMOND_7,
    DIAMOND_KERNEL_5,
    DIAMOND_KERNEL_7,
    FULL_KERNEL_3,
    FULL_KERNEL_5,
    FULL_KERNEL_7,
    FULL_KERNEL_9,
    FULL_KERNEL_31,
)
from depthforge.errors import DataError

BlurType = Literal["bilateral", "gaussian", "none"]
_BLUR_TYPES = ("bilateral", "gaussian", "none")

__all__ = [
    "CROSS_3", "CROSS_5", "CROSS_7", "CROSS_KERNEL_3", "CROSS_KERNEL_5", "CROSS_KERNEL_7",
    "DIAMOND_5", "DIAMOND_7", "DIAMOND_KERNEL_5", "DIAMOND_KERNEL_7",
    "FULL_KERNEL_3", "FULL_KERNEL_5", "FULL_KERNEL_7", "FULL_KERNEL_9", "FULL_KERNEL_31",
    "extend_to_top", "fill_in_fast", "fill_in_multiscale", "first_valid_rows", "top_mask",
]  # fmt: skip

_VALID = 0.1  # a pixel holds depth when its value exceeds this (on the inverted map too)
_NEAR, _MEDIUM = 15.0, 30.0  # multiscale depth bins (input metres): (0.1, 15], (15, 30], > 30


# --------------------------------------------------------------------------------------------------------------
# per-column helpers (public: also used by the tests)
# --------------------------------------------------------------------------------------------------------------


def first_valid_rows(depth: np.ndarray, threshold: float = _VALID) -> np.ndarray:
    """Per column, the index of the first row with ``depth > threshold``; 0 for columns with none.

    An empty column reports row 0 (``np.argmax`` of all-False), so nothing above it is extended or masked.
    """
    return np.argmax(depth > threshold, axis=0)


def top_mask(top_rows: np.ndarray, height: int) -> np.ndarray:
    """Boolean (H, W) mask, False for rows above each column's ``top_rows`` entry."""
    return np.arange(height)[:, None] >= top_rows[None, :]


def extend_to_top(depth: np.ndarray, top_rows: np.ndarray) -> np.ndarray:
    """Set rows ``[0, top_rows[c])`` of each column ``c`` to ``depth[top_rows[c], c]`` in place."""
    top_values = depth[top_rows, np.arange(depth.shape[1])]
    above = ~top_mask(top_rows, depth.shape[0])
    np.copyto(depth, np.broadcast_to(top_values, depth.shape), where=above)
    return depth


# --------------------------------------------------------------------------------------------------------------
# the step vocabulary
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Canvas:
    """The working map and the region that fill and smoothing steps may write (``None``: everywhere)."""

    depth: np.ndarray
    region: np.ndarray | None = None

    def within(self, pixels: np.ndarray) -> np.ndarray:
        return pixels if self.region is None else pixels & self.region

    def valid(self) -> np.ndarray:
        return self.within(self.depth > _VALID)

    def painted(self, where: np.ndarray, source: np.ndarray) -> _Canvas:
        """A copy whose ``where`` pixels are taken from ``source``."""
        out = self.depth.copy()
        out[where] = source[where]
        return replace(self, depth=out)


Step = Callable[[_Canvas], _Canvas]
"""A pipeline step: a pure function of the working canvas (inputs are never written)."""


def _inverted(max_depth: float) -> Step:
    """Valid pixels become ``max_depth - d`` (an involution on values below ``max_depth``)."""

    def step(c: _Canvas) -> _Canvas:
        valid = c.depth > _VALID
        out = c.depth.copy()
        out[valid] = max_depth - out[valid]
        return replace(c, depth=out)

    return step


def _whole(op: Callable[[np.ndarray], np.ndarray]) -> Step:
    """Replace the whole map by ``op(map)``."""
    return lambda c: replace(c, depth=op(c.depth))


def _dilated(kernel: np.ndarray) -> Step:
    return _whole(lambda d: cv2.dilate(d, kernel))


def _closed(kernel: np.ndarray) -> Step:
    return _whole(lambda d: cv2.morphologyEx(d, cv2.MORPH_CLOSE, kernel))


def _holes_filled(kernel: np.ndarray, strict: bool = True) -> Step:
    """Empty pixels in the region take the value of a ``kernel`` dilation.

    Empty is ``d < 0.1`` (``strict``) or ``not d > 0.1``; the two differ only on values equal to 0.1.
    """

    def step(c: _Canvas) -> _Canvas:
        empty = c.depth < _VALID if strict else ~(c.depth > _VALID)
        return c.painted(c.within(empty), cv2.dilate(c.depth, kernel))

    return step


def _extended_to_top(c: _Canvas) -> _Canvas:
    """Each column's topmost valid value is copied upwards; the whole image becomes writable."""
    out = c.depth.copy()
    extend_to_top(out, first_valid_rows(out))
    return _Canvas(out, None)


def _below_top(c: _Canvas) -> _Canvas:
    """Restrict later steps to the rows at or below each column's topmost valid pixel."""
    return replace(c, region=top_mask(first_valid_rows(c.depth), c.depth.shape[0]))


def _median_on_valid(c: _Canvas) -> _Canvas:
    return c.painted(c.valid(), cv2.medianBlur(c.depth, 5))


def _gaussian_on_valid(c: _Canvas) -> _Canvas:
    return c.painted(c.valid(), cv2.GaussianBlur(c.depth, (5, 5), 0))


def _bilateral(sigma_color: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda d: cv2.bilateralFilter(d, 5, sigma_color, 2.0)


def _by_depth_range(depths_in: np.ndarray, kernels: Sequence[np.ndarray]) -> Step:
    """Dilate the far, medium and near bins of the input on their own, nearer bins written last.

    Separate dilations keep a far point's larger footprint from hiding a near point.
    """
    bins = (
        depths_in > _MEDIUM,
        (depths_in > _NEAR) & (depths_in <= _MEDIUM),
        (depths_in > _VALID) & (depths_in <= _NEAR),
    )

    def step(c: _Canvas) -> _Canvas:
        out = c.depth.copy()
        for members, kernel in zip(bins, kernels):
            spread = cv2.dilate(np.multiply(c.depth, members), kernel)
            reached = spread > _VALID
            out[reached] = spread[reached]
        return replace(c, depth=out)

    return step


def _smoothed_multiscale(blur_type: BlurType) -> Step:
    """Median on the valid pixels of the region, then the blur.

    The Gaussian re-selects the valid pixels after the median; the bilateral filter reuses the median's
    selection, as the published implementation does.
    """

    def step(c: _Canvas) -> _Canvas:
        chosen = c.valid()
        c = c.painted(chosen, cv2.medianBlur(c.depth, 5))
        if blur_type == "gaussian":
            return _gaussian_on_valid(c)
        if blur_type == "bilateral":
            return c.painted(chosen, _bilateral(0.5)(c.depth))
        return c

    return step


# --------------------------------------------------------------------------------------------------------------
# pipelines
# --------------------------------------------------------------------------------------------------------------

_Plan = list[tuple[str, Step]]


def _run(
    plan: _Plan, canvas: _Canvas, record: dict[str, str] | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Apply the steps in order; ``record`` maps step names to snapshot names (distinct arrays)."""
    snapshots: dict[str, np.ndarray] = {}
    for name, step in plan:
        canvas = step(canvas)
        if record is not None and name in record:
            kept = canvas.depth
            if any(kept is s for s in snapshots.values()):
                kept = kept.copy()
            snapshots[record[name]] = kept
    return canvas.depth, snapshots


def _fast_plan(max_depth: float, kernel: np.ndarray, extrapolate: bool, blur_type: BlurType) -> _Plan:
    plan: _Plan = [
        ("invert", _inverted(max_depth)),
        ("dilate", _dilated(kernel)),
        ("close small holes", _closed(FULL_KERNEL_5)),
        ("fill small holes", _holes_filled(FULL_KERNEL_7)),
    ]
    if extrapolate:
        plan += [("extend to top", _extended_to_top), ("fill large holes", _holes_filled(FULL_KERNEL_31))]
    plan.append(("median", _whole(lambda d: cv2.medianBlur(d, 5))))
    if blur_type == "bilateral":
        plan.append(("bilateral", _whole(_bilateral(1.5))))
    elif blur_type == "gaussian":
        plan.append(("gaussian", _gaussian_on_valid))
    plan.append(("restore", _inverted(max_depth)))
    return plan


def _multiscale_plan(
    depths_in: np.ndarray, max_depth: float, kernels: Sequence[np.ndarray], extrapolate: bool,
    blur_type: BlurType,
) -> _Plan:
    return [
        ("invert", _inverted(max_depth)),
        ("dilate by depth range", _by_depth_range(depths_in, kernels)),
        ("close small holes", _closed(FULL_KERNEL_5)),
        ("median", _median_on_valid),
        ("keep below top", _below_top),
        ("fill below top", _holes_filled(FULL_KERNEL_9, strict=False)),
        ("extend to top", _extended_to_top) if extrapolate else ("keep below new top", _below_top),
        *[("fill holes", _holes_filled(FULL_KERNEL_5))] * 6,
        ("smooth", _smoothed_multiscale(blur_type)),
        ("restore", _inverted(max_depth)),
    ]


_MULTISCALE_SNAPSHOTS = {
    "invert": "s1_inverted_depths",
    "dilate by depth range": "s2_dilated_depths",
    "close small holes": "s3_closed_depths",
    "median": "s4_blurred_depths",
    "fill below top": "s5_combined_depths",
    "extend to top": "s6_extended_depths",
    "keep below new top": "s6_extended_depths",
    "smooth": "s7_blurred_depths",
    "restore": "s8_inverted_depths",
}


def _as_float32_copy(depth: ArrayLike, blur_type: str) -> np.ndarray:
    """Private float32 copy of a 2-D depth map, non-finite values set to 0 (empty)."""
    if blur_type not in _BLUR_TYPES:
        raise ValueError(f"blur_type must be one of {_BLUR_TYPES}, got {blur_type!r}")
    out = np.array(depth, dtype=np.float32, copy=True)
    if out.ndim != 2:
        raise DataError(None, f"depth map must be 2-D (H, W), got shape {out.shape}")
    out[~np.isfinite(out)] = 0.0
    return out


def fill_in_fast(
    depth: ArrayLike,
    max_depth: float = 100.0,
    custom_kernel: np.ndarray = DIAMOND_5,
    extrapolate: bool = False,
    blur_type: BlurType = "bilateral",
) -> np.ndarray:
    """Fast IP-Basic completion (``fill_in_fast`` of Ku et al., CRV 2018). Returns a new dense float32 map in metres.

    Args:
        depth: (H, W) sparse depth in metres, 0 = empty. Not modified.
        max_depth: inversion offset; depths at or above it map to "empty" after inversion.
        custom_kernel: kernel of the first dilation.
        extrapolate: extend each column's topmost value to the top of the image, then fill the rest from a
            31x31 dilation (the paper's "lowest RMSE" setting together with ``blur_type="gaussian"``).
        blur_type: ``"bilateral"`` (preserves structure, lowest MAE), ``"gaussian"`` or ``"none"``.
    """
    canvas = _Canvas(_as_float32_copy(depth, blur_type))
    dense, _ = _run(_fast_plan(max_depth, custom_kernel, extrapolate, blur_type), canvas)
    return dense


def fill_in_multiscale(
    depth: ArrayLike,
    max_depth: float = 100.0,
    dilation_kernel_far: np.ndarray = CROSS_3,
    dilation_kernel_med: np.ndarray = CROSS_5,
    dilation_kernel_near: np.ndarray = CROSS_7,
    extrapolate: bool = False,
    blur_type: BlurType = "bilateral",
    show_process: bool = False,
) -> tuple[np.ndarray, OrderedDict[str, np.ndarray] | None]:
    """Multi-scale IP-Basic completion with extra noise removal (``fill_in_multiscale``).

    Depth bins (on the input, metres): near ``(0.1, 15]``, medium ``(15, 30]``, far ``> 30``; each is dilated
    with its own kernel and nearer bins overwrite farther ones.

    Returns:
        ``(dense, process)``: the dense float32 map in metres, and, when ``show_process`` is true, an
        ordered dict of the intermediate maps ``s0_depths_in`` ... ``s9_depths_out`` (else ``None``).
    """
    depths_in = _as_float32_copy(depth, blur_type)
    kernels = (dilation_kernel_far, dilation_kernel_med, dilation_kernel_near)
    plan = _multiscale_plan(depths_in, max_depth, kernels, extrapolate, blur_type)
    dense, snapshots = _run(plan, _Canvas(depths_in), _MULTISCALE_SNAPSHOTS if show_process else None)
    if not show_process:
        return dense, None
    process: OrderedDict[str, np.ndarray] = OrderedDict(s0_depths_in=depths_in)
    process.update(sorted(snapshots.items()))
    process["s9_depths_out"] = dense
    return dense, process
