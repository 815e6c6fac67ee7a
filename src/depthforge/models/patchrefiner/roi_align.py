"""RoI-align in plain torch, equal to ``torchvision.ops.roi_align(..., aligned=True)`` with adaptive sampling.

PatchRefiner resamples the region of each tile from the whole-image coarse maps back to every map's full size.
torchvision's kernel is not needed: the rule is reproduced here with the same float arithmetic (start
coordinates shifted by half a pixel, ``ceil(roi / output)`` samples per bin and axis, samples outside
``[-1, size]`` count as zero, samples below 0 are clamped to 0, the last row/column is held), so that for one
sample per bin (PatchRefiner's case: a tile is smaller than the image) the result is identical bit for bit.

Boxes carry a batch index into ``features``: many tiles index one copy of the whole-image maps.
"""

from __future__ import annotations

import math

import torch

__all__ = ["roi_align"]


def _axis_samples(
    start: torch.Tensor, bin_size: torch.Tensor, bins: int, grid: int, size: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Low/high indices and weights of the samples along one axis, bin-major (``bins * grid`` entries)."""
    dtype, device = start.dtype, start.device
    index = torch.arange(bins, dtype=dtype, device=device).unsqueeze(1)
    sub = (torch.arange(grid, dtype=dtype, device=device) + 0.5).unsqueeze(0)
    pos = (start + index * bin_size) + sub * bin_size / grid
    pos = pos.reshape(-1)
    inside = (pos >= -1.0) & (pos <= size)
    pos = pos.clamp(min=0.0)
    low = pos.to(torch.int64)  # truncation, pos >= 0
    at_end = low >= size - 1
    low = torch.where(at_end, torch.full_like(low, size - 1), low)
    high = torch.where(at_end, low, low + 1)
    pos = torch.where(at_end, low.to(dtype), pos)
    frac_high = pos - low.to(dtype)
    frac_low = 1.0 - frac_high
    zero = torch.zeros_like(pos)
    frac_high = torch.where(inside, frac_high, zero)
    frac_low = torch.where(inside, frac_low, zero)
    return low, high, frac_low, frac_high


def roi_align(
    features: torch.Tensor,
    boxes: torch.Tensor,
    output_size: tuple[int, int],
    spatial_scale: float,
) -> torch.Tensor:
    """Average of bilinear samples over each output bin of each box (``aligned=True``, adaptive sampling).

    ``features``: B x C x H x W. ``boxes``: K x 5 rows ``(batch_index, x1, y1, x2, y2)`` in the frame that
    ``spatial_scale`` maps onto the feature grid. Returns K x C x ``output_size``.
    """
    if features.dim() != 4:
        raise ValueError(f"features must be B x C x H x W, got shape {tuple(features.shape)}")
    if boxes.dim() != 2 or boxes.shape[1] != 5:
        raise ValueError(f"boxes must be K x 5 (batch index, x1, y1, x2, y2), got shape {tuple(boxes.shape)}")
    out_h, out_w = int(output_size[0]), int(output_size[1])
    _, channels, height, width = features.shape
    dtype = features.dtype
    rois = boxes.to(dtype=dtype, device=features.device)
    scale = torch.tensor(spatial_scale, dtype=dtype, device=features.device)
    # Gathered channels-last: each row and column index then selects a contiguous run of channels (a
    # channels-first gather along the width moves single floats), and the result comes out in the
    # channels-last layout the fusion network runs in. The arithmetic per element is unchanged.
    out = features.new_zeros((rois.shape[0], out_h, out_w, channels)).permute(0, 3, 1, 2)
    nhwc: dict[int, torch.Tensor] = {}
    for k in range(rois.shape[0]):
        batch = int(rois[k, 0].item())
        start_w = rois[k, 1] * scale - 0.5
        start_h = rois[k, 2] * scale - 0.5
        end_w = rois[k, 3] * scale - 0.5
        end_h = rois[k, 4] * scale - 0.5
        bin_h = (end_h - start_h) / out_h
        bin_w = (end_w - start_w) / out_w
        grid_h = math.ceil(float(bin_h))
        grid_w = math.ceil(float(bin_w))
        if grid_h <= 0 or grid_w <= 0:
            continue  # an empty box: no samples, zeros
        y_lo, y_hi, wy_lo, wy_hi = _axis_samples(start_h, bin_h, out_h, grid_h, height)
        x_lo, x_hi, wx_lo, wx_hi = _axis_samples(start_w, bin_w, out_w, grid_w, width)
        if batch not in nhwc:
            nhwc[batch] = features[batch].permute(1, 2, 0).contiguous()
        fmap = nhwc[batch]
        rows_lo = fmap.index_select(0, y_lo)
        rows_hi = fmap.index_select(0, y_hi)
        w1 = (wy_lo[:, None] * wx_lo[None, :]).unsqueeze(2)
        w2 = (wy_lo[:, None] * wx_hi[None, :]).unsqueeze(2)
        w3 = (wy_hi[:, None] * wx_lo[None, :]).unsqueeze(2)
        w4 = (wy_hi[:, None] * wx_hi[None, :]).unsqueeze(2)
        val = w1 * rows_lo.index_select(1, x_lo)
        val = val + w2 * rows_lo.index_select(1, x_hi)
        val = val + w3 * rows_hi.index_select(1, x_lo)
        val = val + w4 * rows_hi.index_select(1, x_hi)
        if grid_h * grid_w > 1:
            val = val.reshape(out_h, grid_h, out_w, grid_w, channels).sum(dim=(1, 3)) / (grid_h * grid_w)
        out[k].copy_(val.permute(2, 0, 1))
    return out
