"""KittiDepthCompletion and PairedFolderDataset: items, determinism, load-time validation."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from depthforge.data import (
    KittiDepthCompletion,
    KittiTransformConfig,
    PairedFolderDataset,
)
from depthforge.data import transforms as T
from depthforge.data.kitti import load_arrays
from depthforge.errors import DataError
from depthforge.io import read_depth_png

from .kitti_tree import KittiTree, write_depth, write_rgb

SMALL_CFG = KittiTransformConfig(crop_h=24, crop_w=60, bottom_crop=(32, 64), jitter=0.3)


def _train(tree: KittiTree, **kw) -> KittiDepthCompletion:
    return KittiDepthCompletion(tree.depth, tree.rgb, tree.semantic, "train", SMALL_CFG, **kw)


def _equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        torch.equal(a[k], b[k]) if isinstance(a[k], torch.Tensor) else a[k] == b[k] for k in a
    )


def test_train_item_layout(kitti: KittiTree) -> None:
    ds = _train(kitti)
    assert len(ds) == 8
    item = ds[0]
    assert set(item) == {"image", "semantic", "sparse", "gt", "name"}
    assert item["image"].shape == item["semantic"].shape == (3, 24, 60)
    assert item["sparse"].shape == item["gt"].shape == (1, 24, 60)
    assert all(item[k].dtype == torch.float32 for k in ("image", "semantic", "sparse", "gt"))
    assert item["image"].max() > 1.5  # 0..255, not normalised
    assert ds.crop_size == (24, 60)
    assert item["name"] == ds.samples[0].name


def test_train_item_equals_manual_pipeline(kitti: KittiTree) -> None:
    ds = _train(kitti, seed=11)
    arrays = load_arrays(ds.samples[3])
    params = T.draw_params(np.random.default_rng((11, 3)), SMALL_CFG)
    expected = T.train_arrays(arrays, params, SMALL_CFG)
    item = ds[3]
    for key, array in expected.items():
        assert torch.equal(item[key], T.to_tensor(array))


def test_determinism_keys(kitti: KittiTree) -> None:
    ds, again = _train(kitti, seed=3), _train(kitti, seed=3)
    assert _equal(ds[2], again[2])
    assert _equal(ds[(2, 12345)], again[(2, 12345)])
    assert _equal(ds[(2, (3, 7, 2))], again[(2, (3, 7, 2))])
    assert not _equal(ds[(2, (3, 7, 2))], ds[(2, (3, 8, 2))])  # another epoch, another augmentation
    assert not _equal(ds[2], _train(kitti, seed=4)[2])
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_same_items_in_dataloader_workers(kitti: KittiTree) -> None:
    ds = _train(kitti, seed=1)
    keys = [(i, (1, 5, i)) for i in range(len(ds))]
    serial = [ds[k] for k in keys]
    loader = DataLoader(ds, batch_size=None, sampler=keys, num_workers=2)
    for got, want in zip(loader, serial, strict=True):
        assert _equal(got, want)


def test_val_and_test_items(kitti: KittiTree) -> None:
    cfg = KittiTransformConfig(random_crop=False, bottom_crop=(32, 64))
    val = KittiDepthCompletion(kitti.depth, kitti.rgb, kitti.semantic, "val_full", cfg)
    item = val[1]
    gt = read_depth_png(val.samples[1].gt)
    assert torch.equal(item["gt"][0], torch.from_numpy(gt[8:, 3:67].copy()))
    assert _equal(val[1], val[(1, 99)])  # no randomness outside train
    test = KittiDepthCompletion(kitti.depth, None, kitti.semantic, "test", cfg)
    item = test[0]
    assert "gt" not in item and item["sparse"].shape == (1, 40, 70) and item["name"] == "0000000000"
    assert test.crop_size is None and val.crop_size == (32, 64)
    sel = KittiDepthCompletion(kitti.selection, split="val_select", transform=cfg, max_samples=1)
    assert len(sel) == 1 and sel[0]["image"].shape == (3, 32, 64)


def test_mismatched_sizes_name_both_files(kitti: KittiTree) -> None:
    ds = _train(kitti)
    sample = ds.samples[0]
    write_rgb(sample.semantic, (40, 71), np.random.default_rng(0))
    with pytest.raises(DataError) as err:
        ds[0]
    message = str(err.value)
    assert "\n" not in message and str(sample.semantic) in message and str(sample.gt) in message
    assert "40x71" in message and "40x70" in message


def test_corrupt_file_raises_at_load_time(kitti: KittiTree) -> None:
    ds = _train(kitti)
    path = ds.samples[1].sparse
    path.write_bytes(path.read_bytes()[:100])
    ds[0]
    with pytest.raises(DataError, match="truncated PNG"):
        ds[1]
    cv2.imwrite(str(ds.samples[2].gt), np.ones((40, 70), np.uint8))
    with pytest.raises(DataError, match="8-bit PNG"):
        ds[2]


def test_too_small_for_bottom_crop(kitti: KittiTree) -> None:
    ds = KittiDepthCompletion(kitti.depth, kitti.rgb, kitti.semantic, "train")  # 352x1216 crop
    with pytest.raises(DataError, match="smaller than the 352x1216 bottom crop"):
        ds[0]


def _folders(root: Path) -> tuple[Path, Path, Path]:
    rng = np.random.default_rng(0)
    rgb, depth, sem = root / "rgb", root / "sparse", root / "semantic"
    for stem in ("a", "b"):
        write_rgb(rgb / f"{stem}.png", (12, 20), rng)
        write_rgb(sem / f"{stem}.png", (12, 20), rng)
    write_depth(depth / "a.png", (12, 20), rng)
    np.save(depth / "b.npy", np.full((12, 20), 2.5, np.float32))
    return rgb, depth, sem


def test_folder_dataset_pairs_by_stem(tmp_path: Path) -> None:
    rgb, depth, sem = _folders(tmp_path)
    ds = PairedFolderDataset(rgb, depth, sem)
    assert [s.name for s in ds.samples] == ["a", "b"]
    item = ds[1]
    assert item["name"] == "b" and item["image"].shape == (3, 12, 20) and "gt" not in item
    assert torch.all(item["sparse"] == 2.5)
    assert ds.samples[1].sparse == depth / "b.npy" and ds.samples[1].image == rgb / "b.png"
    assert PairedFolderDataset(rgb, depth, sem, bottom_crop=(8, 16))[0]["sparse"].shape == (1, 8, 16)


def test_folder_dataset_errors(tmp_path: Path) -> None:
    rgb, depth, sem = _folders(tmp_path)
    (sem / "b.png").unlink()
    with pytest.raises(DataError, match="missing semantic map for RGB image b.png"):
        PairedFolderDataset(rgb, depth, sem)
    write_rgb(sem / "b.png", (12, 20), np.random.default_rng(1))
    write_rgb(sem / "c.png", (12, 20), np.random.default_rng(1))
    with pytest.raises(DataError, match="semantic map without an RGB image"):
        PairedFolderDataset(rgb, depth, sem)
    (sem / "c.png").unlink()
    np.save(depth / "a.npy", np.ones((12, 20)))
    with pytest.raises(DataError, match="share the stem 'a'"):
        PairedFolderDataset(rgb, depth, sem)
    (depth / "a.npy").unlink()
    bad = np.full((12, 20), 2.5, np.float32)
    bad[0, :3] = np.nan
    np.save(depth / "b.npy", bad)
    with pytest.raises(DataError, match="contains 3 NaN values"):
        PairedFolderDataset(rgb, depth, sem)[1]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="empty sparse depth folder"):
        PairedFolderDataset(rgb, empty, sem)
    shutil.rmtree(empty)
    with pytest.raises(DataError, match="not a directory"):
        PairedFolderDataset(rgb, empty, sem)
