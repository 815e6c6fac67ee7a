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

import cv2
import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from depthforge.errors import DataError
from depthforge.metrics._arrays import ArrayLike, as_image, check_same_size
from depthforge.metrics.edges import extract_edges, square_dilate
from depthforge.metrics.mono import resize_bilinear

_REACH = 12  # window of the fast distance on very large images; farther pixels need a neighbour query
_REACH_LIMIT = 64  # thresholds above it use SciPy's transforms throughout
_EXACT_DIAGONAL_SQ = 1 << 22  # below it OpenCV's transform is exact to the last integer (see _full_sq_dist)

BOUNDARY_KEYS: tuple[str, ...] = ("EdgeAcc", "EdgeComp", "precision", "recall", "f1_score", "hamming", "acc")


def _dist(edges: np.ndarray) -> np.ndarray:
    """Euclidean distance of every pixel to the nearest True pixel (inf-free: all-False gives large values)."""
    return ndimage.distance_transform_edt(~edges)


def _window_sq_dist(points: np.ndarray, queries: tuple[np.ndarray, np.ndarray], reach: int) -> np.ndarray:
    """Squared Euclidean distances from the ``queries`` pixels (rows, cols) to the nearest True pixel.

    Exact wherever the distance is below ``reach + 1``; elsewhere only known to be at least
    ``(reach + 1)**2``. Separable: the distance along each row clipped to ``reach + 1`` (a stack of
    one-row dilations), then at the queries the least ``row(r + dr)**2 + dr**2`` over ``|dr| <= reach``.
    """
    cap = reach + 1
    h, w = points.shape
    src = np.ascontiguousarray(points, dtype=bool).view(np.uint8)
    row = np.zeros((h + 2 * reach, w), np.int32)
    row[:reach], row[h + reach :] = cap, cap  # rows outside the image hold no point
    inside = row[reach : h + reach]
    for t in range(cap):  # row distance = number of radii t < cap whose window holds no point
        inside += 1 - cv2.dilate(src, np.ones((1, 2 * t + 1), np.uint8))
    row *= row
    flat = row.ravel()
    base = (queries[0] + reach) * w + queries[1]
    best = np.full(base.shape, cap * cap, np.int32)
    for dr in range(-reach, reach + 1):
        np.minimum(best, flat[base + dr * w] + dr * dr, out=best)
    return best


def _full_sq_dist(edges: np.ndarray, queries: tuple[np.ndarray, ...]) -> np.ndarray:
    """Exact squared distances from the ``queries`` pixels to the nearest True pixel (float64 integers).

    OpenCV's ``DIST_MASK_PRECISE`` runs the Felzenszwalb-Huttenlocher lower envelope on exact integer
    column distances. Its float32 intersections err by less than n * 2**-23, below the 1 / (2n) gap
    between a non-integer intersection and an integer column while the width n < 2048; the float32 root
    of the chosen integer squares back to it exactly while the squared diagonal is below 2**22.
    """
    root = cv2.distanceTransform((~edges).view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    sq = root[queries].astype(np.float64)
    sq *= sq
    return np.rint(sq, out=sq)


def _dist_at(edges: np.ndarray, where: np.ndarray, reach: int | None) -> np.ndarray:
    """Distances from the ``where`` pixels (row-major order) to the nearest ``edges`` pixel.

    Values equal :func:`_dist`'s bit for bit (the square root of the same integer). With a ``reach``,
    pixels farther than it get ``inf`` (a cheap windowed search); without, all are exact: OpenCV's
    transform, or for very large images the window plus a nearest-neighbour query for the rest.
    """
    queries = np.nonzero(where)
    diagonal_sq = edges.shape[0] ** 2 + edges.shape[1] ** 2
    if reach is None and diagonal_sq < _EXACT_DIAGONAL_SQ:
        return np.sqrt(_full_sq_dist(edges, queries))
    window = _REACH if reach is None else reach
    sq = _window_sq_dist(edges, queries, window).astype(np.float64)
    far = sq >= (window + 1) ** 2
    if far.any():
        if reach is not None:
            sq[far] = np.inf
        else:
            targets = np.argwhere(edges)
            lost = np.stack(queries, axis=1)[far]
            _, nearest = cKDTree(targets).query(lost)
            offset = (lost - targets[nearest]).astype(np.float64)
            sq[far] = offset[:, 0] * offset[:, 0] + offset[:, 1] * offset[:, 1]
    return np.sqrt(sq)


def edge_accuracy_completeness(
    pred_edges: ArrayLike, gt_edges: ArrayLike, valid: ArrayLike, th_acc: float = 10, th_comp: float = 10
) -> dict[str, float]:
    """EdgeAcc / EdgeComp of protocol ``cityscapes-pr`` from boolean edge maps and a valid mask."""
    pe = as_image(pred_edges, "pred_edges").astype(bool)
    ge = as_image(gt_edges, "gt_edges").astype(bool)
    vm = as_image(valid, "valid").astype(bool)
    check_same_size(pe, ge, "pred_edges", "gt_edges")
    check_same_size(vm, ge, "valid", "gt_edges")
    ge_m, pe_m = ge & vm, pe & vm
    if not ge.any() or not th_acc <= _REACH_LIMIT:
        # No GT edge (SciPy then measures from a virtual feature outside the image) or a huge threshold:
        # the full transforms, as the protocol defines them.
        d_target, d_pred = _dist(ge), _dist(pe)
        near = pe_m & (d_target < th_acc)
        if not near.any():
            return {"EdgeAcc": float(th_acc), "EdgeComp": float(th_comp)}
        comp = float(d_pred[ge_m].mean()) if ge_m.any() else float("nan")
        return {"EdgeAcc": float(d_target[near].mean()), "EdgeComp": comp}
    # Only distances below th_acc to the GT edges matter, and only at masked predicted edges; distances to
    # the predicted edges are needed at masked GT edges only.
    d_near = _dist_at(ge, pe_m, max(int(np.ceil(th_acc)), 1))
    d_near = d_near[d_near < th_acc]
    if d_near.size == 0:
        return {"EdgeAcc": float(th_acc), "EdgeComp": float(th_comp)}
    comp = float(_dist_at(pe, ge_m, None).mean()) if ge_m.any() else float("nan")
    return {"EdgeAcc": float(d_near.mean()), "EdgeComp": comp}


def _scores_from_counts(tp: int, fp: int, fn: int, n: int) -> dict[str, float]:
    """Precision, recall, F1, Hamming distance and accuracy from confusion counts (float32 ratios)."""
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


def binary_scores(pred: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """torchmetrics-style binary precision, recall, F1, Hamming distance and accuracy (float32 ratios)."""
    p, t = pred.astype(bool).ravel(), target.astype(bool).ravel()
    tp = np.count_nonzero(p & t)
    return _scores_from_counts(tp, np.count_nonzero(p) - tp, np.count_nonzero(t) - tp, p.size)


def _masked_scores(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """:func:`binary_scores` of ``pred[mask]`` and ``target[mask]``, without gathering them."""
    p, t = pred & mask, target & mask
    tp = np.count_nonzero(p & t)
    return _scores_from_counts(tp, np.count_nonzero(p) - tp, np.count_nonzero(t) - tp, np.count_nonzero(mask))


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
    out.update(_masked_scores(square_dilate(pe, size), square_dilate(ge, size), vm))
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
