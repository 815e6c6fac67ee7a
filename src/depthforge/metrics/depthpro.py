"""Protocol ``depthpro-boundary``: Depth Pro's scale-invariant boundary F1 (apple/ml-depth-pro).

Both maps are turned into inverse depth ``1 / max(d, 1e-6)``. For a ratio threshold t, a neighbour
relation holds where one of two horizontally or vertically adjacent pixels is nearer by a factor > t
(four directional maps). Recall and precision are the means over the four directions of
``|pred & gt| / max(|gt|, 1)`` and ``|pred & gt| / max(|pred|, 1)``; F1 = 2PR / (P + R) (0 when P + R = 0).
The score is the sum of F1(t) weighted by t / sum(t) over t = linspace(1.05, 1.25, 10).
Because only ratios are compared, multiplying the prediction by a constant leaves the score unchanged.
"""

from __future__ import annotations

import numpy as np

from depthforge.metrics._arrays import ArrayLike, as_image, check_same_size


def _relations(q: np.ndarray, t: np.ndarray) -> list[np.ndarray]:
    """Left, top, right, bottom relation maps for every threshold: each (T, ...) boolean."""
    tt = t.reshape((-1, 1, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return [
            (q[:, :-1] / q[:, 1:])[None] > tt,
            (q[:-1, :] / q[1:, :])[None] > tt,
            (q[:, 1:] / q[:, :-1])[None] > tt,
            (q[1:, :] / q[:-1, :])[None] > tt,
        ]


def _pair_masks(valid: np.ndarray) -> list[np.ndarray]:
    """A relation is scored only when both pixels of the pair are valid (same order as ``_relations``)."""
    h = valid[:, :-1] & valid[:, 1:]
    v = valid[:-1, :] & valid[1:, :]
    return [h, v, h, v]


def boundary_f1(
    pred: ArrayLike, gt: ArrayLike, mask: ArrayLike | None = None,
    t_min: float = 1.05, t_max: float = 1.25, n_thresholds: int = 10,
) -> dict[str, float]:
    """Scale-invariant boundary F1 of one depth map against a dense GT depth map.

    Args:
        pred, gt: depth maps of the same size (any positive unit; non-positive values are clipped to 1e-6).
        mask: optional boolean valid-GT mask; pairs touching an invalid pixel are dropped from both
            relation maps. Off by default, like the reference.

    Returns:
        ``{"boundary_f1": SI-F1, "boundary_precision": weighted P, "boundary_recall": weighted R}``
        (precision and recall use the same threshold weights as the F1).
    """
    p = as_image(pred, "pred")
    g = as_image(gt, "gt")
    check_same_size(p, g, "pred", "gt")
    thresholds = np.linspace(t_min, t_max, n_thresholds)
    weights = thresholds / thresholds.sum()
    rp = _relations(1.0 / np.clip(p, 1e-6, None), thresholds)
    rg = _relations(1.0 / np.clip(g, 1e-6, None), thresholds)
    if mask is not None:
        vm = as_image(mask, "mask").astype(bool)
        check_same_size(vm, g, "mask", "gt")
        pairs = _pair_masks(vm)
        rp = [r & m[None] for r, m in zip(rp, pairs)]
        rg = [r & m[None] for r, m in zip(rg, pairs)]
    recall = np.zeros(n_thresholds)
    precision = np.zeros(n_thresholds)
    for a, b in zip(rp, rg):  # four directions, each vectorised over all thresholds
        both = np.count_nonzero(a & b, axis=(1, 2))
        recall += both / np.maximum(np.count_nonzero(b, axis=(1, 2)), 1)
        precision += both / np.maximum(np.count_nonzero(a, axis=(1, 2)), 1)
    recall *= 0.25
    precision *= 0.25
    denom = precision + recall
    f1 = np.where(denom > 0, 2 * precision * recall / np.where(denom > 0, denom, 1), 0.0)
    return {
        "boundary_f1": float(np.sum(f1 * weights)),
        "boundary_precision": float(np.sum(precision * weights)),
        "boundary_recall": float(np.sum(recall * weights)),
    }
