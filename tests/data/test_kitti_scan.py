"""scan_kitti: path-derived pairing, layouts, semantic search order and errors for misaligned data."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from depthforge.data import scan_kitti
from depthforge.errors import DataError

from .kitti_tree import DRIVES, KittiTree, build_kitti, write_depth


def _scan(tree: KittiTree, split: str, data: Path | None = None, semantic: Path | None | str = "default"):
    sem = tree.semantic if semantic == "default" else semantic
    return scan_kitti(data or tree.depth, tree.rgb, sem, split)


def _one_line(err: pytest.ExceptionInfo[DataError]) -> str:
    message = str(err.value)
    assert "\n" not in message
    return message


def test_train_pairs_by_drive_camera_frame(kitti: KittiTree) -> None:
    samples = _scan(kitti, "train")
    assert len(samples) == 2 * 2 * 2
    for s in samples:
        assert s.gt is not None and s.drive is not None and s.camera in ("image_02", "image_03")
        assert s.gt == kitti.depth / "data_depth_annotated/train" / s.drive / "proj_depth/groundtruth" / s.camera / f"{s.frame}.png"
        assert s.sparse == kitti.depth / "data_depth_velodyne/train" / s.drive / "proj_depth/velodyne_raw" / s.camera / s.gt.name
        assert s.image == kitti.rgb / s.drive[:10] / s.drive / s.camera / "data" / s.gt.name
        assert s.semantic == kitti.semantic / s.drive[:10] / s.drive / s.camera / "data" / s.gt.name
        assert s.name == f"{s.drive}_{s.camera}_{s.frame}"
    assert [s.name for s in samples] == sorted(s.name for s in samples)
    val = _scan(kitti, "val_full")
    assert len(val) == 4 and all("data_depth_annotated/val/" in s.gt.as_posix() for s in val)


def test_missing_sparse_names_file_and_sample(kitti: KittiTree) -> None:
    victim = kitti.depth / "data_depth_velodyne/train" / DRIVES[1] / "proj_depth/velodyne_raw/image_03/0000000006.png"
    victim.unlink()
    with pytest.raises(DataError) as err:
        _scan(kitti, "train")
    message = _one_line(err)
    assert message.startswith(str(victim)) and "missing sparse depth" in message
    assert f"{DRIVES[1]}_image_03_0000000006" in message


@pytest.mark.parametrize(("root_attr", "what"), [("rgb", "RGB image"), ("semantic", "semantic map")])
def test_missing_rgb_or_semantic(kitti: KittiTree, root_attr: str, what: str) -> None:
    victim = getattr(kitti, root_attr) / DRIVES[0][:10] / DRIVES[0] / "image_02/data/0000000005.png"
    victim.unlink()
    with pytest.raises(DataError, match=f"missing {what}") as err:
        _scan(kitti, "train")
    assert _one_line(err).startswith(str(victim))


def test_extra_sparse_without_gt_is_an_error(kitti: KittiTree) -> None:
    # With independently sorted globs this would silently shift every later pair by one.
    gt = kitti.depth / "data_depth_annotated/train" / DRIVES[0] / "proj_depth/groundtruth/image_02/0000000005.png"
    gt.unlink()
    with pytest.raises(DataError, match="sparse depth without ground truth") as err:
        _scan(kitti, "train")
    assert "0000000005.png" in _one_line(err)


def test_extra_rgb_frames_are_fine(kitti: KittiTree) -> None:
    extra = kitti.rgb / DRIVES[0][:10] / DRIVES[0] / "image_02/data/0000000000.png"
    shutil.copy(kitti.rgb / DRIVES[0][:10] / DRIVES[0] / "image_02/data/0000000005.png", extra)
    assert len(_scan(kitti, "train")) == 8


def test_empty_split_names_folder_and_glob(tmp_path: Path) -> None:
    tree = build_kitti(tmp_path, frames=1)
    shutil.rmtree(tree.depth / "data_depth_annotated/val")
    (tree.depth / "data_depth_annotated/val").mkdir()
    with pytest.raises(DataError, match=r"empty split 'val_full'.*groundtruth/image_0\[23\]/\*\.png") as err:
        _scan(tree, "val_full")
    assert _one_line(err).startswith(str(tree.depth / "data_depth_annotated/val"))
    shutil.rmtree(tree.selection / "test_depth_completion_anonymous/velodyne_raw")
    with pytest.raises(DataError, match="empty split 'test'"):
        _scan(tree, "test")


def test_missing_roots_and_bad_split(kitti: KittiTree) -> None:
    with pytest.raises(DataError, match="rgb_folder"):
        scan_kitti(kitti.depth, None, kitti.semantic, "train")
    with pytest.raises(DataError, match="not a directory"):
        scan_kitti(kitti.depth, kitti.rgb / "nowhere", kitti.semantic, "train")
    with pytest.raises(DataError, match="unknown split"):
        scan_kitti(kitti.depth, kitti.rgb, kitti.semantic, "validation")


def test_val_select_pairs_by_name_with_semantic_in_depth_tree(kitti: KittiTree) -> None:
    samples = _scan(kitti, "val_select", semantic=None)
    assert len(samples) == 2
    s = samples[0]
    base = kitti.selection / "val_selection_cropped"
    assert s.gt.parent == base / "groundtruth_depth"
    assert s.sparse == base / "velodyne_raw" / s.gt.name.replace("groundtruth_depth", "velodyne_raw")
    assert s.image == base / "image" / s.gt.name.replace("groundtruth_depth", "image")
    assert s.semantic == base / "semantic" / s.image.name
    assert s.name == s.sparse.stem


def test_val_select_semantics_plural_and_download_layout(tmp_path: Path) -> None:
    plural = build_kitti(tmp_path / "a", val_semantic="depth_tree_plural")
    assert _scan(plural, "val_select")[0].semantic.parent.name == "semantics"
    download = build_kitti(tmp_path / "b", val_semantic="download")
    got = _scan(download, "val_select")[0].semantic
    assert got.parent == download.semantic / "depth/data_depth_selection/val_selection_cropped/image"
    test = _scan(download, "test")[0].semantic
    assert test.parent == download.semantic / "depth/data_depth_selection/test_depth_completion_anonymous/image"
    with pytest.raises(DataError, match="no semantic maps") as err:
        _scan(download, "val_select", semantic=None)
    assert "searched in order" in _one_line(err)


def test_semantic_root_is_searched_before_depth_tree(kitti: KittiTree) -> None:
    src = kitti.selection / "val_selection_cropped/semantic"
    dst = kitti.semantic / "depth/data_depth_selection/val_selection_cropped/image"
    shutil.copytree(src, dst)
    assert _scan(kitti, "val_select")[0].semantic.parent == dst
    assert _scan(kitti, "val_select", semantic=None)[0].semantic.parent == src


def test_missing_semantic_map_val_select_and_test(kitti: KittiTree) -> None:
    victim = sorted((kitti.selection / "val_selection_cropped/semantic").iterdir())[1]
    victim.unlink()
    with pytest.raises(DataError, match="missing semantic map") as err:
        _scan(kitti, "val_select")
    assert _one_line(err).startswith(str(victim))
    (kitti.selection / "test_depth_completion_anonymous/semantic/0000000000.png").unlink()
    with pytest.raises(DataError, match="missing semantic map"):
        _scan(kitti, "test")


def test_test_split_pairs_by_file_name(kitti: KittiTree) -> None:
    samples = _scan(kitti, "test")
    assert [s.name for s in samples] == ["0000000000", "0000000001"]
    assert all(s.gt is None and s.image.name == s.sparse.name == s.semantic.name for s in samples)
    extra = kitti.selection / "test_depth_completion_anonymous/image/0000000007.png"
    shutil.copy(samples[0].image, extra)
    with pytest.raises(DataError, match="RGB image without sparse depth"):
        _scan(kitti, "test")


def test_val_select_extra_sparse(kitti: KittiTree) -> None:
    extra = kitti.selection / "val_selection_cropped/velodyne_raw/x_velodyne_raw_0000000099_image_02.png"
    write_depth(extra, (4, 4), np.random.default_rng(0))
    with pytest.raises(DataError, match="sparse depth without ground truth"):
        _scan(kitti, "val_select")


def test_main_branch_layout_detected(kitti: KittiTree) -> None:
    samples = _scan(kitti, "val_select", data=kitti.selection)
    assert samples == _scan(kitti, "val_select")
    assert len(_scan(kitti, "test", data=kitti.selection)) == 2
    with pytest.raises(DataError, match="needs the kitti_depth/depth root"):
        _scan(kitti, "train", data=kitti.selection)
    with pytest.raises(DataError, match="no data_depth_selection folder"):
        _scan(kitti, "test", data=kitti.rgb)
