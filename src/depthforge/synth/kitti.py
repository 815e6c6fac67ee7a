"""Write a synthetic set in the on-disk layout of KITTI depth completion, raw RGB and semantic maps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from depthforge.io import write_depth_png, write_rgb_png
from depthforge.synth import palette
from depthforge.synth.camera import (
    KITTI_BASELINE,
    KITTI_CX,
    KITTI_CY,
    KITTI_FX,
    KITTI_FY,
    KITTI_HEIGHT,
    KITTI_WIDTH,
)
from depthforge.synth.drive import GT_WINDOW, Drive, simulate_frame
from depthforge.synth.render import PNG_COMPRESSION

DATES = ("2011_09_26", "2011_09_28", "2011_09_29", "2011_09_30", "2011_10_03")
CROP_HEIGHT = 352
CROP_WIDTH = 1216
CROP_TOP = KITTI_HEIGHT - CROP_HEIGHT  # bottom crop
CROP_LEFT = (KITTI_WIDTH - CROP_WIDTH) // 2  # centre crop (13 px, as PENet's cx shift)


def _write_rgb(path: Path, rgb: np.ndarray) -> None:
    write_rgb_png(path, rgb, compression=PNG_COMPRESSION)


def _write_depth(path: Path, depth: np.ndarray) -> None:
    """KITTI 16-bit depth PNG (0 where depth is 0, inf or NaN)."""
    write_depth_png(path, depth, compression=PNG_COMPRESSION)


@dataclass(frozen=True)
class KittiSynthInfo:
    """Roots and counts of a written synthetic KITTI set.

    ``depth_root`` is ``<out>/kitti_depth/depth`` (holds ``data_depth_velodyne``,
    ``data_depth_annotated`` and ``data_depth_selection``), ``rgb_root`` is
    ``<out>/kitti_raw`` and ``semantic_root`` is ``<out>/semantic_maps``. Sample
    counts are per image (image_02 and image_03 count separately).
    """

    root: Path
    depth_root: Path
    rgb_root: Path
    semantic_root: Path
    selection_root: Path
    train_drives: tuple[str, ...]
    val_drives: tuple[str, ...]
    n_train: int
    n_val: int
    n_val_select: int
    n_test: int


def drive_name(index: int) -> tuple[str, str]:
    """KITTI date and drive folder name for the ``index``-th synthetic drive."""
    date = DATES[index % len(DATES)]
    return date, f"{date}_drive_{index + 1:04d}_sync"


def drive_seed(seed: int, index: int) -> int:
    """Scene seed of one drive, derived from the set's seed."""
    return int(np.random.SeedSequence([seed, index, 0xD21]).generate_state(1)[0])


def crop(a: np.ndarray) -> np.ndarray:
    """Bottom-centre 352x1216 crop of a full KITTI frame (as ``val_selection_cropped``)."""
    return a[CROP_TOP:CROP_TOP + CROP_HEIGHT, CROP_LEFT:CROP_LEFT + CROP_WIDTH]


def _intrinsics_line(cam: int) -> str:
    """3x3 K of the cropped frame, row-major, as in KITTI's ``intrinsics/*.txt``."""
    k = [KITTI_FX, 0.0, KITTI_CX - CROP_LEFT, 0.0, KITTI_FY, KITTI_CY - CROP_TOP, 0.0, 0.0, 1.0]
    return " ".join(f"{v:.6e}" for v in k) + "\n"


def _write_calib(path: Path) -> None:
    """A ``calib_cam_to_cam.txt`` with KITTI's line order (P_rect_02 on line 26, as PENet reads it)."""
    lines = ["calib_time: 01-Jan-2011 00:00:00", "corner_dist: 9.950000e-02"]
    eye = " ".join(f"{v:e}" for v in np.eye(3).ravel())
    k = " ".join(f"{v:e}" for v in (KITTI_FX, 0.0, KITTI_CX, 0.0, KITTI_FY, KITTI_CY, 0.0, 0.0, 1.0))
    for cam, tx in ((0, 0.0), (1, -0.54), (2, 0.0), (3, -KITTI_BASELINE)):
        p = " ".join(f"{v:e}" for v in (KITTI_FX, 0.0, KITTI_CX, tx * KITTI_FX, 0.0, KITTI_FY, KITTI_CY, 0.0,
                                          0.0, 0.0, 1.0, 0.0))
        lines += [f"S_0{cam}: {KITTI_WIDTH:e} {KITTI_HEIGHT:e}", f"K_0{cam}: {k}", f"D_0{cam}: 0 0 0 0 0",
                  f"R_0{cam}: {eye}", f"T_0{cam}: {tx:e} 0.000000e+00 0.000000e+00",
                  f"S_rect_0{cam}: {KITTI_WIDTH:e} {KITTI_HEIGHT:e}", f"R_rect_0{cam}: {eye}",
                  f"P_rect_0{cam}: {p}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def write_kitti(out: Path, drives: int = 2, frames: int = 8, seed: int = 0, val_drives: int = 1,
                n_val_select: int = 4, n_test: int = 4, progress: bool = True) -> KittiSynthInfo:
    """Render a synthetic KITTI depth-completion set under ``out``.

    ``drives`` training drives and ``val_drives`` validation drives each get
    ``frames`` annotated frames (ids 5 .. frames+4, both colour cameras); raw
    RGB and semantic maps exist for exactly those frames. ``n_val_select``
    frames of the validation drives are also written as 1216x352 crops to
    ``val_selection_cropped``; ``n_test`` crops of one further drive (used
    nowhere else) form ``test_depth_completion_anonymous``.
    """
    if drives < 0 or val_drives < 0 or frames < 1 or n_val_select < 0 or n_test < 0:
        raise ValueError("drives, val_drives, n_val_select and n_test must be >= 0 and frames >= 1")
    if n_val_select > val_drives * frames * 2:
        raise ValueError(
            f"n_val_select={n_val_select} exceeds the {val_drives * frames * 2} validation images"
        )
    out = Path(out)
    depth_root = out / "kitti_depth" / "depth"
    rgb_root = out / "kitti_raw"
    sem_root = out / "semantic_maps"
    sel_root = depth_root / "data_depth_selection"
    sem_sel = sem_root / "depth" / "data_depth_selection"
    val_sel = sel_root / "val_selection_cropped"
    test_sel = sel_root / "test_depth_completion_anonymous"
    ids = list(range(GT_WINDOW, GT_WINDOW + frames))
    # Evenly spread val-select picks over (val drive, frame, camera).
    val_items = [(j, f, c) for j in range(drives, drives + val_drives) for f in ids for c in (2, 3)]
    picks = {val_items[i] for i in np.linspace(0, len(val_items) - 1, n_val_select).round().astype(int)} \
        if n_val_select else set()
    names: dict[str, list[str]] = {"train": [], "val": []}
    total = (drives + val_drives) * frames + n_test
    bar = tqdm(total=total, desc="synth kitti", unit="frame", disable=not progress)
    for j in range(drives + val_drives):
        split = "train" if j < drives else "val"
        date, name = drive_name(j)
        names[split].append(name)
        _write_calib(rgb_root / date / "calib_cam_to_cam.txt")
        drive = Drive.create(drive_seed(seed, j), frames + 2 * GT_WINDOW)
        for f in ids:
            views = simulate_frame(drive, f)
            drive.forget_scans_before(f - GT_WINDOW + 1)
            for cam, v in views.items():
                img, fname = f"image_0{cam}", f"{f:010d}.png"
                _write_rgb(rgb_root / date / name / img / "data" / fname, v["image"])
                sem_rgb = palette.colorize(v["semantic"])
                _write_rgb(sem_root / date / name / img / "data" / fname, sem_rgb)
                proj = Path(split) / name / "proj_depth"
                sparse_path = depth_root / "data_depth_velodyne" / proj / "velodyne_raw" / img / fname
                _write_depth(sparse_path, v["sparse"])
                gt_path = depth_root / "data_depth_annotated" / proj / "groundtruth" / img / fname
                _write_depth(gt_path, v["gt"])
                if (j, f, cam) in picks:
                    stem = f"{f:010d}_{img}"
                    image_name = f"{name}_image_{stem}.png"
                    sparse_name = f"{name}_velodyne_raw_{stem}.png"
                    gt_name = f"{name}_groundtruth_depth_{stem}.png"
                    _write_depth(val_sel / "velodyne_raw" / sparse_name, crop(v["sparse"]))
                    _write_depth(val_sel / "groundtruth_depth" / gt_name, crop(v["gt"]))
                    _write_rgb(val_sel / "image" / image_name, crop(v["image"]))
                    _write_rgb(val_sel / "semantic" / image_name, crop(sem_rgb))
                    _write_rgb(sem_sel / "val_selection_cropped" / "image" / image_name, crop(sem_rgb))
                    (val_sel / "intrinsics").mkdir(parents=True, exist_ok=True)
                    (val_sel / "intrinsics" / f"{name}_image_{stem}.txt").write_text(_intrinsics_line(cam))
            bar.update(1)
    if n_test:
        drive = Drive.create(drive_seed(seed, drives + val_drives), 3 * n_test + 2 * GT_WINDOW)
        for i in range(n_test):
            v = simulate_frame(drive, GT_WINDOW + 3 * i, cams=(2,), with_gt=False)[2]
            fname = f"{i:010d}.png"
            sem_rgb = crop(palette.colorize(v["semantic"]))
            _write_depth(test_sel / "velodyne_raw" / fname, crop(v["sparse"]))
            _write_rgb(test_sel / "image" / fname, crop(v["image"]))
            _write_rgb(test_sel / "semantic" / fname, sem_rgb)
            _write_rgb(sem_sel / "test_depth_completion_anonymous" / "image" / fname, sem_rgb)
            (test_sel / "intrinsics").mkdir(parents=True, exist_ok=True)
            (test_sel / "intrinsics" / f"{i:010d}.txt").write_text(_intrinsics_line(2))
            bar.update(1)
    bar.close()
    return KittiSynthInfo(
        root=out, depth_root=depth_root, rgb_root=rgb_root, semantic_root=sem_root, selection_root=sel_root,
        train_drives=tuple(names["train"]), val_drives=tuple(names["val"]),
        n_train=2 * frames * drives, n_val=2 * frames * val_drives, n_val_select=n_val_select, n_test=n_test,
    )
