"""Losses of the reference recipes.

The masked losses average over every valid pixel of the batch (the reference pools over the
batch). Under DDP each process sees a shard, so the engine asks for ``(sum, count)`` and divides
by the count of the whole global batch: N processes then compute exactly the loss, and the
gradients, of one process holding the combined batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from depthforge.losses.ranking import edge_ranking_loss as edge_ranking_loss
from depthforge.losses.silog import silog_loss as silog_loss
from depthforge.losses.ssi import scale_and_shift as scale_and_shift
from depthforge.losses.ssi import ssi_loss as ssi_loss

Criterion = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def masked_sq_sum(pred: torch.Tensor, gt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(sum of (gt - pred)^2, number of pixels) over pixels with gt > 0."""
    valid = gt > 0
    diff = (gt - pred)[valid]
    return (diff * diff).sum(), valid.sum()


def masked_abs_sum(pred: torch.Tensor, gt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(sum of |gt - pred|, number of pixels) over pixels with gt > 0."""
    valid = gt > 0
    return (gt - pred)[valid].abs().sum(), valid.sum()


def _mean(fn: Criterion) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    def mean(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        total, count = fn(pred, gt)
        return total / count.clamp(min=1)

    mean.__doc__ = f"Batch-pooled mean of {fn.__name__} (0 when no pixel is valid)."
    return mean


masked_mse = _mean(masked_sq_sum)
masked_l1 = _mean(masked_abs_sum)

CRITERIA: dict[str, Criterion] = {"l2": masked_sq_sum, "l1": masked_abs_sum}


def deep_supervision_weight(stage_epoch: int, schedule: Sequence[tuple[int, float]]) -> float:
    """Weight of each branch loss at a stage-relative epoch.

    ``schedule`` holds (last epoch, weight) pairs in increasing order; the reference's is
    ((1, 0.2), (3, 0.05)): 0.2 for epochs 0-1, 0.05 for 2-3, then 0.
    """
    for last_epoch, weight in schedule:
        if stage_epoch <= last_epoch:
            return float(weight)
    return 0.0
