"""BatchNorm that stays side-effect free while a checkpointed segment is recomputed."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from depthforge.models.layers.recompute import is_recomputing

__all__ = ["BatchNorm2d"]


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
