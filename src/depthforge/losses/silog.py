"""Scale-invariant logarithmic loss of ZoeDepth / AdaBins / PatchRefiner (``SILogLoss``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["silog_loss"]


def silog_loss(
    pred: torch.Tensor,
    gt: torch.Tensor,
    min_depth: float,
    max_depth: float,
    mask: torch.Tensor | None = None,
    *,
    beta: float = 0.15,
    scale: float = 10.0,
    eps: float = 1e-7,
) -> torch.Tensor:
    """``scale * sqrt(Var(g) + beta * mean(g)^2)`` with ``g = log(pred + eps) - log(gt + eps)``.

    * ``pred`` (``N x 1 x h x w``) is resized bilinearly (``align_corners=True``) to ``gt``'s size
      (``N x 1 x H x W``) when they differ;
    * valid pixels: ``min_depth < gt < max_depth`` (strict); an extra ``mask`` is ANDed in only when the
      result keeps at least 0.1 % of ``h * w`` pixels (the prediction's size before resizing, as the
      reference counts);
    * ``g`` is pooled over the valid pixels of the whole batch; ``Var`` is the unbiased variance;
    * with at most one valid pixel the loss is a zero connected to ``pred`` (no NaN, no gradient).
    """
    if pred.dim() != 4 or gt.dim() != 4:
        raise ValueError(f"silog_loss expects N x C x H x W tensors, got {tuple(pred.shape)} and "
                         f"{tuple(gt.shape)}")
    h_in, w_in = pred.shape[-2:]
    if pred.shape[-2:] != gt.shape[-2:]:
        pred = F.interpolate(pred, size=tuple(gt.shape[-2:]), mode="bilinear", align_corners=True)
    valid = (gt > min_depth) & (gt < max_depth)
    if mask is not None:
        merged = valid & mask.to(torch.bool)
        if merged.sum() >= h_in * w_in * 0.001:
            valid = merged
    if valid.sum() <= 1:
        return (pred * 0.0).sum()
    g = torch.log(pred[valid] + eps) - torch.log(gt[valid] + eps)
    dg = torch.var(g) + beta * torch.pow(torch.mean(g), 2)
    return scale * torch.sqrt(dg)
