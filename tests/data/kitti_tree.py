"""A tiny KITTI depth-completion tree builder (exact layout, small random images) for the tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DRIVES = ("2011_09_26_drive_0001_sync", "2011_09_28_drive_0002_sync")
SMALL = (40, 70)  # H, W: bigger than the small crops used in the tests, odd margins on purpose


def write_depth(path: Path, shape: tuple[int, int], rng: np.random.Generator, density: float = 0.3) -> np.ndarray:
    """Random 16-bit KITTI depth PNG; returns the stored uint16 values."""
    path.parent.mkdir(parents=True, exist_ok=True)
    values = rng.integers(256, 30000, shape, dtype=np.uint16)
    values[rng.random(shape) > density] = 0
    assert cv2.imwrite(str(path), values)
    return values


def write_rgb(path: Path, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Random 8-bit RGB PNG; returns the RGB values."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return rgb


@dataclass
class KittiTree:
    """Roots of a built tree and the keys written."""

    depth: Path  # kitti_depth/depth
    rgb: Path  # kitti_raw
    semantic: Path  # semantic maps root
    keys: list[tuple[str, str, str, str]]  # (split dir, drive, camera, frame file)

    @property
    def selection(self) -> Path:
        return self.depth / "data_depth_selection"


def build_kitti(
    root: Path,
    frames: int = 2,
    shape: tuple[int, int] = SMALL,
    selection: int = 2,
    val_semantic: str = "depth_tree",
    seed: int = 0,
) -> KittiTree:
    """Write train/val drives, val_selection_cropped and test_depth_completion_anonymous.

    ``val_semantic``: where val_select/test semantic maps go: ``depth_tree`` (``semantic`` folders inside
    the selection), ``depth_tree_plural`` (``semantics``) or ``download`` (under the semantic root).
    """
    rng = np.random.default_rng(seed)
    tree = KittiTree(root / "kitti_depth" / "depth", root / "kitti_raw", root / "semantic_maps", [])
    for split_dir, drive in (("train", DRIVES[0]), ("train", DRIVES[1]), ("val", DRIVES[1].replace("0002", "0003"))):
        for cam in ("image_02", "image_03"):
            for k in range(frames):
                name = f"{5 + k:010d}.png"
                gt = tree.depth / "data_depth_annotated" / split_dir / drive / "proj_depth" / "groundtruth" / cam
                sp = tree.depth / "data_depth_velodyne" / split_dir / drive / "proj_depth" / "velodyne_raw" / cam
                rel = Path(drive[:10]) / drive / cam / "data" / name
                write_depth(gt / name, shape, rng, 0.5)
                write_depth(sp / name, shape, rng, 0.05)
                write_rgb(tree.rgb / rel, shape, rng)
                write_rgb(tree.semantic / rel, shape, rng)
                tree.keys.append((split_dir, drive, cam, name))
    sel = tree.selection
    sem_dir_name = {"depth_tree": "semantic", "depth_tree_plural": "semantics"}.get(val_semantic)
    for k in range(selection):
        stem = f"{DRIVES[0]}_%s_{5 + k:010d}_image_02.png"
        vs = sel / "val_selection_cropped"
        write_depth(vs / "groundtruth_depth" / (stem % "groundtruth_depth"), shape, rng, 0.5)
        write_depth(vs / "velodyne_raw" / (stem % "velodyne_raw"), shape, rng, 0.05)
        write_rgb(vs / "image" / (stem % "image"), shape, rng)
        test = sel / "test_depth_completion_anonymous"
        write_depth(test / "velodyne_raw" / f"{k:010d}.png", shape, rng, 0.05)
        write_rgb(test / "image" / f"{k:010d}.png", shape, rng)
        if sem_dir_name is not None:
            write_rgb(vs / sem_dir_name / (stem % "image"), shape, rng)
            write_rgb(test / sem_dir_name / f"{k:010d}.png", shape, rng)
        else:
            dl = tree.semantic / "depth" / "data_depth_selection"
            write_rgb(dl / "val_selection_cropped" / "image" / (stem % "image"), shape, rng)
            write_rgb(dl / "test_depth_completion_anonymous" / "image" / f"{k:010d}.png", shape, rng)
    return tree
