"""Channel-count scaling and the memory format of convolution weights."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["scale_channels", "set_weight_memory_format"]


def scale_channels(n: int, width_mult: float) -> int:
    """Channel count ``n`` scaled by ``width_mult`` (rounded, at least 1)."""
    return max(1, round(n * float(width_mult)))


def set_weight_memory_format(module: nn.Module, channels_last: bool) -> None:
    """Store every 4-D parameter of ``module`` channels-last (or contiguous), keeping Parameter identity.

    Convolutions pick the NHWC kernels when their weight is channels-last, which is markedly faster with
    oneDNN on CPU.  Values (and state_dict contents) are unchanged.  A module with the attribute
    ``force_contiguous_weight = True`` keeps contiguous weights whatever ``channels_last`` says.
    """
    with torch.no_grad():
        for mod in module.modules():
            keep = getattr(mod, "force_contiguous_weight", False)
            fmt = torch.channels_last if (channels_last and not keep) else torch.contiguous_format
            for p in mod.parameters(recurse=False):
                if p.dim() == 4 and not p.is_contiguous(memory_format=fmt):
                    p.data = p.data.contiguous(memory_format=fmt)
