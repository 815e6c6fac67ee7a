"""Edge detectors used by the boundary metrics (MDEC ``extract_edges`` and the CityScapes protocol).

The detectors are library-version sensitive, so they call the pinned libraries directly:
scikit-image 0.26.0 ``feature.canny`` for depth edges and kornia 0.9.0 ``filters.canny`` /
``filters.spatial_gradient`` for the segmentation and RGB edges.
"""

from __future__ import annotations

from typing import Literal

import kornia
import numpy as np
import torch
from scipy import ndimage
from skimage.feature import canny

from depthforge.errors import DataError
from depthforge.metrics._arrays import ArrayLike, as_color, as_image


def log_depth(depth: np.ndarray) -> np.ndarray:
    """``(d > 0) * ln(max(d, eps))`` with eps the machine epsilon of the dtype (torch maths, as the reference)."""
    t = torch.from_numpy(np.ascontiguousarray(depth))
    eps = torch.finfo(t.dtype).eps if t.dtype.is_floating_point else torch.finfo(torch.float32).eps
    if not t.dtype.is_floating_point:
        t = t.float()
    return ((t > 0) * t.clamp(min=eps).log()).numpy()


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
    return canny(x, sigma=sigma, mask=mask)


def square_dilate(mask: np.ndarray, size: int) -> np.ndarray:
    """Binary dilation with a ``size x size`` square (odd size).

    Equals the references' ``gaussian_blur2d(k x k, sigma, reflect) > 0`` trick: every Gaussian tap is
    positive, and reflect padding only repeats pixels that are inside the window anyway.
    """
    if size % 2 != 1:
        raise DataError("size", f"square dilation needs an odd size, got {size}")
    if size == 1:
        return mask.astype(bool)
    return ndimage.maximum_filter(mask.astype(bool), size=size, mode="nearest")


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
