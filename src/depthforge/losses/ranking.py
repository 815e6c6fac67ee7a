"""Edge-guided ranking loss of PatchRefiner's teacher-student ("DSD") term (``EdgeguidedRankingLoss``).

The student learns the teacher's depth ORDER, not its values: point pairs are sampled across the pseudo
label's edges (where the ordering carries the detail the student should inherit) and, as many again, at
random over the valid pixels; each pair is labelled closer / equal / farther from the pseudo label and
scored with a ranking loss on the student's depths. The scheme descends from the "Structure-Guided
Ranking Loss" (Xian et al., CVPR 2020).

Kept from the reference on purpose (each has an opt-out where it is a plain bug):

* the "angle" that orients the four samples is kornia's normalised Sobel MAGNITUDE of the pseudo label,
  not its direction (``true_angle=True`` uses ``atan2`` of the normalised gradients instead);
* the student's depths are divided by 250 / 80 before scoring (``range_ratio=1.0`` turns it off);
* the four distances are not sorted: points ``a, b`` lie at ``-d1, -d2`` and ``c, d`` at ``+d3, +d4``
  along the direction, ``d_k`` uniform on 2..30 inclusive, so ``a`` and ``b`` may be in either order;
* with the 90 degree turn the column offset uses the sine and the row offset the cosine of the turned
  angle (net offsets ``(+d cos, -d sin)`` of the original angle);
* an image with no edge pixel inside the valid range, or whose every quadruple leaves the image, adds
  nothing to the loss (no random pairs either) but still counts in the division by the batch size;
* an image with exactly one valid pixel gets no random pairs (the reference's squeezed index tensor has
  no length there and its ``TypeError`` is caught).

Differences: the draws use an explicit ``torch.Generator`` (CPU) instead of the global numpy / torch
streams, so the loss is reproducible but its samples differ from the reference's; ``log(1 + exp(x))`` is
evaluated stably (``logaddexp``), which agrees with the reference's naive form except where its ``exp``
overflows to ``inf`` (``x`` above about 88 in float32) and at rounding level near zero; the per-pair
terms are accumulated in float64 as the reference does. When no image contributes, the loss is a zero
connected to the prediction's graph (the reference returns a constant).
"""

from __future__ import annotations

import math

import kornia
import numpy as np
import torch
import torch.nn.functional as F

from depthforge.metrics.edges import extract_edges

__all__ = ["edge_guided_pairs", "edge_ranking_loss", "pair_loss", "random_pairs"]

_MIN_OFFSET, _MAX_OFFSET = 2, 30  # distances along the direction, both inclusive
_RATIO_EPS = 1e-6


def pair_loss(
    z_a: torch.Tensor, z_b: torch.Tensor, y_a: torch.Tensor, y_b: torch.Tensor, sigma: float, alpha: float
) -> torch.Tensor:
    """Ranking loss of one image's pairs: predictions ``z``, pseudo-label depths ``y``.

    ``r = (y_a + 1e-6) / (y_b + 1e-6)``; a pair is "equal" when ``1 / (1 + sigma) < r < 1 + sigma``,
    otherwise labelled ``l = +1`` (``r >= 1 + sigma``) or ``-1``. The loss is
    ``alpha * mean(equal * (z_a - z_b)^2) + mean(unequal * log(1 + exp(l * (z_b - z_a))))``, both
    means over ALL pairs. Evaluated in float64.
    """
    diff = (z_a - z_b).to(torch.float64)
    ratio = (y_a.detach() + _RATIO_EPS) / (y_b.detach() + _RATIO_EPS)
    upper, lower = 1.0 + sigma, 1.0 / (1.0 + sigma)
    equal = (ratio < upper) & (ratio > lower)
    label = torch.zeros_like(diff)
    label[ratio >= upper] = 1.0
    label[ratio <= lower] = -1.0
    equal_term = diff.pow(2) * equal
    ranked = -diff * label
    unequal_term = torch.logaddexp(ranked, torch.zeros_like(ranked)) * ~equal
    return alpha * equal_term.mean() + unequal_term.mean()


def edge_guided_pairs(
    anchors_mask: torch.Tensor, theta: torch.Tensor, num_anchors: int, generator: torch.Generator | None = None,
    random_direct: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairs along the edges of one image: ``(points_a, points_b)``, each ``2 x P`` (rows; columns).

    ``num_anchors`` anchors are drawn with replacement from ``anchors_mask`` (H x W, boolean); each
    gets four points at signed distances ``-d1, -d2, +d3, +d4`` (``d_k`` in 2..30) along ``theta`` at
    the anchor, offsets rounded half to even. With ``random_direct`` one coin per image turns the angle
    by 90 degrees (then the column offset uses the sine, the row offset the cosine, as the reference).
    Quadruples with a point outside the image are dropped; the rest give the pairs (a, b), (b, c),
    (c, d), in that block order, so ``P = 3 * kept``. Draws come from ``generator`` on the CPU.
    """
    device = anchors_mask.device
    height, width = anchors_mask.shape
    where = anchors_mask.nonzero()
    empty = torch.zeros(2, 0, dtype=torch.long, device=device)
    if where.shape[0] == 0:
        return empty, empty
    pick = torch.randint(0, where.shape[0], (num_anchors,), generator=generator).to(device)
    rows0, cols0 = where[pick, 0], where[pick, 1]
    angle = theta[rows0, cols0]
    dist = torch.randint(_MIN_OFFSET, _MAX_OFFSET + 1, (4, num_anchors), generator=generator).to(device)
    sign = torch.tensor([-1.0, -1.0, 1.0, 1.0], dtype=torch.float64, device=device).view(4, 1)
    dist = dist.to(torch.float64) * sign
    turned = random_direct and torch.rand((), generator=generator).item() >= 0.5
    if turned:
        angle = angle + math.pi / 2
        angle = (angle + math.pi) % (2 * math.pi) - math.pi
        step_col, step_row = torch.sin(angle), torch.cos(angle)
    else:
        step_col, step_row = torch.cos(angle), torch.sin(angle)
    cols = cols0 + torch.round(dist * step_col.to(torch.float64)).long()
    rows = rows0 + torch.round(dist * step_row.to(torch.float64)).long()
    inside = ((cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)).all(dim=0)
    rows, cols = rows[:, inside], cols[:, inside]
    points_a = torch.stack([rows[:3].reshape(-1), cols[:3].reshape(-1)])
    points_b = torch.stack([rows[1:].reshape(-1), cols[1:].reshape(-1)])
    return points_a, points_b


def random_pairs(
    valid: torch.Tensor, count: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat indices of ``min(count, #valid)`` random pairs of valid pixels (two independent permutations).

    No pairs when exactly one pixel is valid (the reference skips that case through a caught error).
    """
    where = valid.reshape(-1).nonzero().squeeze(1)
    total = where.numel()
    if total <= 1:
        empty = torch.zeros(0, dtype=torch.long, device=valid.device)
        return empty, empty
    count = min(count, total)
    first = torch.randperm(total, generator=generator)[:count].to(valid.device)
    second = torch.randperm(total, generator=generator)[:count].to(valid.device)
    return where[first], where[second]


def _direction_map(pseudo: torch.Tensor, true_angle: bool) -> torch.Tensor:
    """The per-pixel "angle": kornia's normalised Sobel magnitude (reference), or the gradient's direction."""
    if true_angle:
        grad = kornia.filters.spatial_gradient(pseudo, mode="sobel", order=1, normalized=True)
        return torch.atan2(grad[:, :, 1], grad[:, :, 0])
    return kornia.filters.sobel(pseudo, normalized=True, eps=1e-6)


def _edge_map(depth: torch.Tensor) -> torch.Tensor:
    """Canny edges of log depth (the metric's ``extract_edges``, sigma 1) of one H x W map."""
    values = depth.detach().cpu()
    if values.dtype not in (torch.float32, torch.float64):
        values = values.float()
    edges = extract_edges(values.numpy(), preprocess="log")
    return torch.from_numpy(np.ascontiguousarray(edges))


def edge_ranking_loss(
    pred: torch.Tensor,
    pseudo: torch.Tensor,
    gt: torch.Tensor,
    *,
    point_pairs: int = 10000,
    sigma: float = 0.03,
    alpha: float = 1.0,
    min_depth: float = 1e-3,
    max_depth: float = 250.0,
    range_ratio: float = 250 / 80,
    true_angle: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, float]:
    """``(loss, sample_num)``: the ranking loss averaged over the batch, and the mean pairs per image.

    ``pred`` is B x 1 x h x w; the pseudo label ``pseudo`` and the ground truth ``gt`` (B x 1 x H x W)
    are resized bilinearly (``align_corners=True``) to ``pred``'s size. Valid pixels:
    ``min_depth < gt < max_depth``. Per image: :func:`edge_guided_pairs` from ``point_pairs`` anchors on
    the Canny edges of log pseudo depth inside the valid mask, plus as many :func:`random_pairs` (at most
    the valid count); ``pred / range_ratio`` and the pseudo label are scored by :func:`pair_loss`.
    ``generator`` (CPU) drives every draw; ``None`` uses torch's global CPU generator. The reference's RGB
    input is not taken: it was only resized, never used.
    """
    if pred.dim() != 4 or pseudo.dim() != 4 or gt.dim() != 4:
        raise ValueError("edge_ranking_loss expects B x 1 x H x W tensors, got "
                         f"{tuple(pred.shape)}, {tuple(pseudo.shape)} and {tuple(gt.shape)}")
    size = tuple(pred.shape[-2:])
    pseudo = pseudo.detach()  # the teacher only labels pairs
    if pseudo.shape[-2:] != size:
        pseudo = F.interpolate(pseudo, size=size, mode="bilinear", align_corners=True)
    if gt.shape[-2:] != size:
        gt = F.interpolate(gt, size=size, mode="bilinear", align_corners=True)
    valid = (gt > min_depth) & (gt < max_depth)
    theta = _direction_map(pseudo, true_angle)
    batch = pred.shape[0]
    total: torch.Tensor | None = None
    pairs_seen = 0
    for i in range(batch):
        edges = _edge_map(pseudo[i, 0]).to(valid.device)
        points_a, points_b = edge_guided_pairs(edges & valid[i, 0], theta[i, 0], point_pairs, generator)
        found = points_a.shape[1]
        pairs_seen += found
        if found == 0:
            continue
        width = size[1]
        flat_a = points_a[0] * width + points_a[1]
        flat_b = points_b[0] * width + points_b[1]
        extra_a, extra_b = random_pairs(valid[i, 0], found, generator)
        pairs_seen += extra_a.numel()
        flat_a, flat_b = torch.cat([flat_a, extra_a]), torch.cat([flat_b, extra_b])
        z, y = pred[i, 0].reshape(-1), pseudo[i, 0].reshape(-1)
        z_a, z_b = z[flat_a] / range_ratio, z[flat_b] / range_ratio
        term = pair_loss(z_a, z_b, y[flat_a], y[flat_b], sigma, alpha)
        total = term if total is None else total + term
    sample_num = pairs_seen / batch
    if total is None:
        return (pred * 0).sum(), sample_num
    return total.to(pred.dtype) / batch, sample_num
