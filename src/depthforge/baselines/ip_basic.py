"""IP-Basic unguided depth completion (Ku, Harakeh, Waslander, CRV 2018; ``kujason/ip_basic``, MIT).

A numerical port of ``ip_basic/depth_map_utils.py``: the same OpenCV calls, in the same order, with the same
kernels and thresholds, so outputs match the reference bit for bit on float32 input. Differences, all
non-numeric:

* The reference ``fill_in_fast`` writes its first inversion into the caller's array (so the input is corrupted
  after the call). Both functions here work on a private float32 copy and never modify their argument.
* The reference ``fill_in_multiscale`` uses ``np.bool`` (removed in NumPy 1.24); plain ``bool`` is used
  instead.
* The per-column "first valid row" steps (extrapolation to the top of the image, top mask) are vectorised with
  one ``argmax`` along axis 0 instead of a Python loop over columns.
* Input is converted to float32 (``cv2.medianBlur`` with a 5x5 window rejects float64) and non-finite values
  are treated as empty (0) so no NaN can spread through the filters.
* An unknown ``blur_type`` raises instead of silently skipping the blur; pass ``"none"`` to skip it.

Depth is in metres, 0 = empty. "Valid" always means ``> 0.1`` on the current (inverted) map. The map is
inverted as ``max_depth - d`` so that the grey-level max filters (``cv2.dilate``) let nearer points win over
farther ones.
"""

from __future__ import annotations

from collections import OrderedDict
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
    "fill_in_fast",
    "fill_in_multiscale",
    "first_valid_rows",
    "extend_to_top",
    "top_mask",
    "FULL_KERNEL_3", "FULL_KERNEL_5", "FULL_KERNEL_7", "FULL_KERNEL_9", "FULL_KERNEL_31",
    "CROSS_3", "CROSS_5", "CROSS_7", "DIAMOND_5", "DIAMOND_7",
    "CROSS_KERNEL_3", "CROSS_KERNEL_5", "CROSS_KERNEL_7", "DIAMOND_KERNEL_5", "DIAMOND_KERNEL_7",
]


def _as_float32_copy(depth: ArrayLike, blur_type: str) -> np.ndarray:
    """Private float32 copy of a 2-D depth map, non-finite values set to 0 (empty)."""
    if blur_type not in _BLUR_TYPES:
        raise ValueError(f"blur_type must be one of {_BLUR_TYPES}, got {blur_type!r}")
    out = np.array(depth, dtype=np.float32, copy=True)
    if out.ndim != 2:
        raise DataError(None, f"depth map must be 2-D (H, W), got shape {out.shape}")
    out[~np.isfinite(out)] = 0.0
    return out


def first_valid_rows(depth: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    """Per column, the index of the first row with ``depth > threshold``; 0 for columns with none.

    Same convention as ``np.argmax`` on an all-False column, which is what the reference relies on.
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


def _invert_valid(depth: np.ndarray, max_depth: float) -> None:
    """In place: ``d = max_depth - d`` on pixels with ``d > 0.1``."""
    valid = depth > 0.1
    depth[valid] = max_depth - depth[valid]


def fill_in_fast(
    depth: ArrayLike,
    max_depth: float = 100.0,
    custom_kernel: np.ndarray = DIAMOND_5,
    extrapolate: bool = False,
    blur_type: BlurType = "bilateral",
) -> np.ndarray:
    """Fast IP-Basic completion (``fill_in_fast`` of Ku et al., CRV 2018). Returns a new dense float32 map in metres.

    Args:
        depth: (H, W) sparse depth in metres, 0 = empty. Not modified (the reference modifies it).
        max_depth: inversion offset; depths at or above it map to "empty" after inversion.
        custom_kernel: kernel of the first dilation.
        extrapolate: extend each column's topmost value to the top of the image, then fill the rest from a
            31x31 dilation (the paper's "lowest RMSE" setting together with ``blur_type="gaussian"``).
        blur_type: ``"bilateral"`` (preserves structure, lowest MAE), ``"gaussian"`` or ``"none"``.
    """
    d = _as_float32_copy(depth, blur_type)

    _invert_valid(d, max_depth)
    d = cv2.dilate(d, custom_kernel)
    d = cv2.morphologyEx(d, cv2.MORPH_CLOSE, FULL_KERNEL_5)

    empty = d < 0.1
    dilated = cv2.dilate(d, FULL_KERNEL_7)
    d[empty] = dilated[empty]

    if extrapolate:
        extend_to_top(d, first_valid_rows(d))
        empty = d < 0.1
        dilated = cv2.dilate(d, FULL_KERNEL_31)
        d[empty] = dilated[empty]

    d = cv2.medianBlur(d, 5)

    if blur_type == "bilateral":
        d = cv2.bilateralFilter(d, 5, 1.5, 2.0)
    elif blur_type == "gaussian":
        valid = d > 0.1
        blurred = cv2.GaussianBlur(d, (5, 5), 0)
        d[valid] = blurred[valid]

    _invert_valid(d, max_depth)
    return d


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
        ``(dense, process)`` like the reference: the dense float32 map in metres, and, when ``show_process``
        is true, an ordered dict of the intermediate maps ``s0_depths_in`` ... ``s9_depths_out`` (else
        ``None``).
    """
    depths_in = _as_float32_copy(depth, blur_type)

    near = (depths_in > 0.1) & (depths_in <= 15.0)
    med = (depths_in > 15.0) & (depths_in <= 30.0)
    far = depths_in > 30.0

    s1 = depths_in.copy()
    _invert_valid(s1, max_depth)

    # Each bin is dilated on its own so a far point's larger kernel footprint never hides a near point.
    dilated_far = cv2.dilate(np.multiply(s1, far), dilation_kernel_far)
    dilated_med = cv2.dilate(np.multiply(s1, med), dilation_kernel_med)
    dilated_near = cv2.dilate(np.multiply(s1, near), dilation_kernel_near)

    s2 = s1.copy()
    for dilated in (dilated_far, dilated_med, dilated_near):  # farthest first: nearer bins overwrite
        hit = dilated > 0.1
        s2[hit] = dilated[hit]

    s3 = cv2.morphologyEx(s2, cv2.MORPH_CLOSE, FULL_KERNEL_5)

    s4 = s3.copy()
    blurred = cv2.medianBlur(s3, 5)
    valid = s3 > 0.1
    s4[valid] = blurred[valid]

    mask = top_mask(first_valid_rows(s4), s4.shape[0])
    empty = ~(s4 > 0.1) & mask
    dilated = cv2.dilate(s4, FULL_KERNEL_9)
    s5 = s4.copy()
    s5[empty] = dilated[empty]

    s6 = s5.copy()
    top_rows = first_valid_rows(s5)
    if extrapolate:
        extend_to_top(s6, top_rows)
        mask = np.ones(s5.shape, dtype=bool)
    else:
        mask = top_mask(top_rows, s5.shape[0])

    s7 = s6.copy()
    for _ in range(6):
        empty = (s7 < 0.1) & mask
        dilated = cv2.dilate(s7, FULL_KERNEL_5)
        s7[empty] = dilated[empty]

    blurred = cv2.medianBlur(s7, 5)
    valid = (s7 > 0.1) & mask  # taken before the median is written; the bilateral step reuses it
    s7[valid] = blurred[valid]

    if blur_type == "gaussian":
        blurred = cv2.GaussianBlur(s7, (5, 5), 0)
        valid = (s7 > 0.1) & mask
        s7[valid] = blurred[valid]
    elif blur_type == "bilateral":
        blurred = cv2.bilateralFilter(s7, 5, 0.5, 2.0)
        s7[valid] = blurred[valid]

    s8 = s7.copy()
    _invert_valid(s8, max_depth)

    process: OrderedDict[str, np.ndarray] | None = None
    if show_process:
        process = OrderedDict(
            s0_depths_in=depths_in,
            s1_inverted_depths=s1,
            s2_dilated_depths=s2,
            s3_closed_depths=s3,
            s4_blurred_depths=s4,
            s5_combined_depths=s5,
            s6_extended_depths=s6,
            s7_blurred_depths=s7,
            s8_inverted_depths=s8,
            s9_depths_out=s8,
        )
    return s8, process
