"""PatchRefiner's FusionUnet: a conv / LayerNorm / GELU U-Net that predicts a depth residual per tile.

Per level (finest first: the 32-channel 384x512 map, then r1, r2, r3, r4 and the 12x16 bottleneck) the
RoI-aligned coarse features and the fine features are fused (``encoder_layers_1``), concatenated with both
depth maps resized to the level and fused again (``encoder_layers_2``). A decoder climbs from the coarsest
level, concatenating each skip level and both depths (``decoder_layers``); ``final_conv`` gives the offset.
Every resize is bilinear with ``align_corners=True``. Module and parameter names are those of the official
checkpoints (``refiner_fusion_model.*``, 47 entries).

Below float64 the network runs channels-last: its widest convolutions (290 and 64 channels at 384 x 512)
take about two thirds of their channels-first time on CPUs, and the per-pixel LayerNorm becomes one fused
``layer_norm`` over contiguous channels. float64 (verification) keeps channels-first and the explicit order
of operations.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DEC_CHANNELS", "GELU", "IN_CHANNELS", "TEMP_CHANNELS", "ChannelsFirstLayerNorm", "FusionUnet"]

IN_CHANNELS = (64, 512, 512, 512, 512, 512)
"""Channels of ``cat[coarse, fine]`` per level, finest first."""
TEMP_CHANNELS = (32, 256, 256, 256, 256, 256)
"""Encoder output channels per level, finest first."""
DEC_CHANNELS = (256, 256, 256, 256, 32)
"""Decoder output channels, from the second-coarsest level down to the finest."""


def _resize(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=True)


def _cat(tensors: Sequence[torch.Tensor], channels_last: bool) -> torch.Tensor:
    """Channel concatenation in the network's memory format.

    Channels-last concatenates the NHWC views, which writes the result in its final layout in one pass
    (``torch.cat`` of NCHW tensors falls back to channels-first when one-channel maps take part, and the
    conversion afterwards was a second full copy of the widest maps).
    """
    if not channels_last:
        return torch.cat(list(tensors), dim=1)
    return torch.cat([t.permute(0, 2, 3, 1) for t in tensors], dim=3).permute(0, 3, 1, 2)


class GELU(nn.GELU):
    """Exact GELU that overwrites its input when no gradient is recorded (inference).

    The fusion network's widest maps are 228 MB per tile at full size; an in-place activation spares the
    peak one more of them and the allocator a fresh block. Results are identical to ``nn.GELU``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and x.requires_grad:
            return super().forward(x)
        return torch.ops.aten.gelu_(x)


class ChannelsFirstLayerNorm(nn.Module):
    """LayerNorm over the channels of each pixel (biased variance, eps 1e-6), N x C x H x W."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype != torch.float64 and x.is_contiguous(memory_format=torch.channels_last):
            # the same normalisation over the contiguous last dimension of the NHWC view
            y = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), self.weight, self.bias, self.eps)
            return y.permute(0, 3, 1, 2)
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class SingleConvCNNLN(nn.Module):
    """Conv3x3 (no bias) -> channels-first LayerNorm -> GELU."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.single_conv = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            ChannelsFirstLayerNorm(out_channels),
            GELU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.single_conv(x)


class DoubleConv(nn.Module):
    """Conv3x3 in -> in (no bias) -> GELU -> Conv3x3 in -> out (no bias) -> GELU."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, in_channels, 3, padding=1, bias=False),
            GELU(),
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            GELU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.double_conv(x)


class UpBlock(nn.Module):
    """Resize the deeper map to the skip's size, concatenate ``[deeper, skip, depth1, depth2]``, convolve."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = DoubleConv(in_channels, out_channels)

    def forward(
        self, deeper: torch.Tensor, skip: torch.Tensor, depth1: torch.Tensor, depth2: torch.Tensor
    ) -> torch.Tensor:
        size = skip.shape[-2:]
        # passed on without a name: the concatenation is freed as soon as the first convolution has read it
        return self.conv(_cat([_resize(deeper, size), skip, _resize(depth1, size), _resize(depth2, size)],
                              skip.is_contiguous(memory_format=torch.channels_last)))


class FusionUnet(nn.Module):
    """Fuses RoI-aligned coarse and fine features and depths into a depth offset (N x 1 x H x W).

    ``coarse_feats`` and ``fine_feats`` are lists finest level first; ``coarse_depth`` and ``fine_depth`` are
    N x 1 maps at the finest level's size. ``update_base`` (the RoI coarse depth for PatchRefiner's
    ``offset_coarse`` target) turns the offset into a depth: ``clamp(update_base + offset, min=0)``.
    """

    def __init__(
        self,
        input_chl: Sequence[int] = IN_CHANNELS,
        temp_chl: Sequence[int] = TEMP_CHANNELS,
        dec_chl: Sequence[int] = DEC_CHANNELS,
    ) -> None:
        super().__init__()
        if len(input_chl) != len(temp_chl) or len(dec_chl) != len(temp_chl) - 1:
            raise ValueError(
                f"FusionUnet needs one input and one encoder width per level and one decoder width per level "
                f"but the coarsest; got {len(input_chl)}, {len(temp_chl)}, {len(dec_chl)}"
            )
        self.encoder_layers_1 = nn.ModuleList(SingleConvCNNLN(i, t) for i, t in zip(input_chl, temp_chl))
        self.encoder_layers_2 = nn.ModuleList(SingleConvCNNLN(t + 2, t) for t in temp_chl)
        deeper = temp_chl[-1]
        decoders = []
        for skip, out in zip(reversed(temp_chl[:-1]), dec_chl):
            decoders.append(UpBlock(deeper + skip + 2, out))
            deeper = out
        self.decoder_layers = nn.ModuleList(decoders)
        self.final_conv = nn.Conv2d(deeper, 1, 3, padding=1, bias=False)

    def forward(
        self,
        coarse_feats: Sequence[torch.Tensor],
        fine_feats: Sequence[torch.Tensor],
        coarse_depth: torch.Tensor,
        fine_depth: torch.Tensor,
        update_base: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if len(coarse_feats) != len(self.encoder_layers_1) or len(fine_feats) != len(self.encoder_layers_1):
            raise ValueError(
                f"FusionUnet expects {len(self.encoder_layers_1)} coarse and fine feature levels, got "
                f"{len(coarse_feats)} and {len(fine_feats)}"
            )
        cl = coarse_depth.dtype != torch.float64
        encoded = []
        for level, (c, f) in enumerate(zip(coarse_feats, fine_feats)):
            x = self.encoder_layers_1[level](_cat([c, f], cl))
            size = x.shape[-2:]
            x = _cat([x, _resize(coarse_depth, size), _resize(fine_depth, size)], cl)
            encoded.append(self.encoder_layers_2[level](x))
        x = encoded[-1]
        for block, skip in zip(self.decoder_layers, reversed(encoded[:-1])):
            x = block(x, skip, coarse_depth, fine_depth)
        offset = self.final_conv(x).contiguous()
        if update_base is None:
            return offset
        return torch.clamp(update_base + offset, min=0)
