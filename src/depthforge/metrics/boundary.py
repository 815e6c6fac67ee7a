"""Edge-based boundary metrics: EdgeAcc / EdgeComp and dilated-edge precision / recall / F1.

Two protocols share the distance-transform idea but differ in masking:

* ``cityscapes-pr`` (PatchRefiner ``compute_boundary_metrics``): distance maps are computed on the
  *unmasked* GT-boundary and predicted-edge maps, then both maps are restricted to the valid mask.
  EdgeComp averages over all masked GT-boundary pixels, conditioned on at least one masked predicted
  edge lying within ``th`` of the GT (NaN if the masked GT set is empty, as in the reference).
* ``mdec`` (Monocular Depth Estimation Challenge): the GT edge set is ``valid & gt_edges`` before the
  distance transform, predicted edges are not restricted to the valid mask, and EdgeComp needs a kept
  predicted edge.

Distances are in pixels (lower is better); 10 (the threshold) is reported when nothing qualifies.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from depthforge.errors import DataError
from depthforge.metrics._arrays import ArrayLike, as_image, check_same_size
from depthforge.metrics.edges import extract_edges, square_dilate
from depthforge.metrics.mono import resize_bilinear

BOUNDARY_KEYS: tuple[str, ...] = ("EdgeAcc", "EdgeComp", "precision", "recall", "f1_score", "hamming", "acc")


def _dist(edges: np.ndarray) -> np.ndarray:
    """Euclidean distance of every pixel to the nearest True pixel (inf-free: all-False gives large values)."""
    return ndimage.distance_transform_edt(~edges)


def edge_accuracy_completeness(
    pred_edges: ArrayLike, gt_edges: ArrayLike, valid: ArrayLike, th_acc: float = 10, th_comp: float = 10
) -> dict[str, float]:
    """EdgeAcc / EdgeComp of protocol ``cityscapes-pr`` from boolean edge maps and a valid mask."""
    pe = as_image(pred_edges, "pred_edges").astype(bool)
    ge = as_image(gt_edges, "gt_edges").astype(bool)
    vm = as_image(valid, "valid").astype(bool)
    check_same_size(pe, ge, "pred_edges", "gt_edges")
    check_same_size(vm, ge, "valid", "gt_edges")
    d_target, d_pred = _dist(ge), _dist(pe)
    ge_m, pe_m = ge & vm, pe & vm
    near = pe_m & (d_target < th_acc)
    if near.any():
        acc = float(d_target[near].mean())
        comp = float(d_pred[ge_m].mean()) if ge_m.any() else float("nan")
    else:
        acc, comp = float(th_acc), float(th_comp)
    return {"EdgeAcc": acc, "EdgeComp": comp}


def binary_scores(pred: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """torchmetrics-style binary precision, recall, F1, Hamming distance and accuracy (float32 ratios)."""
    p, t = pred.astype(bool).ravel(), target.astype(bool).ravel()
    tp = np.count_nonzero(p & t)
    fp = np.count_nonzero(p & ~t)
    fn = np.count_nonzero(~p & t)
    n = p.size
    f32 = np.float32

    def div(a: float, b: float) -> float:
        return float(f32(a) / f32(b)) if b else 0.0

    acc = div(n - fp - fn, n)
    return {
        "precision": div(tp, tp + fp),
        "recall": div(tp, tp + fn),
        "f1_score": div(2 * tp, 2 * tp + fp + fn),
        "hamming": float(f32(1.0) - f32(acc)) if n else 0.0,
        "acc": acc,
    }


def boundary_metrics(
    pred: ArrayLike | None,
    gt_edges: ArrayLike,
    valid: ArrayLike,
    pred_edges: ArrayLike | None = None,
    th_acc: float = 10,
    th_comp: float = 10,
    tolerance_px: int = 2,
) -> dict[str, float]:
    """All seven ``cityscapes-pr`` boundary metrics.

    Args:
        pred: predicted depth (resized to the GT size if needed); its edges come from
            :func:`~depthforge.metrics.edges.extract_edges`. Ignored when ``pred_edges`` is given.
        gt_edges: boolean GT boundary map (CityScapes: semantic edges that coincide with depth edges).
        valid: boolean valid-pixel mask.
        tolerance_px: both edge maps are dilated by a (2t+1)-square before precision/recall/F1.

    Returns:
        ``EdgeAcc, EdgeComp, precision, recall, f1_score, hamming, acc``.
    """
    ge = as_image(gt_edges, "gt_edges").astype(bool)
    vm = as_image(valid, "valid").astype(bool)
    if pred_edges is None:
        if pred is None:
            raise DataError("pred", "give a predicted depth map or pred_edges")
        p = resize_bilinear(as_image(pred, "pred"), ge.shape)
        pe = extract_edges(p)
    else:
        pe = as_image(pred_edges, "pred_edges").astype(bool)
    out = edge_accuracy_completeness(pe, ge, vm, th_acc, th_comp)
    size = 2 * tolerance_px + 1
    out.update(binary_scores(square_dilate(pe, size)[vm], square_dilate(ge, size)[vm]))
    return out


def mdec_edge_metrics(
    pred: ArrayLike, gt: ArrayLike, gt_edges: ArrayLike, min_depth: float = 1e-3, max_depth: float = 100.0,
    median_scaling: bool = True, th_edges: float = 10,
) -> dict[str, float]:
    """Protocol ``mdec`` EdgeAcc / EdgeComp (Monocular Depth Estimation Challenge, iBims-style).

    ``pred`` is depth (bilinearly resized to the GT size), median-scaled on the GT-edge mask when
    ``median_scaling`` (mono mode), then clipped to [min_depth, max_depth].
    """
    g = as_image(gt, "gt")
    ge = as_image(gt_edges, "gt_edges").astype(bool)
    check_same_size(ge, g, "gt_edges", "gt")
    p = resize_bilinear(as_image(pred, "pred").astype(np.float32), g.shape)
    mask = (g > min_depth) & (g < max_depth) & ge
    if median_scaling and mask.any():
        p = p * (np.median(g[mask]) / np.median(p[mask]))
    p = np.clip(p, min_depth, max_depth)
    d_target = _dist(mask)
    pe = extract_edges(p)
    d_pred = _dist(pe)
    pe = pe & (d_target < th_edges)
    if not pe.any():
        return {"EdgeAcc": float(th_edges), "EdgeComp": float(th_edges)}
    return {"EdgeAcc": float(d_target[pe].mean()), "EdgeComp": float(d_pred[mask].mean())}
