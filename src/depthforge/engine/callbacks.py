"""Callbacks: RNG state in checkpoints, atomic checkpoint files, reference-compatible logs."""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from depthforge.checkpoint import save_checkpoint
from depthforge.config import Config, metric_mode, to_dict
from depthforge.engine.module import METRIC_KEYS, CompletionModule

CSV_COLUMNS = ("epoch", "rmse", "photo", "mae", "irmse", "imae", "mse", "absrel", "lg10", "silog",
               "squared_rel", "delta1", "delta2", "delta3", "data_time", "gpu_time")
BEST_KEYS = ("rmse", "mae", "silog", "squared_rel", "irmse", "imae", "mse", "absrel", "lg10", "delta1")


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoint IO that never leaves a half-written file behind."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        save_checkpoint(checkpoint, path, check_plain=False)


class RNGStateCallback(L.Callback):
    """Stores and restores the Python, NumPy and torch generators (plain containers only)."""

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
        name, keys, pos, has_gauss, cached = np.random.get_state()
        version, state, gauss = random.getstate()
        checkpoint["rng_state"] = {
            "torch": torch.get_rng_state(),
            "numpy": {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                      "has_gauss": int(has_gauss), "cached": float(cached)},
            "python": {"version": version, "state": list(state), "gauss": gauss},
        }
        if torch.cuda.is_available():
            checkpoint["rng_state"]["cuda"] = torch.cuda.get_rng_state_all()

    def on_load_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("rng_state")
        if not state:
            return
        torch.set_rng_state(state["torch"])
        n = state["numpy"]
        np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
        p = state["python"]
        random.setstate((p["version"], tuple(p["state"]), p["gauss"]))
        if "cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])


def _fmt(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else str(value)


class ReferenceLogCallback(L.Callback):
    """Writes ``train.csv``, ``val.csv``, ``best.txt``, comparison grids and, optionally,
    the reference's ``checkpoint-<epoch>.pth.tar`` / ``model_best.pth.tar`` into ``log_dir``.

    The reference picks the best epoch by always minimising the rank metric; here the
    direction follows the metric (lower RMSE, higher delta1).
    """

    def __init__(self, cfg: Config, log_dir: Path) -> None:
        self.cfg = cfg
        self.log_dir = Path(log_dir)
        self.monitor = cfg.checkpoint.monitor.rsplit("/", 1)[-1]
        self.mode = cfg.checkpoint.mode or metric_mode(cfg.checkpoint.monitor)
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

    def _append_csv(self, name: str, epoch: int, metrics: dict[str, float]) -> None:
        path = self.log_dir / name
        new = not path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
            if new:
                writer.writeheader()
            row = {"epoch": epoch, "photo": 0, **{k: metrics.get(k, float("nan")) for k in CSV_COLUMNS[1:] if k != "photo"}}
            writer.writerow(row)

    def _is_better(self, value: float) -> bool:
        if self.best is None or not math.isfinite(value):
            return self.best is None and math.isfinite(value)
        old = self.best[self.monitor]
        return value < old if self.mode == "min" else value > old

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        assert isinstance(pl_module, CompletionModule)
        metrics = pl_module.train_epoch_metrics()  # collective under DDP: every rank calls it
        if trainer.is_global_zero and self.cfg.logging.csv:
            self._append_csv("train.csv", self._epoch(trainer), metrics)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Runs after the module's ``on_validation_epoch_end`` has reduced the metrics.
        assert isinstance(pl_module, CompletionModule)
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        metrics = pl_module.epoch_metrics.get("val")
        if not metrics:
            return
        epoch = self._epoch(trainer)
        if self.cfg.logging.csv:
            self._append_csv("val.csv", epoch, metrics)
        grid = self._grid(pl_module)
        if grid is not None:
            self._save_png(self.log_dir / f"comparison_{epoch}.png", grid)
        if self._is_better(metrics[self.monitor]):
            self.best = {k: metrics[k] for k in (*METRIC_KEYS, "gpu_time")}
            self.best_epoch = epoch
            self._write_best_txt(epoch)
            if grid is not None:
                self._save_png(self.log_dir / "comparison_best.png", grid)
            if self.cfg.checkpoint.reference_files and trainer.state.fn == "fit":
                self._save_reference_ckpt(trainer, pl_module, epoch, best=True)
        if self.cfg.checkpoint.reference_files and trainer.state.fn == "fit":
            # The reference writes checkpoint-<epoch> after validation and deletes the previous one.
            self._save_reference_ckpt(trainer, pl_module, epoch, best=False)
            previous = self.log_dir / f"checkpoint-{epoch - 1}.pth.tar"
            if not self.cfg.checkpoint.keep_all_epochs and previous.exists():
                previous.unlink()

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        try:
            from depthforge.viz import plot_curves

            csvs = [self.log_dir / f"{n}.csv" for n in ("train", "val") if (self.log_dir / f"{n}.csv").exists()]
            if csvs:
                plot_curves(csvs, self.log_dir / "curves.png", columns=("rmse", "mae", "delta1"))
        except ImportError:  # plotting is optional
            pass

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

    def _save_reference_ckpt(self, trainer: L.Trainer, pl_module: CompletionModule, epoch: int, best: bool) -> None:
        """The reference layout (epoch, model, best_result, optimizer, args) in plain containers,
        loadable with ``torch.load(weights_only=True)``."""
        optimizers = trainer.optimizers
        ckpt = {
            "epoch": epoch,
            "model": pl_module.model.state_dict(),
            "best_result": dict(self.best) if self.best else {},
            "optimizer": optimizers[0].state_dict() if optimizers else {},
            "args": to_dict(self.cfg),
        }
        name = "model_best.pth.tar" if best else f"checkpoint-{epoch}.pth.tar"
        save_checkpoint(ckpt, self.log_dir / name)

    def _grid(self, pl_module: CompletionModule) -> np.ndarray | None:
        if not pl_module.val_samples:
            return None
        try:
            from depthforge.viz import comparison_grid
        except ImportError:
            return None
        return comparison_grid(pl_module.val_samples)

    @staticmethod
    def _save_png(path: Path, image: np.ndarray) -> None:
        from depthforge.viz import save_png

        save_png(path, image)
