"""The generic Lightning module: optimiser, parameter groups, schedules, freezing, DDP loss pooling,
metric averaging and timing. Everything family-specific is asked of the task (:mod:`depthforge.tasks`).
"""

from __future__ import annotations

import time
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn as nn

from depthforge.batch import GT, PAD
from depthforge.config import Config, to_dict
from depthforge.engine.evaluation import Scorer
from depthforge.errors import ConfigError
from depthforge.models.contract import contract_of
from depthforge.registry import create_model
from depthforge.tasks.base import Task, build_task


def _is_frozen(name: str, prefixes: list[str]) -> bool:
    return any(name.startswith(p) for p in prefixes)


class EngineModule(L.LightningModule):
    """Trains and evaluates any registered model through the task its config selects."""

    def __init__(self, cfg: Config, model: nn.Module | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.model = model if model is not None else create_model(cfg.model.name, **cfg.model.kwargs)
        self.contract = contract_of(self.model)
        self.task: Task = build_task(cfg, self.contract)
        self.save_hyperparameters({"config": to_dict(cfg)})
        for name, param in self.model.named_parameters():
            if _is_frozen(name, cfg.model.freeze):
                param.requires_grad_(False)
        self.train_scores = self._scorer()
        self.val_scores = self._scorer()
        self.val_samples: list[dict[str, np.ndarray]] = []
        self.epoch_metrics: dict[str, dict[str, float]] = {}
        self._t_data = 0.0
        self._t_step = 0.0
        self._t_gpu = 0.0
        self._t_last = time.perf_counter()
        self._n_timed = 0

    # --- modes ----------------------------------------------------------------------------
    def train(self, mode: bool = True) -> EngineModule:
        super().train(mode)
        if mode and self.cfg.model.freeze_bn_stats and self.cfg.model.freeze:
            for name, module in self.model.named_modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm) and _is_frozen(
                    name + ".", self.cfg.model.freeze
                ):
                    module.eval()
        return self

    def setup(self, stage: str) -> None:
        # torch's SyncBatchNorm refuses CPU modules; use the process-synchronised layer there.
        if (stage == "fit" and self._world() > 1 and self.cfg.trainer.sync_batchnorm
                and self.trainer.strategy.root_device.type == "cpu"):
            from depthforge.models.layers.syncbn import convert_batchnorm

            convert_batchnorm(self.model)

    def on_train_start(self) -> None:
        # Lightning leaves modules in the mode it finds them and restores that mode after each
        # validation, so applying the BatchNorm policy once here is enough.
        self.train()
        # Lightning restores a resumed loader's position when it first sets up the training data. A schedule
        # sized by ``estimated_stepping_batches`` (OneCycle) sets the data up earlier, before the checkpoint
        # is restored, and the position would be lost: restore it now, before the first batch is drawn.
        self.trainer.fit_loop._load_combined_loader_states()

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return self.model(batch)

    def _world(self) -> int:
        return self.trainer.world_size if self._trainer is not None else 1

    def _sum_over_processes(self, t: torch.Tensor) -> torch.Tensor:
        if self._world() == 1:
            return t
        return self.trainer.strategy.reduce(t.to(self.device), reduce_op="sum").cpu()

    # --- training -------------------------------------------------------------------------
    def _reduce_count(self, count: torch.Tensor) -> torch.Tensor:
        """Per-process share of the global batch's count: DDP's gradient average then equals the
        gradient of the loss pooled over the combined batch."""
        world = self._world()
        if world == 1:
            return count
        return self.trainer.strategy.reduce(count.detach().float(), reduce_op="sum") / world

    def on_train_epoch_start(self) -> None:
        self.train_scores = self._scorer()
        self._t_data = self._t_gpu = 0.0
        self._n_timed = 0
        self._t_last = time.perf_counter()

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        now = time.perf_counter()
        self._t_data += now - self._t_last
        self._t_step = now

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        out = self.model(batch)
        loss = self.task.training_loss(out, batch, self.current_epoch, self._reduce_count)
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"non-finite loss {loss.item()} at step {self.global_step} (samples {batch.get('name')})")
        bs = batch[GT].shape[0]
        self.log("train/loss", loss, prog_bar=True, batch_size=bs)
        if self.task.train_metrics:
            pred = self.task.prediction(out).detach()
            self.train_scores.add_batch(pred, batch, lambda i: self.task.score_extras(batch, i))
        return loss

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)  # honest timing
        now = time.perf_counter()
        self._t_gpu += now - self._t_step
        self._n_timed += 1
        self._t_last = now

    def train_epoch_metrics(self) -> dict[str, float]:
        """Per-image means of this epoch's training metrics (a collective call under DDP)."""
        metrics = self._reduce(self.train_scores)
        n = max(self._n_timed, 1)
        metrics.update(data_time=self._t_data / n, gpu_time=self._t_gpu / n)
        return metrics

    # --- validation -----------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        self.val_scores = self._scorer()
        self.val_samples = []
        self._val_t0 = time.perf_counter()

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        pred = self.task.prediction(self.task.evaluate(self.model, batch))
        keep = batch[PAD] == 0 if PAD in batch else torch.ones(pred.shape[0], dtype=torch.bool)
        # Repeated samples only pad a process's shard; they are never scored.
        self.val_scores.add_batch(pred, batch, lambda i: self.task.score_extras(batch, i), keep)
        if keep.all():
            self._keep_for_grid(batch, pred, batch_idx)

    def on_validation_epoch_end(self) -> None:
        metrics = self._reduce(self.val_scores)
        n_img = int(metrics.pop("n_images"))
        metrics["gpu_time"] = (time.perf_counter() - self._val_t0) / max(n_img, 1)
        metrics["data_time"] = 0.0
        shown = {self.task.monitor.rsplit("/", 1)[-1]}
        for key in self.task.protocol.keys:
            self.log(f"val/{key}", metrics[key], prog_bar=key in shown, sync_dist=False)
        self.epoch_metrics["val"] = metrics

    def _scorer(self) -> Scorer:
        return Scorer(self.task.protocol)

    def _reduce(self, scores: Scorer) -> dict[str, float]:
        """Per-image means over every process (a collective call under DDP); ``n_images`` is a count."""
        return scores.compute(self._sum_over_processes, self.task.protocol.keys)

    def _keep_for_grid(self, batch: dict[str, Any], pred: torch.Tensor, batch_idx: int) -> None:
        """Keep every ``task.grid_every``-th validation image (on rank 0) for the comparison grid."""
        every, rows = self.task.grid_every, self.task.grid_rows
        if self.global_rank != 0 or every <= 0 or len(self.val_samples) >= rows:
            return
        bs = pred.shape[0]
        world = self._world()
        for j in range(bs):
            index = (batch_idx * bs + j) * world  # global index of this rank's image
            if index % every == 0:
                self.val_samples.append(self.task.picture(batch, pred, j))

    # --- optimisation ---------------------------------------------------------------------
    def _param_groups(self) -> list[dict[str, Any]]:
        opt = self.cfg.optim
        names = [n for n, _ in self.model.named_parameters()]
        named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        groups: list[dict[str, Any]] = []
        taken: set[str] = set()
        for i, group in enumerate(opt.param_groups):
            if not any(n.startswith(group.prefix) for n in names):  # a typo would train at the wrong rate
                raise ConfigError(f"optim.param_groups[{i}].prefix {group.prefix!r} names no parameter of "
                                  f"{self.cfg.model.name}")
            params = [p for n, p in named if n.startswith(group.prefix) and n not in taken]
            taken.update(n for n, _ in named if n.startswith(group.prefix))
            if params:
                entry: dict[str, Any] = {"params": params, "lr": opt.lr * group.lr_mult, "name": group.prefix}
                if group.weight_decay is not None:
                    entry["weight_decay"] = group.weight_decay
                groups.append(entry)
        rest = [p for n, p in named if n not in taken]
        if rest:
            groups.append({"params": rest, "lr": opt.lr, "name": "rest"})
        if not groups:
            raise ValueError("no trainable parameters: check model.freeze")
        return groups

    def configure_optimizers(self) -> Any:
        opt_cfg, sch = self.cfg.optim, self.cfg.scheduler
        groups = self._param_groups()
        if opt_cfg.name == "adam":  # coupled L2 weight decay (SemAttNet's reference uses it, not AdamW)
            optimizer: torch.optim.Optimizer = torch.optim.Adam(
                groups, lr=opt_cfg.lr, betas=opt_cfg.betas, eps=opt_cfg.eps, weight_decay=opt_cfg.weight_decay)
        elif opt_cfg.name == "adamw":
            optimizer = torch.optim.AdamW(
                groups, lr=opt_cfg.lr, betas=opt_cfg.betas, eps=opt_cfg.eps, weight_decay=opt_cfg.weight_decay)
        else:
            optimizer = torch.optim.SGD(groups, lr=opt_cfg.lr, momentum=opt_cfg.momentum,
                                        weight_decay=opt_cfg.weight_decay)
        if sch.name == "none":
            return optimizer
        monitor = sch.monitor or self.task.monitor
        if sch.name == "plateau":
            from depthforge.config import metric_mode

            scheduler: Any = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode=sch.mode or metric_mode(monitor), factor=sch.factor, patience=sch.patience,
                threshold=sch.threshold, min_lr=sch.min_lr)
        elif sch.name == "onecycle":
            max_lr = [g["lr"] for g in groups] if sch.max_lr is None else sch.max_lr
            scheduler = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=max_lr, total_steps=int(self.trainer.estimated_stepping_batches),
                pct_start=sch.pct_start, div_factor=sch.div_factor, final_div_factor=sch.final_div_factor,
                three_phase=sch.three_phase, cycle_momentum=sch.cycle_momentum,
                base_momentum=sch.base_momentum, max_momentum=sch.max_momentum)
        elif sch.name == "step":
            scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=sch.step_size, gamma=sch.factor)
        else:
            horizon = (int(self.trainer.estimated_stepping_batches) if sch.interval == "step"
                       else self.cfg.trainer.epochs)
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(horizon, 1),
                                                                   eta_min=sch.min_lr)
        config: dict[str, Any] = {"scheduler": scheduler, "interval": sch.interval, "frequency": 1}
        if sch.name == "plateau":
            config["monitor"] = monitor
        return {"optimizer": optimizer, "lr_scheduler": config}


__all__ = ["EngineModule"]
