"""The synthetic KITTI writer's output goes through the strict scanner and the dataset unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from depthforge.data import KittiDepthCompletion
from depthforge.synth import write_kitti


@pytest.mark.slow
def test_synthetic_kitti_all_splits(tmp_path: Path) -> None:
    info = write_kitti(tmp_path, drives=1, frames=1, val_drives=1, n_val_select=1, n_test=1, progress=False)
    expected = {"train": info.n_train, "val_full": info.n_val, "val_select": info.n_val_select, "test": info.n_test}
    shapes = {"train": (320, 1216), "val_full": (352, 1216), "val_select": (352, 1216), "test": (352, 1216)}
    for split, count in expected.items():
        ds = KittiDepthCompletion(info.depth_root, info.rgb_root, info.semantic_root, split)
        assert len(ds) == count
        item = ds[0]
        assert item["image"].shape == (3, *shapes[split]) and item["sparse"].shape == (1, *shapes[split])
        assert ("gt" in item) == (split != "test")
        assert torch.isfinite(item["sparse"]).all() and item["sparse"].max() > 0
