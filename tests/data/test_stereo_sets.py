"""UnrealStereo4K and CityScapes pairing, the U4K depth factor, and their ground-truth listings."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from depthforge.data.cityscapes import cityscapes_gt, sample_of, scan_cityscapes
from depthforge.data.u4k import read_split, scan_u4k, split_file, stereo_factor, u4k_gt
from depthforge.errors import DataError
from depthforge.io import write_disparity_npy, write_extrinsics
from depthforge.synth import write_cityscapes, write_u4k


def _frame(root: Path, scene: str, frame: str, focal: float, tx0: float, tx1: float, disp: np.ndarray) -> None:
    k = np.array([[focal, 0, 4], [0, focal, 3], [0, 0, 1]])
    for view, tx in ((0, tx0), (1, tx1)):
        pose = np.hstack([np.eye(3), np.array([[tx], [0.0], [0.0]])])
        write_extrinsics(root / scene / f"Extrinsics{view}" / f"{frame}.txt", k, pose)
    write_disparity_npy(root / scene / "Disp0" / f"{frame}.npy", disp)


def test_u4k_factor_is_focal_times_baseline(tmp_path: Path) -> None:
    disp = np.array([[10.0, 20.0], [0.0, 40.0]], np.float32)
    _frame(tmp_path, "00002", "00005", 600.0, 0.5, 0.25, disp)
    (sample,) = scan_u4k(tmp_path)
    assert (sample.scene, sample.frame, sample.name) == ("00002", "00005", "00002_Image0_00005")
    assert sample.image1 == tmp_path / "00002" / "Image1" / "00005.png"
    assert stereo_factor(sample) == 600.0 * 0.25
    (gt,) = u4k_gt(tmp_path)
    assert gt.names == ["00002_Image0_00005", "0002_Image0_00005"]
    np.testing.assert_array_equal(gt.depth, np.float32([[15.0, 7.5], [np.inf, 3.75]]))
    assert gt.extras["boundary"].shape == disp.shape


def test_u4k_split_files_of_the_synthetic_set(tmp_path: Path) -> None:
    info = write_u4k(tmp_path, scenes=2, frames=2, height=16, width=24, seed=0, progress=False)
    samples = read_split(tmp_path, split_file(tmp_path, "test_out"))
    assert len(samples) == info.splits["test_out"] == 2
    for s in samples:
        assert all(p.is_file() for p in (s.image0, s.image1, s.disp0, s.disp1, s.extrinsics(0), s.extrinsics(1)))
        assert stereo_factor(s) == pytest.approx(info.focal * info.baseline, rel=1e-12)
    assert [g.path for g in u4k_gt(tmp_path, split_file(tmp_path, "train"))] == [
        tmp_path / line.split()[2] for line in (tmp_path / "splits" / "train.txt").read_text().splitlines()]
    (tmp_path / "bad.txt").write_text("00000/Image0/00000.png 00000/Disp0/00000.npy\n")
    with pytest.raises(DataError, match=r"bad\.txt: line 1 has 2 paths, expected 4"):
        read_split(tmp_path, tmp_path / "bad.txt")
    with pytest.raises(DataError, match="unknown UnrealStereo4K split 'dev'"):
        split_file(tmp_path, "dev")


def test_cityscapes_pairing_and_gt_of_the_synthetic_set(tmp_path: Path) -> None:
    info = write_cityscapes(tmp_path, cities=1, frames=2, height=32, width=64, seed=1, val_cities=0, progress=False)
    samples = scan_cityscapes(tmp_path, "train")
    assert len(samples) == info.counts["train"] == 2
    s = samples[0]
    stem = "aachen_000000_000019"
    assert s.image == tmp_path / "leftImg8bit/train/aachen" / f"{stem}_leftImg8bit.png"
    assert s.camera == tmp_path / "camera/train/aachen" / f"{stem}_camera.json"
    assert s.seg_color == tmp_path / "gtFine/train/aachen" / f"{stem}_gtFine_color.png"
    assert s.names == [f"leftImg8bit_train_aachen_{stem}_leftImg8bit", f"{stem}_leftImg8bit", stem]
    assert sample_of(tmp_path, s.disparity) == s
    gt = next(cityscapes_gt(tmp_path, "train"))
    raw = cv2.imread(str(s.disparity), cv2.IMREAD_UNCHANGED)
    sky = (gt.extras["seg_color"][..., 0] == 70) & (gt.extras["seg_color"][..., 1] == 130)
    inner = np.zeros_like(sky)
    inner[: 32 - 8, 4:-4] = True  # outside the bottom quarter and the W/16 side bands
    assert (gt.depth[~inner & ~sky] == -1).all() and (gt.depth[sky] == 0).all() and (raw[sky] == 0).all()
    keep = inner & ~sky & (raw > 1)
    factor = info.fx * info.baseline
    np.testing.assert_array_equal(gt.depth[keep], (factor / ((raw[keep].astype(np.float32) - 1) / 256)).astype(np.float32))


def test_cityscapes_missing_camera_is_named(tmp_path: Path) -> None:
    write_cityscapes(tmp_path, cities=1, frames=1, height=16, width=32, seed=0, val_cities=0, progress=False)
    cam = scan_cityscapes(tmp_path, "train")[0].camera
    cam.write_text(json.dumps({"extrinsic": {}}))
    with pytest.raises(DataError, match="camera.json: cannot read baseline and fx"):
        next(cityscapes_gt(tmp_path, "train"))
