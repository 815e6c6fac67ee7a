"""Depth completion (SemAttNet): image + sparse depth + semantic map -> dense depth, KITTI metrics.

The task owns the masked L2/L1 loss with the reference's deep-supervision schedule, the KITTI protocols,
the comparison grids and the reference's artefacts: ``train.csv`` / ``val.csv`` / ``best.txt`` and the
``checkpoint-<epoch>.pth.tar`` / ``model_best.pth.tar`` files.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import lightning as L
import numpy as np
import torch

from depthforge.batch import GT, IMAGE, SEMANTIC, SPARSE
from depthforge.checkpoint import save_checkpoint
from depthforge.config import to_dict
from depthforge.losses import CRITERIA, deep_supervision_weight
from depthforge.tasks.base import CountReducer, Task

# Columns of the reference ``train.csv`` / ``val.csv`` (``photo`` is always 0 there).
CSV_COLUMNS = ("epoch", "rmse", "photo", "mae", "irmse", "imae", "mse", "absrel", "lg10", "silog",
               "squared_rel", "delta1", "delta2", "delta3", "data_time", "gpu_time")
BEST_KEYS = ("rmse", "mae", "silog", "squared_rel", "irmse", "imae", "mse", "absrel", "lg10", "delta1")


@dataclass
class DeepSupervisionConfig:
    keys: list[str]
    """Model outputs supervised next to ``depth`` (SemAttNet: its branch depths)."""
    schedule: list[tuple[int, float]] = field(default_factory=lambda: [(1, 0.2), (3, 0.05)])
    """(last stage epoch, weight) pairs: weight w applies up to and including that epoch; 0 after."""


@dataclass
class CompletionLoss:
    criterion: Literal["l2", "l1"] = "l2"
    deep_supervision: DeepSupervisionConfig | None = None
    start_epoch_bias: int = 0
    """Added to the stage-relative epoch that drives the deep-supervision schedule."""


@dataclass
class CompletionOptions:
    reference_logs: bool = True
    """Write the reference's ``train.csv`` / ``val.csv`` / ``best.txt`` into the run folder."""
    reference_checkpoints: bool = True
    """Also write the reference's ``checkpoint-<epoch>.pth.tar`` / ``model_best.pth.tar``."""
    keep_all_epochs: bool = False
    """The reference deletes the previous epoch's ``.pth.tar``; keep them all when true."""
    comparison_every: int = 100
    """Validation image stride of the comparison grid rows (reference: 100)."""
    comparison_rows: int = 8


class CompletionTask(Task):
    name = "completion"
    loss_config = CompletionLoss
    options_config = CompletionOptions
    protocols = ("kitti-penet", "kitti-devkit")
    default_monitor = "val/rmse"

    @property
    def train_metrics(self) -> bool:  # the reference's train.csv holds training metrics
        return bool(self.options.reference_logs)

    @property
    def csv_keys(self) -> tuple[str, ...]:
        return tuple(k for k in CSV_COLUMNS if k not in ("epoch", "photo", "data_time", "gpu_time"))

    def training_loss(self, out: Mapping[str, torch.Tensor], batch: Mapping[str, Any], epoch: int,
                      reduce_count: CountReducer) -> torch.Tensor:
        criterion = CRITERIA[self.loss_cfg.criterion]
        gt = batch[GT]

        def pooled(pred: torch.Tensor) -> torch.Tensor:
            total, count = criterion(pred, gt)
            return total / reduce_count(count).clamp(min=1)

        loss = pooled(out["depth"])
        ds = self.loss_cfg.deep_supervision
        if ds is not None:
            w = deep_supervision_weight(epoch + self.loss_cfg.start_epoch_bias, ds.schedule)
            if w > 0:
                branch = sum(pooled(out[k]) for k in ds.keys)
                loss = (1.0 - len(ds.keys) * w) * loss + w * branch
        return loss

    @property
    def grid_every(self) -> int:
        return self.options.comparison_every

    @property
    def grid_rows(self) -> int:
        return self.options.comparison_rows

    def picture(self, batch: Mapping[str, Any], pred: torch.Tensor, index: int) -> dict[str, np.ndarray]:
        def u8(key: str) -> np.ndarray:
            return batch[key][index].permute(1, 2, 0).clamp(0, 255).byte().cpu().numpy()

        sample = {IMAGE: u8(IMAGE), SPARSE: batch[SPARSE][index, 0].float().cpu().numpy(),
                  "pred": pred[index, 0].float().cpu().numpy()}
        if SEMANTIC in batch:
            sample[SEMANTIC] = u8(SEMANTIC)
        if GT in batch:
            sample[GT] = batch[GT][index, 0].float().cpu().numpy()
        return sample

    def visualise(self, sample: Mapping[str, np.ndarray]) -> np.ndarray:
        """[sparse | ground truth | prediction | error] on one fixed colour range for every image."""
        from depthforge.viz import colorize, error_map

        lo, hi = self.cfg.eval.depth_range
        panels = [colorize(sample[SPARSE], vmin=lo, vmax=hi), colorize(sample[GT], vmin=lo, vmax=hi),
                  colorize(sample["pred"], vmin=lo, vmax=hi), error_map(sample["pred"], sample[GT])]
        return np.concatenate(panels, axis=0)

    def log_dir(self, run_dir: Path) -> Path | None:
        return run_dir if self.options.reference_logs or self.options.reference_checkpoints else None

    def callbacks(self, run_dir: Path) -> list[L.Callback]:
        log_dir = self.log_dir(run_dir)
        return [] if log_dir is None else [ReferenceLogCallback(self, log_dir)]


def _fmt(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else str(value)


class ReferenceLogCallback(L.Callback):
    """Writes ``train.csv``, ``val.csv``, ``best.txt``, comparison grids and, optionally,
    the reference's ``checkpoint-<epoch>.pth.tar`` / ``model_best.pth.tar`` into ``log_dir``.

    The reference picks the best epoch by always minimising the rank metric; here the
    direction follows the metric (lower RMSE, higher delta1).
    """

    def __init__(self, task: CompletionTask, log_dir: Path) -> None:
        from depthforge.config import metric_mode

        self.task = task
        self.cfg = task.cfg
        self.log_dir = Path(log_dir)
        self.monitor = task.monitor.rsplit("/", 1)[-1]
        self.mode = self.cfg.checkpoint.mode or metric_mode(task.monitor)
        self.best: dict[str, float] | None = None
        self.best_epoch = -1

    # Lightning persists callback state, so the best value survives an exact resume.
    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best = state_dict.get("best")
        self.best_epoch = int(state_dict.get("best_epoch", -1))

    def _epoch(self, trainer: L.Trainer) -> int:
        return trainer.current_epoch + self.cfg.run.epoch_offset

    def _append_csv(self, name: str, epoch: int, metrics: Mapping[str, float]) -> None:
        path = self.log_dir / name
        new = not path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
            if new:
                writer.writeheader()
            row = {"epoch": epoch, "photo": 0,
                   **{k: metrics.get(k, float("nan")) for k in CSV_COLUMNS[1:] if k != "photo"}}
            writer.writerow(row)

    def _is_better(self, value: float) -> bool:
        if self.best is None or not math.isfinite(value):
            return self.best is None and math.isfinite(value)
        old = self.best[self.monitor]
        return value < old if self.mode == "min" else value > old

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        metrics = pl_module.train_epoch_metrics()  # type: ignore[operator]  # collective: every rank calls it
        if trainer.is_global_zero and self.task.options.reference_logs:
            self._append_csv("train.csv", self._epoch(trainer), metrics)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Runs after the module's ``on_validation_epoch_end`` has reduced the metrics.
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        metrics: dict[str, float] | None = pl_module.epoch_metrics.get("val")  # type: ignore[union-attr,operator]
        if not metrics:
            return
        opts = self.task.options
        epoch = self._epoch(trainer)
        if opts.reference_logs:
            self._append_csv("val.csv", epoch, metrics)
        grid = self._grid(pl_module)
        if grid is not None:
            self._save_png(self.log_dir / f"comparison_{epoch}.png", grid)
        fit = trainer.state.fn == "fit"
        if self._is_better(metrics[self.monitor]):
            self.best = {k: metrics[k] for k in (*self.task.csv_keys, "gpu_time")}
            self.best_epoch = epoch
            if opts.reference_logs:
                self._write_best_txt(epoch)
            if grid is not None:
                self._save_png(self.log_dir / "comparison_best.png", grid)
            if opts.reference_checkpoints and fit:
                self._save_reference_ckpt(trainer, pl_module, epoch, best=True)
        if opts.reference_checkpoints and fit:
            # The reference writes checkpoint-<epoch> after validation and deletes the previous one.
            self._save_reference_ckpt(trainer, pl_module, epoch, best=False)
            previous = self.log_dir / f"checkpoint-{epoch - 1}.pth.tar"
            if not opts.keep_all_epochs and previous.exists():
                previous.unlink()

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        from depthforge.viz import plot_curves

        csvs = [self.log_dir / f"{n}.csv" for n in ("train", "val") if (self.log_dir / f"{n}.csv").exists()]
        if csvs:
            plot_curves(csvs, self.log_dir / "curves.png", columns=("rmse", "mae", "delta1"))

    def _write_best_txt(self, epoch: int) -> None:
        assert self.best is not None
        lines = [f"rank_metric={self.monitor}", f"epoch={epoch}"]
        lines += [f"{k}={_fmt(self.best[k])}" for k in BEST_KEYS]
        lines.append(f"t_gpu={self.best['gpu_time']:.4f}")
        path = self.log_dir / "best.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name("best.txt.tmp")
        tmp.write_text("\n".join(lines) + "\n")
        tmp.replace(path)

    def _save_reference_ckpt(self, trainer: L.Trainer, pl_module: L.LightningModule, epoch: int,
                             best: bool) -> None:
        """The reference layout (epoch, model, best_result, optimizer, args) in plain containers,
        loadable with ``torch.load(weights_only=True)``."""
        optimizers = trainer.optimizers
        ckpt = {
            "epoch": epoch,
            "model": pl_module.model.state_dict(),  # type: ignore[union-attr,operator]
            "best_result": dict(self.best) if self.best else {},
            "optimizer": optimizers[0].state_dict() if optimizers else {},
            "args": to_dict(self.cfg),
        }
        name = "model_best.pth.tar" if best else f"checkpoint-{epoch}.pth.tar"
        save_checkpoint(ckpt, self.log_dir / name)

    def _grid(self, pl_module: L.LightningModule) -> np.ndarray | None:
        samples = getattr(pl_module, "val_samples", None)
        if not samples:
            return None
        from depthforge.viz import comparison_grid

        return comparison_grid(samples)

    @staticmethod
    def _save_png(path: Path, image: np.ndarray) -> None:
        from depthforge.viz import save_png

        save_png(path, image)


__all__ = ["BEST_KEYS", "CSV_COLUMNS", "CompletionLoss", "CompletionOptions", "CompletionTask",
           "DeepSupervisionConfig", "ReferenceLogCallback"]
