"""A tiny synthetic KITTI-format set and a tiny training config shared by the engine tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from depthforge.synth import write_kitti


@pytest.fixture(scope="session")
def kitti_synth(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("kitti_synth")
    return write_kitti(out, drives=1, frames=2, seed=3, val_drives=1, n_val_select=1, n_test=2, progress=False)


def tiny_config(info, tmp: Path, **sections) -> dict:
    """A config dict for a very small SemAttNet on 64x128 crops, CPU, no workers."""
    cfg = {
        "model": {"name": "semattnet", "kwargs": {"width_mult": 0.0625}},
        "data": {"dataset": "kitti",
                 "options": {"data_folder": str(info.depth_root), "data_folder_rgb": str(info.rgb_root),
                             "data_semantic": str(info.semantic_root), "crop_h": 64, "crop_w": 128},
                 "batch_size": 2, "workers": 0, "val_workers": 0, "max_val_samples": 1},
        "optim": {"name": "adam", "lr": 1.0e-3, "betas": [0.9, 0.99], "weight_decay": 1.0e-6},
        "scheduler": {"name": "plateau", "patience": 1},
        "checkpoint": {"monitor": "val/rmse"},
        "trainer": {"epochs": 2, "accelerator": "cpu", "devices": 1, "seed": 7, "progress_bar": False,
                    "log_every_n_steps": 1},
        "logging": {"tensorboard": False},
        "run": {"work_dir": str(tmp / "runs"), "name": "tiny"},
    }
    for key, value in sections.items():
        cfg.setdefault(key, {}).update(value)
    return cfg


def write_config(path: Path, cfg: dict) -> Path:
    path.write_text(yaml.safe_dump(cfg))
    return path
