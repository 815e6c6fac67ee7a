"""Generic layers shared by every model family (no family-specific code here)."""

from __future__ import annotations

from typing import Any

from depthforge.models.layers.channels import scale_channels, set_weight_memory_format
from depthforge.models.layers.norm import BatchNorm2d
from depthforge.models.layers.recompute import checkpointed, is_recomputing

__all__ = [
    "BatchNorm2d",
    "ProcessSyncBatchNorm",
    "checkpointed",
    "convert_batchnorm",
    "is_recomputing",
    "scale_channels",
    "set_weight_memory_format",
]


def __getattr__(name: str) -> Any:
    # torch.distributed is imported only by code that synchronises BatchNorm across processes.
    if name in ("ProcessSyncBatchNorm", "convert_batchnorm"):
        from depthforge.models.layers import syncbn

        return getattr(syncbn, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
