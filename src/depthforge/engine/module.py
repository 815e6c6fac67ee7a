"""Lightning module for depth completion: loss schedule, optimiser groups, exact validation metrics."""

from __future__ import annotations

import time
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn as nn

from depthforge.config import Config, to_dict
from depthforge.losses import CRITERIA, deep_supervision_weight
from depthforge.metrics.aggregate import MetricAverager
from depthforge.registry import create_model

# Columns of the reference ``train.csv`` / ``val.csv`` (``photo`` is always 0 there).
METRIC_KEYS = (
    "rmse", "mae", "irmse", "imae", "mse", "absrel", "lg10", "silog", "squared_rel",
    "delta1", "delta2", "delta3",
)


def _is_frozen(name: str, prefixes: list[str]) -> bool:
    return any(name.startswith(p) for p in prefixes)


class CompletionModule(L.LightningModule):
    """Trains and evaluates any registered completion model whose forward returns ``{'depth': ...}``."""

    def __init__(self, cfg: Config, model: nn.Module | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.model = model if model is not None else create_model(cfg.model.name, **cfg.model.kwargs)
        self.save_hyperparameters({"config": to_dict(cfg)})
        self.criterion = CRITERIA[cfg.loss.criterion]
        for name, param in self.model.named_parameters():
            if _is_frozen(name, cfg.model.freeze):
                param.requires_grad_(False)
        self.train_sums = self._averager()
        self.val_sums = self._averager()
        self.val_samples: list[dict[str, np.ndarray]] = []
        self.epoch_metrics: dict[str, dict[str, float]] = {}
        self._t_data = 0.0
        self._t_gpu = 0.0
        self._t_last = time.perf_counter()
        self._n_timed = 0

    # --- modes ----------------------------------------------------------------------------
    def train(self, mode: bool = True) -> CompletionModule:
        super().train(mode)
        if mode and self.cfg.model.freeze_bn_stats and self.cfg.model.freeze:
            for name, module in self.model.named_modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm) and _is_frozen(
                    name + ".", self.cfg.model.freeze
                ):
                    module.eval()
        return self

    def setup(self, stage: str) -> None:
        # torch's SyncBatchNorm refuses CPU modules; use our process-synchronised layer there.
        world = self.trainer.world_size if self._trainer is not None else 1
        if (stage == "fit" and world > 1 and self.cfg.trainer.sync_batchnorm
                and self.trainer.strategy.root_device.type == "cpu"):
            from depthforge.engine.syncbn import convert_batchnorm

            convert_batchnorm(self.model)

    def on_train_start(self) -> None:
        # Lightning leaves modules in the mode it finds them and restores that mode after each
        # validation, so applying the BatchNorm policy once here is enough.
        self.train()

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return self.model(batch)

    # --- training -------------------------------------------------------------------------
    @property
    def stage_epoch(self) -> int:
        return self.current_epoch + self.cfg.loss.start_epoch_bias

    def _pooled(self, pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        """Masked mean over the valid pixels of the *global* batch (all processes)."""
        total, count = self.criterion(pred, gt)
        world = self.trainer.world_size if self._trainer is not None else 1
        if world > 1:
            # DDP averages gradients over processes; scaling by world / global count makes that
            # average equal to the gradient of the pooled loss of the combined batch.
            count = self.trainer.strategy.reduce(count.detach().float(), reduce_op="sum") / world
        return total / count.clamp(min=1)

    def compute_loss(self, out: dict[str, torch.Tensor], gt: torch.Tensor) -> torch.Tensor:
        loss = self._pooled(out["depth"], gt)
        ds = self.cfg.loss.deep_supervision
        if ds is not None:
            w = deep_supervision_weight(self.stage_epoch, ds.schedule)
            if w > 0:
                branch = sum(self._pooled(out[k], gt) for k in ds.keys)
                loss = (1.0 - len(ds.keys) * w) * loss + w * branch
        return loss

    def on_train_epoch_start(self) -> None:
        self.train_sums = self._averager()
        self._t_data = self._t_gpu = 0.0
        self._n_timed = 0
        self._t_last = time.perf_counter()

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        now = time.perf_counter()
        self._t_data += now - self._t_last
        self._t_step = now

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        out = self.model(batch)
        loss = self.compute_loss(out, batch["gt"])
        if not torch.isfinite(loss):
            names = batch.get("name")
            raise FloatingPointError(f"non-finite loss {loss.item()} at step {self.global_step} (samples {names})")
        bs = batch["gt"].shape[0]
        self.log("train/loss", loss, prog_bar=True, batch_size=bs)
        pred = out["depth"].detach()
        if self.cfg.logging.csv:
            self._add_metrics(self.train_sums, pred, batch["gt"])
        return loss

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)  # honest timing (the reference did not synchronise)
        now = time.perf_counter()
        self._t_gpu += now - self._t_step
        self._n_timed += 1
        self._t_last = now

    def train_epoch_metrics(self) -> dict[str, float]:
        """Per-image means of this epoch's training metrics (a collective call under DDP)."""
        metrics = self._reduce(self.train_sums)
        n = max(self._n_timed, 1)
        metrics.update(data_time=self._t_data / n, gpu_time=self._t_gpu / n)
        return metrics

    # --- validation -----------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        self.val_sums = self._averager()
        self.val_samples = []
        self._val_t0 = time.perf_counter()

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        out = self.model(batch)
        pred = out["depth"]
        keep = batch["pad"] == 0 if "pad" in batch else torch.ones(pred.shape[0], dtype=torch.bool)
        if keep.any():  # repeated keys only pad a rank's shard; they are never scored
            self._add_metrics(self.val_sums, pred[keep], batch["gt"][keep])
        if keep.all():
            self._keep_for_grid(batch, pred, batch_idx)

    def on_validation_epoch_end(self) -> None:
        metrics = self._reduce(self.val_sums)
        n_img = int(metrics.pop("n_images"))
        metrics["gpu_time"] = (time.perf_counter() - self._val_t0) / max(n_img, 1)
        metrics["data_time"] = 0.0
        for key in METRIC_KEYS:
            self.log(f"val/{key}", metrics[key], prog_bar=key in ("rmse", "mae"), sync_dist=False)
        self.epoch_metrics["val"] = metrics

    def _averager(self) -> MetricAverager:
        return MetricAverager.for_protocol(f"kitti-{self.cfg.eval.protocol}")

    def _add_metrics(self, sums: MetricAverager, pred: torch.Tensor, gt: torch.Tensor) -> None:
        from depthforge.metrics import kitti_completion

        for p, g in zip(pred.float(), gt.float()):
            sums.update({**kitti_completion(p[None], g[None], protocol=self.cfg.eval.protocol), "n_images": 1.0})

    def _reduce(self, sums: MetricAverager) -> dict[str, float]:
        """Per-image means over every process (a collective call under DDP); ``n_images`` is a count."""
        keys, total, counts = sums.state((*METRIC_KEYS, "n_images"))
        if self.trainer.world_size > 1:
            both = self.trainer.strategy.reduce(torch.cat([total, counts]).to(self.device), reduce_op="sum").cpu()
            total, counts = both[: len(keys)], both[len(keys):]
        sums.load_state(keys, total, counts)
        means = sums.compute()
        means["n_images"] = float(counts[-1])
        return means

    def _keep_for_grid(self, batch: dict[str, torch.Tensor], pred: torch.Tensor, batch_idx: int) -> None:
        """Keep every ``comparison_every``-th validation image (on rank 0) for the comparison grid."""
        log = self.cfg.logging
        if self.global_rank != 0 or len(self.val_samples) >= log.comparison_rows:
            return
        bs = pred.shape[0]
        world = self.trainer.world_size
        for j in range(bs):
            index = (batch_idx * bs + j) * world  # global index of this rank's image
            if index % log.comparison_every == 0:
                self.val_samples.append({
                    "rgb": batch["rgb"][j].permute(1, 2, 0).clamp(0, 255).byte().cpu().numpy(),
                    "semantic": batch["semantic"][j].permute(1, 2, 0).clamp(0, 255).byte().cpu().numpy(),
                    "d": batch["d"][j, 0].float().cpu().numpy(),
                    "pred": pred[j, 0].float().cpu().numpy(),
                    "gt": batch["gt"][j, 0].float().cpu().numpy(),
                })

    # --- optimisation ---------------------------------------------------------------------
    def _param_groups(self) -> list[dict[str, Any]]:
        opt = self.cfg.optim
        named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        groups: list[dict[str, Any]] = []
        taken: set[str] = set()
        for group in opt.param_groups:
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
        if opt_cfg.name == "adam":  # coupled L2 weight decay, as the reference (not AdamW)
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
        if sch.name == "plateau":
            scheduler: Any = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode=sch.mode, factor=sch.factor, patience=sch.patience,
                threshold=sch.threshold, min_lr=sch.min_lr)
        elif sch.name == "onecycle":
            max_lr = [g["lr"] for g in groups] if sch.max_lr is None else sch.max_lr
            scheduler = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=max_lr, total_steps=int(self.trainer.estimated_stepping_batches),
                pct_start=sch.pct_start)
        elif sch.name == "step":
            scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=sch.step_size, gamma=sch.factor)
        else:
            horizon = (int(self.trainer.estimated_stepping_batches) if sch.interval == "step"
                       else self.cfg.trainer.epochs)
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(horizon, 1),
                                                                   eta_min=sch.min_lr)
        config: dict[str, Any] = {"scheduler": scheduler, "interval": sch.interval, "frequency": 1}
        if sch.name == "plateau":
            config["monitor"] = sch.monitor
        return {"optimizer": optimizer, "lr_scheduler": config}
