"""The synthetic KITTI depth-completion set: layout, encodings, densities and geometry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from depthforge.synth import palette
from depthforge.synth.drive import GT_WINDOW, Drive
from depthforge.synth.kitti import CROP_HEIGHT, CROP_WIDTH, KittiSynthInfo, crop, drive_seed
from depthforge.synth.render import render

SEED = 3  # as in the kitti_set fixture


def _depth(path: Path) -> np.ndarray:
    arr = np.array(Image.open(path))
    assert arr.dtype == np.uint16, path
    return arr.astype(np.float64) / 256.0


def _frames(info: KittiSynthInfo, split: str, kind: str, sub: str) -> list[Path]:
    base = info.depth_root / kind / split
    return sorted(base.glob(f"*_sync/proj_depth/{sub}/image_0[23]/*.png"))


def test_layout_names_and_counts(kitti_set: KittiSynthInfo) -> None:
    info = kitti_set
    assert info.depth_root == info.root / "kitti_depth" / "depth"
    assert info.train_drives == ("2011_09_26_drive_0001_sync",)
    for split, n in (("train", info.n_train), ("val", info.n_val)):
        d = _frames(info, split, "data_depth_velodyne", "velodyne_raw")
        gt = _frames(info, split, "data_depth_annotated", "groundtruth")
        assert len(d) == len(gt) == n == 4
        assert [p.name for p in gt] == ["0000000005.png", "0000000006.png"] * 2
        for p in gt:  # RGB and semantic paths derived from the GT path, as the reference reader does
            drive, img, name = p.parts[-5], p.parts[-2], p.name
            for root in (info.rgb_root, info.semantic_root):
                f = root / drive[:10] / drive / img / "data" / name
                a = np.array(Image.open(f))
                assert a.shape == (375, 1242, 3) and a.dtype == np.uint8
    sel = info.selection_root / "val_selection_cropped"
    for sub in ("velodyne_raw", "groundtruth_depth", "image", "semantic"):
        assert len(list((sel / sub).glob("*.png"))) == info.n_val_select
    gt_names = sorted(p.name for p in (sel / "groundtruth_depth").glob("*.png"))
    img_names = sorted(p.name for p in (sel / "image").glob("*.png"))
    assert img_names == [n.replace("groundtruth_depth", "image") for n in gt_names]
    assert all(n.startswith(info.val_drives[0] + "_groundtruth_depth_00000000") for n in gt_names)
    test = info.selection_root / "test_depth_completion_anonymous"
    for sub in ("velodyne_raw", "image", "semantic"):
        assert sorted(p.name for p in (test / sub).glob("*.png")) == ["0000000000.png", "0000000001.png"]
    mirror = info.semantic_root / "depth" / "data_depth_selection"
    assert len(list((mirror / "test_depth_completion_anonymous" / "image").glob("*.png"))) == 2
    assert sorted(p.name for p in (mirror / "val_selection_cropped" / "image").glob("*.png")) == img_names


def test_depth_pngs_are_16bit_and_densities_match_kitti(kitti_set: KittiSynthInfo) -> None:
    for split in ("train", "val"):
        for d_path, g_path in zip(_frames(kitti_set, split, "data_depth_velodyne", "velodyne_raw"),
                                  _frames(kitti_set, split, "data_depth_annotated", "groundtruth")):
            d, gt = _depth(d_path), _depth(g_path)
            assert d.shape == gt.shape == (375, 1242)
            d_density = (crop(d) > 0).mean()
            gt_density = (crop(gt) > 0).mean()
            assert 0.035 < d_density < 0.07, (d_path, d_density)
            assert 0.15 < gt_density < 0.30, (g_path, gt_density)
            # 120 m LiDAR range; GT also holds sweeps taken up to 5 frames (< 7 m) further ahead.
            assert d.max() < 121.0 and gt.max() < 127.0


def test_no_ground_truth_in_sky_or_above_the_highest_beam(kitti_set: KittiSynthInfo, read_any) -> None:
    for d_path, g_path in zip(_frames(kitti_set, "train", "data_depth_velodyne", "velodyne_raw"),
                              _frames(kitti_set, "train", "data_depth_annotated", "groundtruth")):
        drive, img, name = g_path.parts[-5], g_path.parts[-2], g_path.name
        sem = read_any(kitti_set.semantic_root / drive[:10] / drive / img / "data" / name)
        sky = np.all(sem == palette.CLASS_COLORS[palette.SKY], axis=-1)
        gt, d = _depth(g_path), _depth(d_path)
        assert sky.any()
        assert not (gt[sky] > 0).any()
        top = np.flatnonzero((d > 0).any(axis=1))[0]
        assert top > 100  # +2 degrees above the horizon at KITTI's cy
        assert not (gt[:top] > 0).any()


def _rendered(j: int, frame: int, cam: int) -> np.ndarray:
    drive = Drive.create(drive_seed(SEED, j), 2 + 2 * GT_WINDOW)
    return render(drive.scene, drive.camera(frame, cam), noise_seed=None)["depth"].astype(np.float64)


def test_lidar_and_ground_truth_lie_on_rendered_surfaces(kitti_set: KittiSynthInfo) -> None:
    drive = kitti_set.train_drives[0]
    for cam in (2, 3):
        depth = _rendered(0, 6, cam)
        lo = ndimage.minimum_filter(depth, size=3, mode="nearest")
        hi = ndimage.maximum_filter(depth, size=3, mode="nearest")
        for kind, sub in (("data_depth_velodyne", "velodyne_raw"), ("data_depth_annotated", "groundtruth")):
            m = _depth(kitti_set.depth_root / kind / "train" / drive / "proj_depth" / sub / f"image_0{cam}"
                       / "0000000006.png")
            v = m > 0
            z = m[v]
            tol = 0.1 + 0.01 * z  # 3 sigma range noise + quantisation + sub-pixel position
            on_surface = (z >= lo[v] - tol) & (z <= hi[v] + tol)
            # The raw LiDAR sees past edges the camera cannot (sensor offset), as in KITTI: such points lie
            # behind the visible surface, never in front of it. The ground truth is occlusion-filtered.
            if sub == "velodyne_raw":
                assert on_surface.mean() > 0.95, (cam, on_surface.mean())
                assert (z[~on_surface] > hi[v][~on_surface]).all()
            else:
                assert on_surface.all()
            flat = on_surface & (hi[v] - lo[v] < 0.05)
            assert np.median(np.abs(z[flat] - depth[v][flat])) < 0.03


def test_val_selection_is_bottom_centre_crop_of_full_frames(kitti_set: KittiSynthInfo, read_any) -> None:
    sel = kitti_set.selection_root / "val_selection_cropped"
    for g in sorted((sel / "groundtruth_depth").glob("*.png")):
        drive, rest = g.name.split("_groundtruth_depth_")
        frame, img = rest[:10], rest[11:19]
        full = {
            "velodyne_raw": kitti_set.depth_root / "data_depth_velodyne" / "val" / drive / "proj_depth"
            / "velodyne_raw" / img / f"{frame}.png",
            "groundtruth_depth": g.parents[3] / "data_depth_annotated" / "val" / drive / "proj_depth"
            / "groundtruth" / img / f"{frame}.png",
            "image": kitti_set.rgb_root / drive[:10] / drive / img / "data" / f"{frame}.png",
            "semantic": kitti_set.semantic_root / drive[:10] / drive / img / "data" / f"{frame}.png",
        }
        for sub, src in full.items():
            name = g.name.replace("groundtruth_depth", "image" if sub in ("image", "semantic") else sub)
            cropped = read_any(sel / sub / name)
            assert cropped.shape[:2] == (CROP_HEIGHT, CROP_WIDTH)
            np.testing.assert_array_equal(cropped, crop(read_any(src)))
        k = np.loadtxt(sel / "intrinsics" / g.name.replace("groundtruth_depth", "image").replace(".png", ".txt"))
        np.testing.assert_allclose(k[[2, 5]], [609.5593 - 13, 172.854 - 23])


def test_test_split_has_no_ground_truth_and_crop_size(kitti_set: KittiSynthInfo, read_any) -> None:
    test = kitti_set.selection_root / "test_depth_completion_anonymous"
    assert not (test / "groundtruth_depth").exists()
    for p in sorted((test / "velodyne_raw").glob("*.png")):
        d = np.array(Image.open(p))
        assert d.dtype == np.uint16 and d.shape == (CROP_HEIGHT, CROP_WIDTH) and (d > 0).any()
        assert np.array(Image.open(test / "image" / p.name)).shape == (CROP_HEIGHT, CROP_WIDTH, 3)
        np.testing.assert_array_equal(
            read_any(test / "semantic" / p.name),
            read_any(kitti_set.semantic_root / "depth" / "data_depth_selection" / "test_depth_completion_anonymous"
                     / "image" / p.name))


def test_semantic_maps_use_only_palette_colours(kitti_set: KittiSynthInfo, read_any) -> None:
    sem = read_any(next(kitti_set.semantic_root.glob("2011_*/*/image_02/data/*.png")))
    colours = {tuple(c) for c in np.unique(sem.reshape(-1, 3), axis=0)}
    assert colours <= set(palette.CLASS_COLORS.values())
    assert {palette.CLASS_COLORS[c] for c in (palette.ROAD, palette.SKY, palette.BUILDING)} <= colours


def test_lidar_points_are_surface_hits_within_noise() -> None:
    from depthforge.synth.raycast import cast

    drive = Drive.create(11, 12)
    sweep = drive.scan(4)
    sigma = drive.lidar.range_sigma
    assert len(sweep.points) > 20000
    np.testing.assert_array_less(np.abs(sweep.measured_range - sweep.true_range), 3 * sigma + 1e-9)
    # Re-cast towards every measured point: the surface is there, within the noise.
    rel = sweep.points - sweep.origin
    rng_ = np.linalg.norm(rel, axis=1)
    again = cast(drive.scene, sweep.origin, rel / rng_[:, None]).t
    np.testing.assert_allclose(again, sweep.true_range, atol=1e-6)
    np.testing.assert_array_less(np.abs(again - rng_), 3 * sigma + 1e-6)
