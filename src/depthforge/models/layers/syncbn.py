"""BatchNorm synchronised across processes on any device, gloo (CPU) included.

``torch.nn.SyncBatchNorm`` refuses CPU modules under DDP. Multi-process CPU runs (and the test
that checks N processes against one process on the combined batch) need the same semantics, so
this layer computes the batch statistics over every process with differentiable all-reduces.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_nn
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from depthforge.models.layers.recompute import is_recomputing


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class ProcessSyncBatchNorm(_BatchNorm):
    """Drop-in BatchNorm whose training statistics span all processes (state-dict compatible)."""

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f"expected at least 2-D input, got {x.dim()}-D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and _distributed()):
            return super().forward(x)
        dims = [0, *range(2, x.dim())]
        shape = [1, x.shape[1]] + [1] * (x.dim() - 2)
        local_count = torch.tensor([x.numel() // x.shape[1]], dtype=x.dtype, device=x.device)
        # Two passes (mean, then centred squares) keep float32 precision on large activations.
        summed = dist_nn.all_reduce(torch.cat([x.sum(dims), local_count]))
        count = summed[-1]
        mean = summed[:-1] / count
        centred = x - mean.view(shape)
        var = dist_nn.all_reduce((centred * centred).sum(dims)) / count
        y = centred * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        # A checkpointed segment recomputed for backward must not update the statistics twice.
        if (self.track_running_stats and self.running_mean is not None and self.running_var is not None
                and not is_recomputing()):
            with torch.no_grad():
                self.num_batches_tracked.add_(1)  # type: ignore[union-attr]
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.mul_(1 - m).add_(mean.detach(), alpha=m)
                unbiased = var.detach() * count / (count - 1).clamp(min=1)
                self.running_var.mul_(1 - m).add_(unbiased, alpha=m)
        return y


def convert_batchnorm(module: nn.Module) -> nn.Module:
    """Replace every BatchNorm{1,2,3}d by :class:`ProcessSyncBatchNorm`, keeping parameters and buffers."""
    if isinstance(module, _BatchNorm) and not isinstance(module, ProcessSyncBatchNorm):
        new = ProcessSyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                   module.track_running_stats)
        new.load_state_dict(module.state_dict())
        new.train(module.training)
        return new
    for name, child in module.named_children():
        setattr(module, name, convert_batchnorm(child))
    return module
