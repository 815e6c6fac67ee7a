"""RoI-align against a direct, per-bin transcription of torchvision's ``roi_align(aligned=True)`` rule."""

from __future__ import annotations

import math

import pytest
import torch

from depthforge.models.patchrefiner.roi_align import roi_align


def _bilinear(fmap: torch.Tensor, y: float, x: float) -> torch.Tensor:
    """One bilinear sample with torchvision's border rules (zero outside [-1, size], clamp, hold last row)."""
    height, width = fmap.shape[-2:]
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return torch.zeros(fmap.shape[0], dtype=torch.float64)
    y = max(y, 0.0)
    x = max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= height - 1:
        y0 = y1 = height - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= width - 1:
        x0 = x1 = width - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    hy, hx = 1.0 - ly, 1.0 - lx
    f = fmap.double()
    return hy * hx * f[:, y0, x0] + hy * lx * f[:, y0, x1] + ly * hx * f[:, y1, x0] + ly * lx * f[:, y1, x1]


def _slow_roi_align(features, boxes, output_size, scale):
    out_h, out_w = output_size
    result = torch.zeros(boxes.shape[0], features.shape[1], out_h, out_w, dtype=torch.float64)
    for k, (b, x1, y1, x2, y2) in enumerate(boxes.double().tolist()):
        sw, sh = x1 * scale - 0.5, y1 * scale - 0.5
        bw, bh = (x2 * scale - 0.5 - sw) / out_w, (y2 * scale - 0.5 - sh) / out_h
        gh, gw = math.ceil(bh), math.ceil(bw)
        count = max(gh * gw, 1)
        for i in range(out_h):
            for j in range(out_w):
                acc = torch.zeros(features.shape[1], dtype=torch.float64)
                for iy in range(max(gh, 0)):
                    y = sh + i * bh + (iy + 0.5) * bh / gh
                    for ix in range(max(gw, 0)):
                        x = sw + j * bw + (ix + 0.5) * bw / gw
                        acc += _bilinear(features[int(b)], y, x)
                result[k, :, i, j] = acc / count
    return result


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_random_boxes_match_the_rule(seed: int, dtype: torch.dtype) -> None:
    g = torch.Generator().manual_seed(seed)
    features = torch.randn(3, 4, 9, 13, generator=g, dtype=dtype)
    n = 12
    centre = torch.rand(n, 2, generator=g) * torch.tensor([26.0, 18.0]) - 2  # some centres outside the image
    size = torch.rand(n, 2, generator=g) * torch.tensor([30.0, 20.0])  # up to larger than the image
    boxes = torch.cat(
        [torch.randint(0, 3, (n, 1), generator=g).float(), centre - size / 2, centre + size / 2], 1
    )
    out = roi_align(features, boxes.to(dtype), (5, 7), 0.5)
    ref = _slow_roi_align(features, boxes.to(dtype), (5, 7), 0.5)
    # float64: the rule itself; float32: its rounding of the sample positions (a few ulps of the coordinates)
    atol = 1e-12 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(out.double(), ref, atol=atol, rtol=0)


def test_boxes_touching_borders_and_patchrefiner_geometry() -> None:
    """Tiles of a 2x2 split in the coarse frame (24x32 here), resampled to each level's full size."""
    g = torch.Generator().manual_seed(5)
    levels = [torch.randn(1, 3, s, s * 4 // 3, generator=g, dtype=torch.float64) for s in (3, 6, 12, 24)]
    boxes = torch.tensor(
        [
            [0, 0.0, 0.0, 16.0, 12.0],
            [0, 16.0, 0.0, 32.0, 12.0],
            [0, 0.0, 12.0, 16.0, 24.0],
            [0, 16.0, 12.0, 32.0, 24.0],
            [0, 0.0, 0.0, 32.0, 24.0],
            [0, 31.0, 23.0, 32.0, 24.0],
        ],
        dtype=torch.float64,
    )
    for fmap in levels:
        h, w = fmap.shape[-2:]
        out = roi_align(fmap, boxes, (h, w), h / 24)
        ref = _slow_roi_align(fmap, boxes, (h, w), h / 24)
        torch.testing.assert_close(out, ref, atol=1e-12, rtol=0)
        # float32 with float32 boxes: one sample per bin, so only the coordinates' rounding differs
        out32 = roi_align(fmap.float(), boxes.float(), (h, w), h / 24)
        torch.testing.assert_close(out32.double(), ref, atol=1e-5, rtol=0)
    # a box covering the whole image at full output size reproduces the map exactly
    fmap = levels[-1]
    out = roi_align(fmap, boxes[4:5], fmap.shape[-2:], 1.0)
    torch.testing.assert_close(out, fmap, atol=1e-12, rtol=0)


def test_one_copy_indexed_equals_replicated_maps() -> None:
    g = torch.Generator().manual_seed(3)
    fmap = torch.randn(1, 5, 12, 16, generator=g)
    boxes = torch.tensor([[0, 1.5, 2.0, 9.0, 8.5], [0, 8.0, 6.0, 16.0, 12.0], [0, 0.0, 0.0, 4.0, 3.0]])
    single = roi_align(fmap, boxes, (12, 16), 1.0)
    replicated = boxes.clone()
    replicated[:, 0] = torch.arange(3)
    torch.testing.assert_close(
        single, roi_align(fmap.repeat(3, 1, 1, 1), replicated, (12, 16), 1.0), rtol=0, atol=0
    )


def test_empty_and_inverted_boxes_give_zeros() -> None:
    fmap = torch.randn(1, 2, 6, 6)
    out = roi_align(fmap, torch.tensor([[0, 3.0, 3.0, 3.0, 3.0], [0, 5.0, 5.0, 1.0, 1.0]]), (2, 2), 1.0)
    assert torch.count_nonzero(out) == 0


def test_float64_and_gradients() -> None:
    fmap = torch.randn(1, 2, 6, 8, dtype=torch.float64, requires_grad=True)
    boxes = torch.tensor([[0, 0.5, 1.0, 6.0, 5.0]], dtype=torch.float64)
    out = roi_align(fmap, boxes, (3, 4), 1.0)
    assert out.dtype == torch.float64
    out.sum().backward()
    assert fmap.grad is not None and torch.isfinite(fmap.grad).all()
