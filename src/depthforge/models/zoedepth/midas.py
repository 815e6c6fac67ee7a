"""MiDaS v3.1 DPT-BEiT-L/16-384 relative-depth network, the core of ZoeDepth-N.

Module names reproduce the official checkpoints (``pretrained.model.*`` = the BEiT,
``pretrained.act_postprocess{1..4}.*`` = readout and reassembly, ``scratch.*`` = the fusion decoder), so
state dicts load key for key. The forward pass returns the intermediate maps ZoeDepth reads: they are
returned values, not hooks into a shared dictionary, so any number of instances can run in one process.

Numerics follow the MiDaS code: every resampling in the decoder is bilinear with ``align_corners=True``;
the BEiT bias resize is :mod:`depthforge.models.layers.beit`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from depthforge.models.layers.beit import Beit

__all__ = ["DPTBeit", "MidasCore", "MidasFeatures"]


class _ProjectReadout(nn.Module):
    """Each patch token concatenated with the class token (``2C``) -> Linear -> GELU."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.project = nn.Sequential(nn.Linear(2 * dim, dim), nn.GELU())

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        patches = tokens[:, 1:]
        readout = tokens[:, :1].expand_as(patches)
        return self.project(torch.cat((patches, readout), dim=-1))


def _reassemble(dim: int, channels: int, level: int) -> nn.Sequential:
    """Readout + resampling of one tapped token sequence to 4x, 2x, 1x or 1/2x the patch grid.

    Indices 1 and 2 (token transpose and unflatten in the original) hold no parameters; identities keep
    the checkpoint indices ``3`` and ``4`` of the convolutions.
    """
    layers: list[nn.Module] = [_ProjectReadout(dim), nn.Identity(), nn.Identity(),
                               nn.Conv2d(dim, channels, kernel_size=1)]
    if level == 1:
        layers.append(nn.ConvTranspose2d(channels, channels, kernel_size=4, stride=4))
    elif level == 2:
        layers.append(nn.ConvTranspose2d(channels, channels, kernel_size=2, stride=2))
    elif level == 4:
        layers.append(nn.Conv2d(channels, channels, kernel_size=3, stride=2, padding=1))
    return nn.Sequential(*layers)


class _Pretrained(nn.Module):
    """The encoder side: the BEiT (``model``) and the four reassembly branches."""

    def __init__(self, model: Beit, channels: Sequence[int]) -> None:
        super().__init__()
        self.model = model
        dim = model.embed_dim
        self.act_postprocess1 = _reassemble(dim, channels[0], 1)
        self.act_postprocess2 = _reassemble(dim, channels[1], 2)
        self.act_postprocess3 = _reassemble(dim, channels[2], 3)
        self.act_postprocess4 = _reassemble(dim, channels[3], 4)

    def levels(self) -> list[nn.Sequential]:
        return [self.act_postprocess1, self.act_postprocess2, self.act_postprocess3, self.act_postprocess4]


class _ResidualConvUnit(nn.Module):
    """``x + conv2(relu(conv1(relu(x))))`` with biased 3x3 convolutions."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(features, features, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(features, features, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(F.relu(self.conv1(F.relu(x)))) + x


class _FusionBlock(nn.Module):
    """RefineNet-style fusion: ``out_conv(resize(RCU2(x0 + RCU1(x1))))`` (``x1`` optional).

    ``refinenet4`` is only ever called with one input, so its ``resConfUnit1`` takes part in no forward; it
    exists because the checkpoints hold it.
    """

    def __init__(self, features: int) -> None:
        super().__init__()
        self.out_conv = nn.Conv2d(features, features, kernel_size=1)
        self.resConfUnit1 = _ResidualConvUnit(features)
        self.resConfUnit2 = _ResidualConvUnit(features)

    def forward(self, x0: torch.Tensor, x1: torch.Tensor | None = None,
                size: tuple[int, int] | None = None) -> torch.Tensor:
        out = x0 if x1 is None else x0 + self.resConfUnit1(x1)
        out = self.resConfUnit2(out)
        if size is None:
            out = F.interpolate(out, scale_factor=2, mode="bilinear", align_corners=True)
        else:
            out = F.interpolate(out, size=size, mode="bilinear", align_corners=True)
        return self.out_conv(out)


class _Upsample2x(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)


class _Scratch(nn.Module):
    """The decoder: per-level 3x3 projections, four fusion blocks and the output head."""

    def __init__(self, channels: Sequence[int], features: int, head_features: int) -> None:
        super().__init__()
        self.layer1_rn = nn.Conv2d(channels[0], features, kernel_size=3, padding=1, bias=False)
        self.layer2_rn = nn.Conv2d(channels[1], features, kernel_size=3, padding=1, bias=False)
        self.layer3_rn = nn.Conv2d(channels[2], features, kernel_size=3, padding=1, bias=False)
        self.layer4_rn = nn.Conv2d(channels[3], features, kernel_size=3, padding=1, bias=False)
        self.refinenet1 = _FusionBlock(features)
        self.refinenet2 = _FusionBlock(features)
        self.refinenet3 = _FusionBlock(features)
        self.refinenet4 = _FusionBlock(features)
        self.output_conv = nn.Sequential(
            nn.Conv2d(features, features // 2, kernel_size=3, padding=1),
            _Upsample2x(),
            nn.Conv2d(features // 2, head_features, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(head_features, 1, kernel_size=1),
            nn.ReLU(),  # non-negative relative depth
        )


@dataclass
class MidasFeatures:
    """What one forward of the DPT core yields (shapes for an ``H x W`` input)."""

    rel_depth: torch.Tensor
    """Relative depth (inverse-depth-like, >= 0), ``N x H x W``."""
    out_conv: torch.Tensor
    """Output of the ReLU after the output head's 2nd convolution, ``N x head_features x H x W``."""
    l4_rn: torch.Tensor
    """``layer4_rn`` output (bottleneck), ``N x features x ceil(H/32) x ceil(W/32)``."""
    blocks: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
    """Fusion block outputs r4, r3, r2, r1 at 1/16, 1/8, 1/4, 1/2 of the input size."""


class DPTBeit(nn.Module):
    """DPT with a BEiT encoder (readout ``project``, no BatchNorm, non-negative output)."""

    def __init__(self, beit: Beit, *, taps: Sequence[int] = (5, 11, 17, 23),
                 channels: Sequence[int] = (256, 512, 1024, 1024), features: int = 256,
                 head_features: int = 32) -> None:
        super().__init__()
        if len(taps) != 4 or len(channels) != 4:
            raise ValueError("DPT needs four tapped blocks and four reassembly widths")
        self.taps = tuple(int(t) for t in taps)
        self.pretrained = _Pretrained(beit, channels)
        self.scratch = _Scratch(channels, features, head_features)

    def forward_features(self, x: torch.Tensor) -> MidasFeatures:
        """The relative depth and the decoder maps of a normalised image ``N x 3 x H x W``."""
        beit = self.pretrained.model
        grid = beit.patch_grid(x.shape[-2], x.shape[-1])
        tokens = beit.forward_tokens(x, self.taps)
        layers = []
        for seq, t in zip(self.pretrained.levels(), tokens):
            fmap = seq[0](t).transpose(1, 2).unflatten(2, grid)
            layers.append(seq[3:](fmap))
        s = self.scratch
        l1 = s.layer1_rn(layers[0])
        l2 = s.layer2_rn(layers[1])
        l3 = s.layer3_rn(layers[2])
        l4 = s.layer4_rn(layers[3])
        r4 = s.refinenet4(l4, size=tuple(l3.shape[2:]))
        r3 = s.refinenet3(r4, l3, size=tuple(l2.shape[2:]))
        r2 = s.refinenet2(r3, l2, size=tuple(l1.shape[2:]))
        r1 = s.refinenet1(r2, l1)
        head = s.output_conv
        out_conv = head[3](head[2](head[1](head[0](r1))))
        rel_depth = head[5](head[4](out_conv)).squeeze(1)
        return MidasFeatures(rel_depth, out_conv, l4, (r4, r3, r2, r1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Relative depth ``N x H x W``."""
        return self.forward_features(x).rel_depth


class MidasCore(nn.Module):
    """ZoeDepth's wrapper of the MiDaS network (``core``): input normalisation, then the DPT.

    Images in [0, 1] are mapped to [-1, 1] (mean 0.5, std 0.5); they are not resized.
    """

    def __init__(self, core: DPTBeit) -> None:
        super().__init__()
        self.core = core

    def forward(self, x: torch.Tensor) -> MidasFeatures:
        return self.core.forward_features((x - 0.5) / 0.5)
