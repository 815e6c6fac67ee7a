"""Monocular metric depth (ZoeDepth-N, PatchRefiner): SILog loss, the DSD detail term, tiled evaluation.

The loss is ZoeDepth's / PatchRefiner's SILog (:func:`depthforge.losses.silog_loss`) of ``depth`` against
``gt``: the prediction is resized to the ground truth's size, valid pixels are
``min_depth < gt < max_depth``, and a batch's ``valid`` mask, when present, is applied as the reference
applies an extra mask. The loss is pooled over the process's own batch, as the reference computes it under
DDP (each process's loss, gradients averaged).

With ``edge_loss`` set (the teacher–student stage, :class:`~depthforge.models.patchrefiner.semi.PatchRefinerSemi`)
the loss adds ``edge_weight`` x a scale-invariant term between ``depth`` and the teacher's ``pseudo_depth``
(SSI or edge-guided ranking). As the reference, a non-finite term is replaced by a zero on the graph.

Evaluation batches without ``boxes`` hold whole images: a tiled model (PatchRefiner) predicts them with
``infer`` and the configured tiling; a whole-image model (the coarse ZoeDepth) sees ``image_lr``.
Reference checkpoints ``checkpoint_XX.pth`` are written every ``save_interval`` epochs.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import lightning as L
import numpy as np
import torch

from depthforge.batch import BOXES, DEPTH, GT, IMAGE, IMAGE_LR, NAME, VALID
from depthforge.errors import ConfigError
from depthforge.losses import silog_loss
from depthforge.tasks.base import CountReducer, Task

__all__ = ["MonocularLoss", "MonocularOptions", "MonocularTask", "ReferenceCheckpoints"]

log = logging.getLogger("depthforge")


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
    edge_loss: Literal["none", "ssi", "ranking"] = "none"
    """Detail term against the teacher's ``pseudo_depth`` (the teacher–student stage)."""
    edge_weight: float = 1.0
    """Weight of the detail term (the published SSI model: 0.07)."""
    ranking_pairs: int = 10000
    """Ranking: edge-guided anchors per image (as many random pairs again)."""
    ranking_sigma: float = 0.03
    """Ranking: relative depth difference below which a pair counts as equal."""
    ranking_alpha: float = 1.0
    """Ranking: weight of the equal-pair term."""

    def __post_init__(self) -> None:
        if not 0 <= self.min_depth < self.max_depth:
            raise ConfigError(f"task.loss: need 0 <= min_depth < max_depth, got {self.min_depth} and "
                              f"{self.max_depth}")


@dataclass
class MonocularOptions:
    cai_mode: str = "m1"
    """Tiling of whole-image evaluation for tiled models: ``m1``, ``m2`` or ``r<N>``."""
    patch_split_num: tuple[int, int] = (4, 4)
    """Tiles per column and per row."""
    process_num: int = 4
    """Tiles per forward in the reference's sense (it sets the ``r<N>`` schedule)."""
    seed: int = 0
    """Seed of the ``r<N>`` tile draws."""
    save_interval: int = 0
    """Write the reference's ``checkpoint_XX.pth`` every this many epochs (0: never)."""

    def __post_init__(self) -> None:
        from depthforge.models.patchrefiner.tiling import parse_mode

        try:
            parse_mode(self.cai_mode)
        except ValueError as exc:
            raise ConfigError(f"task.options.cai_mode: {exc}") from None
        if min(self.patch_split_num) < 1 or self.process_num < 1 or self.save_interval < 0:
            raise ConfigError("task.options: patch_split_num and process_num must be >= 1, save_interval >= 0")


def _finite_or_zero(term: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
    """The reference's guard: a NaN/inf term becomes a zero that stays on the graph."""
    return term if bool(torch.isfinite(term)) else anchor.flatten()[0] * 0.0


class MonocularTask(Task):
    name = "monocular"
    loss_config = MonocularLoss
    options_config = MonocularOptions
    protocols = ("mono-zoe", "cityscapes-pr", "depthpro-boundary")
    default_monitor = "val/abs_rel"

    def training_loss(self, out: Mapping[str, torch.Tensor], batch: Mapping[str, Any], epoch: int,
                      reduce_count: CountReducer) -> torch.Tensor:
        cfg = self.loss_cfg
        pred = out[DEPTH]
        loss = silog_loss(pred, batch[GT], cfg.min_depth, cfg.max_depth, batch.get(VALID),
                          beta=cfg.beta, scale=cfg.scale)
        if cfg.edge_loss == "none":
            return loss
        if "pseudo_depth" not in out:
            raise ValueError(f"task.loss.edge_loss={cfg.edge_loss} needs a teacher's pseudo_depth "
                             f"(model patchrefiner_semi)")
        edge = _finite_or_zero(self._edge_term(pred, out["pseudo_depth"], batch, epoch), pred)
        return _finite_or_zero(loss + cfg.edge_weight * edge, pred)

    def _edge_term(self, pred: torch.Tensor, pseudo: torch.Tensor, batch: Mapping[str, Any],
                   epoch: int) -> torch.Tensor:
        cfg = self.loss_cfg
        if cfg.edge_loss == "ssi":
            from depthforge.losses.ssi import ssi_loss

            return ssi_loss(pred, pseudo)
        from depthforge.losses.ranking import edge_ranking_loss

        # Pairs are drawn from a generator seeded by the run's seed, the epoch and the batch's samples:
        # reproducible, and the same after an exact resume.
        names = batch.get(NAME)
        key = "|".join(names) if isinstance(names, (list, tuple)) else ""
        seed = zlib.crc32(f"{self.cfg.trainer.seed}|{epoch}|{key}".encode())
        loss, _ = edge_ranking_loss(pred, pseudo, batch[GT], point_pairs=cfg.ranking_pairs,
                                    sigma=cfg.ranking_sigma, alpha=cfg.ranking_alpha, min_depth=cfg.min_depth,
                                    max_depth=cfg.max_depth, generator=torch.Generator().manual_seed(seed))
        return loss

    # --- evaluation ---------------------------------------------------------------------------------------
    def evaluate(self, model: torch.nn.Module, batch: Mapping[str, Any]) -> Mapping[str, torch.Tensor]:
        """Crops (``boxes`` present) go through ``forward``; whole images are tiled by a model that tiles
        (``infer``) and otherwise seen at the process shape (``image_lr``) by a whole-image model."""
        if BOXES in batch:
            return model(batch)
        infer = getattr(model, "infer", None)
        if infer is not None:
            o = self.options
            image_lr = batch.get(IMAGE_LR)
            depths = [
                infer(batch[IMAGE][i : i + 1], mode=o.cai_mode, patch_split_num=tuple(o.patch_split_num),
                      process_num=o.process_num, image_lr=None if image_lr is None else image_lr[i : i + 1],
                      seed=o.seed)[DEPTH]
                for i in range(batch[IMAGE].shape[0])
            ]
            return {DEPTH: torch.cat(depths)}
        if IMAGE_LR in batch:
            return model({IMAGE: batch[IMAGE_LR]})
        return model(batch)

    def score_extras(self, batch: Mapping[str, Any], index: int) -> dict[str, Any]:
        extras: dict[str, Any] = {}
        if "boundary" in batch:
            extras["boundary"] = batch["boundary"][index, 0].cpu().numpy().astype(bool)
        if "seg_image" in batch:
            def u8(t: torch.Tensor) -> np.ndarray:
                return t.clamp(0, 255).round().byte().permute(1, 2, 0).cpu().numpy()

            extras["seg_color"] = u8(batch["seg_image"][index].float())
            extras["image"] = u8(batch[IMAGE][index].float() * 255)
        return extras

    def callbacks(self, run_dir: Path) -> list[L.Callback]:
        every = self.options.save_interval
        return [ReferenceCheckpoints(run_dir, every, self.cfg.run.epoch_offset)] if every else []

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


def reference_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The entries a reference checkpoint of this model holds (its family decides)."""
    own = getattr(model, "reference_state_dict", None)
    return dict(own()) if own is not None else dict(model.state_dict())


class ReferenceCheckpoints(L.Callback):
    """``<run>/checkpoint_XX.pth`` after every ``every``-th epoch (XX = epoch number from 1) in the reference's
    layout: ``epoch``, ``model_state_dict`` (the frozen coarse branch left out), ``optim_state_dict``,
    ``schedule_state_dict``. Written atomically by the first process, after the epoch's validation."""

    def __init__(self, run_dir: Path, every: int, epoch_offset: int = 0) -> None:
        self.run_dir = Path(run_dir)
        self.every = every
        self.offset = epoch_offset

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        epoch = trainer.current_epoch + self.offset
        if (epoch + 1) % self.every or not trainer.is_global_zero:
            return
        from depthforge.checkpoint import save_checkpoint

        model = getattr(pl_module, "model", pl_module)
        schedulers = trainer.lr_scheduler_configs
        state = {
            "epoch": epoch,
            "model_state_dict": {k: v.detach().cpu() for k, v in reference_state_dict(model).items()},
            "optim_state_dict": trainer.optimizers[0].state_dict() if trainer.optimizers else {},
            "schedule_state_dict": schedulers[0].scheduler.state_dict() if schedulers else {},
        }
        path = save_checkpoint(state, self.run_dir / f"checkpoint_{epoch + 1:02d}.pth")
        log.info("saved %s", path)
