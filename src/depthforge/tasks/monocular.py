"""Monocular metric depth (ZoeDepth-N): image -> dense metric depth, SILog loss, ``mono-zoe`` metrics.

The loss is ZoeDepth's / PatchRefiner's SILog (:func:`depthforge.losses.silog_loss`) of ``depth`` against
``gt``: the prediction is resized to the ground truth's size, valid pixels are
``min_depth < gt < max_depth``, and a batch's ``valid`` mask, when present, is applied as the reference
applies an extra mask. The loss is pooled over the process's own batch, as the reference computes it under
DDP (each process's loss, gradients averaged).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from depthforge.batch import GT, IMAGE, VALID
from depthforge.errors import ConfigError
from depthforge.losses import silog_loss
from depthforge.tasks.base import CountReducer, Task

__all__ = ["MonocularLoss", "MonocularTask"]


@dataclass
class MonocularLoss:
    min_depth: float = 1e-3
    """Ground truth at or below this is not supervised (metres)."""
    max_depth: float = 80.0
    """Ground truth at or above this is not supervised (metres; PatchRefiner: 80 U4K, 250 CityScapes)."""
    beta: float = 0.15
    """Weight of the squared mean log error (0: pure log variance)."""
    scale: float = 10.0
    """Factor on the square root."""

    def __post_init__(self) -> None:
        if not 0 <= self.min_depth < self.max_depth:
            raise ConfigError(f"task.loss: need 0 <= min_depth < max_depth, got {self.min_depth} and "
                              f"{self.max_depth}")


class MonocularTask(Task):
    name = "monocular"
    loss_config = MonocularLoss
    protocols = ("mono-zoe", "depthpro-boundary")
    default_monitor = "val/abs_rel"

    def training_loss(self, out: Mapping[str, torch.Tensor], batch: Mapping[str, Any], epoch: int,
                      reduce_count: CountReducer) -> torch.Tensor:
        cfg = self.loss_cfg
        return silog_loss(out["depth"], batch[GT], cfg.min_depth, cfg.max_depth, batch.get(VALID),
                          beta=cfg.beta, scale=cfg.scale)

    def picture(self, batch: Mapping[str, Any], pred: torch.Tensor, index: int) -> dict[str, np.ndarray]:
        lo, hi = self.contract.image_range
        image = (batch[IMAGE][index].float() - lo) / (hi - lo)
        sample = {IMAGE: (image.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy(),
                  "pred": pred[index, 0].float().cpu().numpy()}
        if GT in batch:
            sample[GT] = batch[GT][index, 0].float().cpu().numpy()
        return sample

    def visualise(self, sample: Mapping[str, np.ndarray]) -> np.ndarray:
        """[image | ground truth | prediction] stacked vertically, depths on one fixed colour range.

        Panels of another size than the image (a prediction at model resolution) are shown at their own size.
        """
        from depthforge.viz import colorize

        lo, hi = self.cfg.eval.depth_range
        panels = [np.asarray(sample[IMAGE])] if IMAGE in sample else []
        if GT in sample:
            panels.append(colorize(sample[GT], vmin=lo, vmax=hi))
        panels.append(colorize(sample["pred"], vmin=lo, vmax=hi))
        width = max(p.shape[1] for p in panels)
        padded = [np.pad(p, ((0, 0), (0, width - p.shape[1]), (0, 0))) for p in panels]
        return np.concatenate(padded, axis=0)
