"""Scale-and-shift-invariant L1 loss of PatchRefiner's teacher-student ("DSD") term (``ScaleAndShiftInvariantLoss``).

The student is compared with the teacher's pseudo label only up to an affine map, solved in closed form
per sample (MiDaS ``compute_scale_and_shift``), because the teacher's depth is trusted for its structure,
not for its metric scale. The solve is part of the graph, as in the reference: gradients flow through the
scale and the shift.

Differences from the reference, both fixes of crashes: the reference squeezes its inputs, so a batch of
one loses its batch axis and the per-sample sums run over the wrong dimensions; here every sample is
flattened on its own, so a batch of one gives the same per-sample maths as any other batch. The
reference's few-pixel branch returns ``input * 0.0`` with Python's builtin ``input``; here it returns a
zero connected to the prediction's graph. For batches of more than one image the numbers are unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["scale_and_shift", "ssi_loss"]


def _flat(x: torch.Tensor) -> torch.Tensor:
    """One row per sample: (B, everything else)."""
    return x.reshape(x.shape[0], -1)


def scale_and_shift(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample least-squares ``(s, t)``, each of shape (B,), minimising ``sum_mask (s * pred + t - target)^2``.

    The 2 x 2 normal equations are solved by Cramer's rule; a sample whose system is singular
    (``det <= 0``: fewer than two masked pixels, or a constant prediction over the mask) gets
    ``s = t = 0``, as MiDaS does. ``pred``, ``target`` and ``mask`` share a shape whose first axis is
    the batch; ``mask`` defaults to all ones.
    """
    p, y = _flat(pred), _flat(target)
    m = torch.ones_like(p) if mask is None else _flat(mask.expand_as(pred)).to(p.dtype)
    a00 = (m * p * p).sum(dim=1)
    a01 = (m * p).sum(dim=1)
    a11 = m.sum(dim=1)
    b0 = (m * p * y).sum(dim=1)
    b1 = (m * y).sum(dim=1)
    det = a00 * a11 - a01 * a01
    solvable = det > 0
    # a harmless divisor where the system is singular keeps NaN out of the backward pass
    safe = torch.where(solvable, det, torch.ones_like(det))
    zero = torch.zeros_like(det)
    s = torch.where(solvable, (a11 * b0 - a01 * b1) / safe, zero)
    t = torch.where(solvable, (a00 * b1 - a01 * b0) / safe, zero)
    return s, t


def ssi_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean ``|s * pred + t - target|`` over the masked pixels of the whole batch.

    * ``pred`` (B x 1 x h x w) is resized bilinearly (``align_corners=True``) to the pseudo label
      ``target`` (B x 1 x H x W) when the sizes differ; works on depth, not inverse depth;
    * ``(s, t)`` come from :func:`scale_and_shift` per sample and are not detached;
    * the mean is pooled: the absolute errors of all masked pixels of all samples, divided by their
      number (no trimming, no gradient-matching term);
    * ``mask`` (boolean, target's shape) defaults to all ones; with at most one masked pixel in the
      batch (the reference's skip threshold) the loss is a zero connected to ``pred``.
    """
    if pred.dim() != 4 or target.dim() != 4:
        raise ValueError(f"ssi_loss expects B x C x H x W tensors, got {tuple(pred.shape)} and "
                         f"{tuple(target.shape)}")
    if pred.shape[-2:] != target.shape[-2:]:
        pred = F.interpolate(pred, size=tuple(target.shape[-2:]), mode="bilinear", align_corners=True)
    keep = torch.ones_like(target, dtype=torch.bool) if mask is None else mask.to(torch.bool).expand_as(target)
    if keep.sum() <= 1:
        return (pred * 0).sum()
    s, t = scale_and_shift(pred, target, keep)
    fitted = s.view(-1, *([1] * (pred.dim() - 1))) * pred + t.view(-1, *([1] * (pred.dim() - 1)))
    return (fitted - target)[keep].abs().mean()
