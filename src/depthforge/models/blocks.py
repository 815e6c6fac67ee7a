"""Building blocks of SemAttNet (reference: ``basic.py`` and ``attention.py`` of danishnazir/SemAttNet).

Module and attribute names reproduce the reference so that ``state_dict`` keys are identical to the official
checkpoints (``semattnet_state_dict_keys.txt``).  All convolutions are ``bias=False`` except the CBAM MLP.

Also provides the activation-checkpointing helper used by the memory-efficient training mode.  Recomputing a
checkpointed segment during backward must not update BatchNorm running statistics a second time; the
:class:`BatchNorm2d` subclass used everywhere here therefore normalises with batch statistics *without*
touching ``running_mean``/``running_var``/``num_batches_tracked`` while a recomputation is in progress.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint as _torch_checkpoint

__all__ = [
    "SAMMAFB",
    "BasicBlockGeo",
    "BatchNorm2d",
    "CSPNGenerate",
    "ChannelGate",
    "SparseDownSampleClose",
    "SpatialGate",
    "checkpointed",
    "convbn",
    "convbnrelu",
    "deconvbnrelu",
    "is_recomputing",
    "scale_channels",
    "set_weight_memory_format",
]

# --------------------------------------------------------------------------------------------------------------
# activation checkpointing that is safe for BatchNorm
# --------------------------------------------------------------------------------------------------------------

_STATE = threading.local()


def is_recomputing() -> bool:
    """True while a checkpointed segment is being recomputed for backward (in this thread)."""
    return getattr(_STATE, "recomputing", 0) > 0


@contextlib.contextmanager
def _recompute_ctx() -> Iterator[None]:
    _STATE.recomputing = getattr(_STATE, "recomputing", 0) + 1
    try:
        yield
    finally:
        _STATE.recomputing -= 1


def _context_fn() -> tuple[contextlib.AbstractContextManager[Any], contextlib.AbstractContextManager[Any]]:
    return contextlib.nullcontext(), _recompute_ctx()


def checkpointed(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` under non-reentrant activation checkpointing (only the inputs are kept for backward).

    BatchNorm layers of this module (:class:`BatchNorm2d`) do not update their running statistics during the
    recomputation, so a checkpointed training step has exactly the same effect as a plain one.
    """
    return _torch_checkpoint(fn, *args, use_reentrant=False, context_fn=_context_fn)


class BatchNorm2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` (same parameters, buffers and numerics) that is aware of checkpoint recomputation."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and is_recomputing():
            # Same normalisation as the original forward (batch statistics).  The running statistics are
            # updated on throw-away copies, so that the op (and what it saves for backward) is the same as
            # in the original forward while the module's buffers are left alone.
            rm = None if self.running_mean is None else self.running_mean.clone()
            rv = None if self.running_var is None else self.running_var.clone()
            return F.batch_norm(x, rm, rv, self.weight, self.bias, True, 0.0, self.eps)
        return super().forward(x)


# --------------------------------------------------------------------------------------------------------------
# width scaling
# --------------------------------------------------------------------------------------------------------------


def scale_channels(n: int, width_mult: float) -> int:
    """Channel count ``n`` scaled by ``width_mult`` (rounded, at least 1)."""
    return max(1, round(n * float(width_mult)))


def set_weight_memory_format(module: nn.Module, channels_last: bool) -> None:
    """Store every 4-D parameter of ``module`` channels-last (or contiguous), keeping Parameter identity.

    Convolutions pick the NHWC kernels when their weight is channels-last, which is markedly faster with
    oneDNN on CPU.  Values (and state_dict contents) are unchanged; ``load_state_dict`` keeps the layout.
    """
    with torch.no_grad():
        for mod in module.modules():
            keep = getattr(mod, "force_contiguous_weight", False)
            fmt = torch.channels_last if (channels_last and not keep) else torch.contiguous_format
            for p in mod.parameters(recurse=False):
                if p.dim() == 4 and not p.is_contiguous(memory_format=fmt):
                    p.data = p.data.contiguous(memory_format=fmt)


# --------------------------------------------------------------------------------------------------------------
# conv helpers (reference basic.py); returned Sequentials give keys ``<name>.0.weight`` / ``<name>.1.*``
# --------------------------------------------------------------------------------------------------------------


def convbnrelu(
    in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1, padding: int = 1
) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(
            in_channels, out_channels, kernel_size=kernel_size, stride=stride, padding=padding, bias=False
        ),
        BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


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
    """Stride-s downsampling of sparse depth keeping the closest valid point of each block (reference formula).

    Valid depths must be below ``large_number`` (600 m).  Returns ``(d_s, valid_s)``.
    """

    def __init__(self, stride: int = 2) -> None:
        super().__init__()
        self.stride = stride
        self.large_number = 600

    def forward(self, d: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        encode_d = -(1 - mask) * self.large_number - d
        d = -F.max_pool2d(encode_d, self.stride, self.stride)
        mask_result = F.max_pool2d(mask, self.stride, self.stride)
        d_result = d - (1 - mask_result) * self.large_number
        return d_result, mask_result


class CSPNGenerate(nn.Module):
    """Affinity generator: ``convbn(in, k*k-1)``; the output is the raw (un-normalised) guide.

    Normalisation and the centre weight are computed by :func:`depthforge.models.cspn.normalize_guide`.
    """

    def __init__(self, in_channels: int, kernel_size: int) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.generate = convbn(in_channels, kernel_size * kernel_size - 1, kernel_size=3, stride=1, padding=1)

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        return self.generate(feature)
