"""Standard monocular depth metrics (protocol ``mono-zoe``) and the soft edge error (SEE).

Reimplements PatchRefiner's ``compute_metrics`` / ``compute_errors`` (ZoeDepth lineage). Keys, in the
papers' table order: ``a1, a2, a3, abs_rel, rmse, log_10, rmse_log, silog, sq_rel, see``; depths and
``rmse``/``see`` in metres, ``silog`` x100, ``sq_rel`` = mean (g - p)^2 / g (divided by g, not g^2).

Unlike the reference, nothing here modifies the caller's arrays (the reference clamps the prediction in
place through a numpy view of the tensor it receives).
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from depthforge.errors import DataError
from depthforge.metrics._arrays import ArrayLike, as_batch, check_same_size

MONO_KEYS: tuple[str, ...] = ("a1", "a2", "a3", "abs_rel", "rmse", "log_10", "rmse_log", "silog", "sq_rel", "see")


def resize_bilinear(pred: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an (H, W) map like ``F.interpolate(mode='bilinear', align_corners=False)`` (no antialias)."""
    if pred.shape == tuple(size):
        return pred
    t = torch.from_numpy(np.ascontiguousarray(pred, dtype=np.float32))[None, None]
    return F.interpolate(t, size=tuple(size), mode="bilinear", align_corners=False)[0, 0].numpy()


def clamp_prediction(pred: np.ndarray, min_depth: float, max_depth: float) -> np.ndarray:
    """Reference clamp order: < min -> min, > max -> max, +inf -> max, NaN -> min (returns a copy)."""
    p = np.array(pred, copy=True)
    p[p < min_depth] = min_depth
    p[p > max_depth] = max_depth
    p[np.isinf(p)] = max_depth
    p[np.isnan(p)] = min_depth
    return p


def crop_mask(
    shape: tuple[int, int], garg_crop: bool = False, eigen_crop: bool = False,
    eigen_kind: Literal["kitti", "nyu"] = "kitti",
) -> np.ndarray:
    """Evaluation crop of the reference (Garg wins over Eigen; the NYU Eigen box is fixed 45:471, 41:601)."""
    h, w = shape
    m = np.zeros(shape, dtype=bool)
    if garg_crop:
        m[int(0.40810811 * h):int(0.99189189 * h), int(0.03594771 * w):int(0.96405229 * w)] = True
    elif eigen_crop and eigen_kind == "kitti":
        m[int(0.3324324 * h):int(0.91351351 * h), int(0.0359477 * w):int(0.96405229 * w)] = True
    elif eigen_crop:
        m[45:471, 41:601] = True
    else:
        m[:] = True
    return m


def get_boundaries(x: ArrayLike, th: float = 1.0, dilation: int = 0) -> np.ndarray:
    """Float32 0/1 map of pixels that differ by more than ``th`` from an up/down/left/right neighbour.

    Used as the SEE boundary (U4K: on disparity with th = 1 px; CityScapes: on depth with th = 1 m).
    ``dilation > 0`` dilates with a square ``dilation x dilation`` kernel as the reference does with OpenCV.
    """
    d = as_batch(x, "x")
    if d.shape[0] != 1:
        raise DataError("x", "get_boundaries takes a single map")
    d = d[0]
    e = np.zeros(d.shape, dtype=bool)
    dy = np.abs(d[1:, :] - d[:-1, :]) > th
    dx = np.abs(d[:, 1:] - d[:, :-1]) > th
    e[1:, :] |= dy  # both pixels of a jump are boundary pixels
    e[:-1, :] |= dy
    e[:, 1:] |= dx
    e[:, :-1] |= dx
    out = e.astype(np.float32)
    if dilation > 0:
        out = cv2.dilate(out, np.ones((dilation, dilation), np.uint8), iterations=1)
    return out


def soft_edge_error(pred: ArrayLike, gt: ArrayLike, radius: int = 1) -> np.ndarray:
    """Per-pixel min over all shifts |dx|, |dy| <= radius of |shift(gt) - pred|; shifts fill with 0."""
    p = as_batch(pred, "pred")[0]
    g = as_batch(gt, "gt")[0]
    check_same_size(p, g, "pred", "gt")
    h, w = g.shape
    gp = np.pad(g, radius, mode="constant", constant_values=0)
    best = None
    for dy in range(-radius, radius + 1):  # (2r+1)^2 whole-image shifts, not a pixel loop
        for dx in range(-radius, radius + 1):
            shifted = gp[radius - dy:radius - dy + h, radius - dx:radius - dx + w]
            diff = np.abs(shifted - p)
            best = diff if best is None else np.minimum(best, diff)
    assert best is not None
    return best


def _errors(g: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """``compute_errors`` of the reference on already-masked 1-D arrays (input dtype arithmetic)."""
    if g.size == 0:  # no valid pixel: NaN, as the reference's means of nothing, without numpy's warning
        return dict.fromkeys(("a1", "a2", "a3", "abs_rel", "rmse", "log_10", "rmse_log", "silog", "sq_rel"),
                             float("nan"))
    with np.errstate(divide="ignore", invalid="ignore"):
        thresh = np.maximum(g / p, p / g)
        err = np.log(p) - np.log(g)
        return {
            "a1": float((thresh < 1.25).mean()),
            "a2": float((thresh < 1.25**2).mean()),
            "a3": float((thresh < 1.25**3).mean()),
            "abs_rel": float(np.mean(np.abs(g - p) / g)),
            "rmse": float(np.sqrt(((g - p) ** 2).mean())),
            "log_10": float(np.abs(np.log10(g) - np.log10(p)).mean()),
            "rmse_log": float(np.sqrt(((np.log(g) - np.log(p)) ** 2).mean())),
            "silog": float(np.sqrt(np.mean(err**2) - np.mean(err) ** 2) * 100),
            "sq_rel": float(np.mean(((g - p) ** 2) / g)),
        }


def _monocular_one(
    pred: np.ndarray, gt: np.ndarray, min_depth: float, max_depth: float, boundary: np.ndarray | None,
    garg_crop: bool, eigen_crop: bool, eigen_kind: Literal["kitti", "nyu"], extra: np.ndarray | None,
) -> dict[str, float]:
    p = clamp_prediction(resize_bilinear(pred, gt.shape), min_depth, max_depth)
    valid = (gt > min_depth) & (gt < max_depth)
    if garg_crop or eigen_crop:
        valid &= crop_mask(gt.shape, garg_crop, eigen_crop, eigen_kind)
    if extra is not None:
        check_same_size(extra, gt, "additional_mask", "gt")
        valid &= extra.astype(bool)
    out = _errors(gt[valid], p[valid])
    if boundary is not None:
        check_same_size(boundary, gt, "boundary", "gt")
        sel = valid & (boundary != 0)
        out["see"] = float(soft_edge_error(p, gt)[sel].mean()) if sel.any() else 0.0
    return out


def monocular(
    pred: ArrayLike,
    gt: ArrayLike,
    min_depth: float,
    max_depth: float,
    boundary: ArrayLike | None = None,
    garg_crop: bool = False,
    eigen_crop: bool = False,
    additional_mask: ArrayLike | None = None,
    eigen_kind: Literal["kitti", "nyu"] = "kitti",
) -> dict[str, float]:
    """Protocol ``mono-zoe``: PatchRefiner/ZoeDepth ``compute_metrics`` for one image or a batch.

    Args:
        pred: prediction in metres, (H, W) / (1, 1, h, w) / (B, 1, h, w); resized bilinearly
            (align_corners=False) to the GT size when sizes differ, then clamped to [min_depth, max_depth]
            (+inf -> max, NaN -> min).
        gt: ground truth in metres; valid = min_depth < gt < max_depth (strict).
        boundary: optional 0/1 boundary map (see :func:`get_boundaries`); when given, ``see`` is reported.
        garg_crop, eigen_crop: KITTI evaluation crops (``eigen_kind='nyu'`` selects the NYU box).
        additional_mask: optional boolean mask ANDed into the valid mask (also used by SEE).

    Returns:
        dict of Python floats in ``MONO_KEYS`` order; a batch gives the ``np.nanmean`` over images.
        With no valid pixel the metrics are NaN (and skipped by the nanmean), as in the reference.
    """
    p = as_batch(pred, "pred")
    g = as_batch(gt, "gt")
    if p.shape[0] != g.shape[0]:
        raise DataError("pred", f"batch of {p.shape[0]} does not match gt batch of {g.shape[0]}")
    b = None if boundary is None else as_batch(boundary, "boundary")
    m = None if additional_mask is None else as_batch(additional_mask, "additional_mask")
    res = [
        _monocular_one(p[i], g[i], min_depth, max_depth, None if b is None else b[i], garg_crop, eigen_crop,
                       eigen_kind, None if m is None else m[i])
        for i in range(g.shape[0])
    ]
    if len(res) == 1:
        return res[0]
    with np.errstate(all="ignore"):
        return {k: float(np.nanmean([r[k] for r in res])) for k in res[0]}
