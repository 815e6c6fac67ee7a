"""Protocol ``cityscapes-pr``: PatchRefiner's CityScapes evaluation (``CityScapesDataset.get_metrics``).

Per image: the prediction is resized to the GT (bilinear, align_corners=False); the valid mask drops the
bottom quarter rows and the W/16 side bands; the GT boundary is ``kornia canny(seg colours) AND
7x7-dilated skimage canny(log GT)``; RGB edges (normalised Sobel, >= 5 % of max, 3x3-dilated) and the GT
boundary are removed from the valid mask to give the *flat* mask on which the ten depth metrics and SEE
are computed. Boundary metrics use the unmasked edge maps and the plain valid mask.
Keys (reference order): ``a1 .. see`` (as ``mono-zoe``) then ``EdgeAcc, EdgeComp, precision, recall,
f1_score, hamming, acc``. With ``include_full=True`` the ten depth metrics on the plain valid mask are
added with a ``full_`` prefix.
"""

from __future__ import annotations

import numpy as np

from depthforge.metrics._arrays import ArrayLike, as_color, as_image, check_same_size
from depthforge.metrics.boundary import boundary_metrics
from depthforge.metrics.edges import extract_edges, image_edges, seg_edges, square_dilate
from depthforge.metrics.mono import MONO_KEYS, get_boundaries, monocular, resize_bilinear

CITYSCAPES_KEYS: tuple[str, ...] = MONO_KEYS + (
    "EdgeAcc", "EdgeComp", "precision", "recall", "f1_score", "hamming", "acc",
)


def cityscapes_valid_mask(gt: np.ndarray, min_depth: float = 1e-3, max_depth: float = 250.0) -> np.ndarray:
    """``min < gt < max`` without the bottom rows ``[-H//4:]`` and side bands ``[:W//16]``, ``[-W//16:]``."""
    h, w = gt.shape
    m = (gt > min_depth) & (gt < max_depth)
    m[-h // 4:, :] = False  # Python floor division of -H: one row more than H//4 when H % 4 != 0
    m[:, : w // 16] = False
    if w // 16:
        m[:, -(w // 16):] = False
    return m


def cityscapes_masks(
    pred: ArrayLike, gt: ArrayLike, seg_color: ArrayLike, image: ArrayLike,
    min_depth: float = 1e-3, max_depth: float = 250.0,
) -> dict[str, np.ndarray]:
    """Intermediate maps of the protocol: ``pred_resized``, ``valid_mask``, ``gt_boundary``,
    ``image_edges``, ``flat_mask`` and ``pred_edges`` (all (H, W); masks boolean)."""
    g = as_image(gt, "gt")
    p = resize_bilinear(as_image(pred, "pred"), g.shape)
    seg = as_color(seg_color, "seg_color")
    check_same_size(seg, g, "seg_color", "gt")
    valid = cityscapes_valid_mask(g, min_depth, max_depth)
    gt_boundary = seg_edges(seg) & square_dilate(extract_edges(g), 7)
    img_e = image_edges(image)
    check_same_size(img_e, g, "image", "gt")
    flat = valid & ~gt_boundary & ~img_e
    return {
        "pred_resized": p, "valid_mask": valid, "gt_boundary": gt_boundary, "image_edges": img_e,
        "flat_mask": flat, "pred_edges": extract_edges(p),  # edges of the unclamped resized prediction
    }


def cityscapes(
    pred: ArrayLike,
    gt: ArrayLike,
    seg_color: ArrayLike,
    image: ArrayLike,
    boundary: ArrayLike | None = None,
    min_depth: float = 1e-3,
    max_depth: float = 250.0,
    include_full: bool = False,
) -> dict[str, float]:
    """All 17 ``cityscapes-pr`` metrics of one image.

    Args:
        pred: predicted depth in metres, any size (resized to the GT).
        gt: GT depth in metres as the CityScapes loader makes it (sky 0, bottom/side bands -1).
        seg_color: gtFine colour map, 0..255 (uint8 or float), (3, H, W) / (H, W, 3) / (1, 3, H, W).
        image: RGB in [0, 1] (or uint8 0..255), same layouts.
        boundary: SEE boundary; default ``get_boundaries(gt, th=1)`` as the loader computes it.
    """
    g = as_image(gt, "gt")
    masks = cityscapes_masks(pred, g, seg_color, image, min_depth, max_depth)
    b = get_boundaries(g, th=1.0) if boundary is None else as_image(boundary, "boundary")
    out = monocular(masks["pred_resized"], g, min_depth, max_depth, boundary=b,
                    additional_mask=masks["flat_mask"])
    out.update(boundary_metrics(None, masks["gt_boundary"], masks["valid_mask"], pred_edges=masks["pred_edges"]))
    if include_full:
        full = monocular(masks["pred_resized"], g, min_depth, max_depth, boundary=b)
        out.update({f"full_{k}": v for k, v in full.items()})
    return out
