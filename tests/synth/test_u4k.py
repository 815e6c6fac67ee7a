"""The synthetic UnrealStereo4K set, read back the way PatchRefiner reads it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from depthforge.synth.render import render
from depthforge.synth.u4k import left_camera, scene_drive

H, W, SEED, FRAMES = 72, 128, 1, 3  # as in the u4k_set fixture


def _factor(root: Path, disp_rel: str) -> tuple[float, float]:
    e0 = (root / disp_rel.replace("Disp0", "Extrinsics0").replace(".npy", ".txt")).read_text().splitlines()
    e1 = (root / disp_rel.replace("Disp0", "Extrinsics1").replace(".npy", ".txt")).read_text().splitlines()
    focal = float(e0[0].split(" ")[0])
    baseline = abs(float(e0[1].split(" ")[3]) - float(e1[1].split(" ")[3]))
    return focal, baseline


def test_splits_and_files(u4k_set) -> None:
    root = u4k_set.root
    counts = {s: len((root / "splits" / f"{s}.txt").read_text().splitlines()) for s in
              ("train", "val", "test", "test_out")}
    assert counts == u4k_set.splits == {"train": 1, "val": 1, "test": 1, "test_out": 3}
    for line in (root / "splits" / "test_out.txt").read_text().splitlines():
        parts = line.split(" ")
        assert len(parts) == 4 and parts[0].startswith("00001/Image0/")
        for rel in parts:
            assert (root / rel).is_file()
        raw = np.fromfile(root / (parts[0][:-3] + "raw"), dtype=np.uint8).reshape(H, W, 3)
        np.testing.assert_array_equal(raw, cv2.imread(str(root / parts[0])))  # BGR dump of the PNG


def test_depth_from_disparity_and_extrinsics_equals_rendered_depth(u4k_set) -> None:
    root = u4k_set.root
    for split in ("train", "val", "test", "test_out"):
        for line in (root / "splits" / f"{split}.txt").read_text().splitlines():
            disp_rel = line.split(" ")[2]
            focal, baseline = _factor(root, disp_rel)
            assert abs(focal - W / 2) < 1e-12 and abs(baseline - u4k_set.baseline) < 1e-9
            disp = np.load(root / disp_rel, mmap_mode="c").astype(np.float32)
            assert disp.shape == (H, W) and disp.dtype == np.float32
            with np.errstate(divide="ignore"):
                depth = focal * baseline / disp
            scene, frame = int(disp_rel[:5]), int(disp_rel[-9:-4])
            drive = scene_drive(SEED, scene, FRAMES)
            truth = render(drive.scene, left_camera(drive, SEED, scene, frame, H, W), noise_seed=None)["depth"]
            np.testing.assert_array_equal(np.isinf(depth), np.isinf(truth))
            fin = np.isfinite(truth)
            np.testing.assert_allclose(depth[fin], truth[fin], rtol=1e-5)


def test_right_disparity_matches_right_view(u4k_set) -> None:
    root = u4k_set.root
    drive = scene_drive(SEED, 0, FRAMES)
    right = left_camera(drive, SEED, 0, 0, H, W).shifted(u4k_set.baseline)
    truth = render(drive.scene, right, noise_seed=None)["depth"]
    disp1 = np.load(root / "00000" / "Disp1" / "00000.npy")
    fin = np.isfinite(truth)
    np.testing.assert_allclose(u4k_set.focal * u4k_set.baseline / disp1[fin], truth[fin], rtol=1e-5)
    assert (disp1[~fin] == 0).all()
