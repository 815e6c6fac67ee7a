"""Building blocks of SemAttNet (reference: ``basic.py`` and ``attention.py`` of danishnazir/SemAttNet).

Module and attribute names reproduce the reference so that ``state_dict`` keys are identical to the official
checkpoints (the key list is ``tests/fixtures/semattnet_state_dict_keys.txt``).  All convolutions are
``bias=False`` except the CBAM MLP.  Every BatchNorm is the checkpoint-aware
:class:`~depthforge.models.layers.BatchNorm2d`, so the memory-efficient training mode leaves BatchNorm
statistics unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from depthforge.models.layers import BatchNorm2d

__all__ = [
    "SAMMAFB",
    "BasicBlockGeo",
    "CSPNGenerate",
    "ChannelGate",
    "SparseDownSampleClose",
    "SpatialGate",
    "convbn",
    "convbnrelu",
    "deconvbnrelu",
]

# --------------------------------------------------------------------------------------------------------------
# conv helpers (reference basic.py); returned Sequentials give keys ``<name>.0.weight`` / ``<name>.1.*``
# --------------------------------------------------------------------------------------------------------------


def convbnrelu(
    in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1, padding: int = 1
) -> nn.Sequential:
    block = convbn(in_channels, out_channels, kernel_size, stride, padding)
    block.append(nn.ReLU(inplace=True))
    return block


def deconvbnrelu(
    in_channels: int,
    out_channels: int,
    kernel_size: int = 5,
    stride: int = 2,
    padding: int = 2,
    output_padding: int = 1,
) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(
            in_channels,
            out_channels,
            kernel_size=kernel_size,
            stride=stride,
            padding=padding,
            output_padding=output_padding,
            bias=False,
        ),
        BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


def convbn(
    in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1, padding: int = 1
) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(
            in_channels, out_channels, kernel_size=kernel_size, stride=stride, padding=padding, bias=False
        ),
        BatchNorm2d(out_channels),
    )


class BasicBlockGeo(nn.Module):
    """ResNet basic block of PENet/SemAttNet with ``geoplanes = 0`` (no geometry channels)."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = BatchNorm2d(planes)
        self.downsample: nn.Module | None = None
        # oneDNN bug (uxlfoundation/oneDNN#6035): backward-weights of a *strided 1x1* conv with an NHWC source
        # and fewer input channels than the ISA's channel block (16 on AVX-512, 8 on AVX2) writes past its
        # scratchpad (heap corruption).  Such convs (only at width_mult < 0.5 here) always run NCHW.
        self._ds_nchw = stride != 1 and inplanes < 16
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, kernel_size=1, stride=stride, bias=False),
                BatchNorm2d(planes),
            )
            if self._ds_nchw:
                self.downsample[0].force_contiguous_weight = True
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is None:
            identity = x
        else:
            identity = self.downsample(x.contiguous() if self._ds_nchw else x)
        out = out + identity
        return F.relu(out, inplace=True)


# --------------------------------------------------------------------------------------------------------------
# SAMMAFB = CBAM (reference attention.py)
# --------------------------------------------------------------------------------------------------------------


class _BasicConv(nn.Module):
    """Conv (no bias) + BN(momentum 0.01), no ReLU: the CBAM spatial-gate convolution."""

    def __init__(self, in_planes: int, out_planes: int, kernel_size: int, padding: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_planes, out_planes, kernel_size=kernel_size, stride=1, padding=padding, bias=False
        )
        self.bn = BatchNorm2d(out_planes, eps=1e-5, momentum=0.01, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class ChannelGate(nn.Module):
    def __init__(self, gate_channels: int, reduction_ratio: int = 16) -> None:
        super().__init__()
        hidden = max(1, gate_channels // reduction_ratio)
        self.mlp = nn.Sequential(
            nn.Flatten(),
            nn.Linear(gate_channels, hidden),
            nn.ReLU(),
            nn.Linear(hidden, gate_channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        avg = F.avg_pool2d(x, (h, w), stride=(h, w))
        mx = F.max_pool2d(x, (h, w), stride=(h, w))
        att = self.mlp(avg) + self.mlp(mx)
        return x * torch.sigmoid(att)[:, :, None, None]


class SpatialGate(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.spatial = _BasicConv(2, 1, kernel_size=7, padding=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        compress = torch.cat((x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)), dim=1)
        return x * torch.sigmoid(self.spatial(compress))


class SAMMAFB(nn.Module):
    """Semantic-aware multi-modal attention-based fusion block (CBAM: channel gate then spatial gate)."""

    def __init__(self, gate_channels: int, reduction_ratio: int = 16) -> None:
        super().__init__()
        self.ChannelGate = ChannelGate(gate_channels, reduction_ratio)
        self.SpatialGate = SpatialGate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.SpatialGate(self.ChannelGate(x))


# --------------------------------------------------------------------------------------------------------------
# head helpers
# --------------------------------------------------------------------------------------------------------------


class SparseDownSampleClose(nn.Module):
    """Stride-s downsampling of sparse depth keeping the closest valid point of each block.

    Empty pixels are pushed ``large_number`` (600 m) beyond any real depth, so a block minimum prefers valid
    points; blocks without one come back as 0 with mask 0. Valid depths must be below ``large_number``.
    Returns ``(d_s, valid_s)``.
    """

    def __init__(self, stride: int = 2) -> None:
        super().__init__()
        self.stride = stride
        self.large_number = 600

    def _block_max(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(x, self.stride, self.stride)

    def forward(self, d: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        far = self.large_number
        # negated so that the block maximum is the minimum of the penalised depths
        nearest = -self._block_max(-((1 - mask) * far + d))
        hit = self._block_max(mask)
        return nearest - (1 - hit) * far, hit


class CSPNGenerate(nn.Module):
    """Affinity generator: ``convbn(in, k*k-1)``; the output is the raw (un-normalised) guide.

    Normalisation and the centre weight are computed by
    :func:`depthforge.models.semattnet.cspn.normalize_guide`.
    """

    def __init__(self, in_channels: int, kernel_size: int) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.generate = convbn(in_channels, kernel_size * kernel_size - 1, kernel_size=3, stride=1, padding=1)

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        return self.generate(feature)
