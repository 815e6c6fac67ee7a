"""Evaluation and KITTI test submission with a trained checkpoint (one process, any device)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from depthforge.config import Config
from depthforge.engine.datamodule import build_dataset
from depthforge.engine.module import METRIC_KEYS
from depthforge.metrics.aggregate import MetricAverager
from depthforge.registry import create_model

# Units of the reference table (kitti-penet protocol).
UNITS = {"rmse": "mm", "mae": "mm", "irmse": "1/km", "imae": "1/km", "mse": "mm^2"}
TABLE_KEYS = ("rmse", "mae", "irmse", "imae", "absrel", "squared_rel", "silog", "delta1", "delta2", "delta3")


def _device(cfg: Config) -> torch.device:
    if cfg.trainer.accelerator == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")


def load_model(cfg: Config, ckpt: str | Path) -> torch.nn.Module:
    from depthforge.checkpoint import load_checkpoint

    model = create_model(cfg.model.name, **cfg.model.kwargs)
    load_checkpoint(model, ckpt)
    return model.to(_device(cfg)).eval()


def _batches(cfg: Config, split: str) -> DataLoader[Any]:
    dataset = build_dataset(cfg, split)
    return DataLoader(dataset, batch_size=1, shuffle=False, num_workers=cfg.data.val_workers)


def visualise(sample: dict[str, np.ndarray], depth_range: tuple[float, float]) -> np.ndarray:
    """[sparse | ground truth | prediction | error] on one fixed colour range for every image."""
    from depthforge.viz import colorize, error_map

    lo, hi = depth_range
    panels = [colorize(sample["d"], vmin=lo, vmax=hi), colorize(sample["gt"], vmin=lo, vmax=hi),
              colorize(sample["pred"], vmin=lo, vmax=hi), error_map(sample["pred"], sample["gt"])]
    return np.concatenate(panels, axis=0)


@torch.inference_mode()
def evaluate_split(cfg: Config, ckpt: str | Path, val_results: Path | None = None,
                   model: torch.nn.Module | None = None) -> dict[str, float]:
    """Per-image mean metrics over the configured validation split (``cfg.eval.protocol``)."""
    from depthforge.metrics import kitti_completion

    model = model if model is not None else load_model(cfg, ckpt)
    device = next(model.parameters()).device
    sums = MetricAverager.for_protocol(f"kitti-{cfg.eval.protocol}")
    for i, batch in enumerate(tqdm(_batches(cfg, "val"), desc="evaluate", unit="img")):
        batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
        pred = model(batch)["depth"]
        sums.update(kitti_completion(pred[0], batch["gt"][0], protocol=cfg.eval.protocol))
        if val_results is not None:
            from depthforge.viz import save_png

            sample = {"d": batch["d"][0, 0].cpu().numpy(), "gt": batch["gt"][0, 0].cpu().numpy(),
                      "pred": pred[0, 0].float().cpu().numpy()}
            save_png(val_results / f"{i:010d}.png", visualise(sample, cfg.eval.depth_range))
    means = sums.compute()
    return {k: means[k] for k in METRIC_KEYS}


def write_test_submission(cfg: Config, ckpt: str | Path, out_dir: Path) -> Path:
    """Predict the anonymous test split and write ``0000000000.png``... plus a flat zip beside it."""
    from depthforge.io import check_submission, write_submission

    model = load_model(cfg, ckpt)
    device = next(model.parameters()).device

    @torch.inference_mode()
    def predictions() -> Iterator[tuple[int, np.ndarray]]:  # streamed: never 1,000 maps in memory
        for i, batch in enumerate(tqdm(_batches(cfg, "test"), desc="test", unit="img")):
            batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
            yield i, model(batch)["depth"][0, 0].float().cpu().numpy()

    zip_path = out_dir.parent / f"{out_dir.name or 'submission'}.zip"
    paths = write_submission(predictions(), out_dir, zip_path=zip_path)
    problems = check_submission(zip_path, expected_count=len(paths), expected_size=None)
    if problems:
        raise ValueError(f"{zip_path}: submission check failed: {'; '.join(problems)}")
    return zip_path


def format_table(rows: dict[str, dict[str, float]], keys: tuple[str, ...] = TABLE_KEYS) -> str:
    """A fixed-width table, one row per method, in the order papers print."""
    head = ["method"] + [f"{k} ({UNITS[k]})" if k in UNITS else k for k in keys]
    lines = [head] + [[name] + [f"{m.get(k, float('nan')):.3f}" for k in keys] for name, m in rows.items()]
    widths = [max(len(r[i]) for r in lines) for i in range(len(head))]
    out = [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in lines]
    out.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(out)


__all__ = ["evaluate_split", "format_table", "load_model", "write_test_submission"]
