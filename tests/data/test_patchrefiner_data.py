"""PatchRefiner's UnrealStereo4K and CityScapes datasets: items, crops, determinism, fast path, errors."""

from __future__ import annotations

import dataclasses
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import default_collate

from depthforge.data.cityscapes import CityscapesOptions, build_cityscapes, masked_depth, sky_mask_path
from depthforge.data.patch_pipeline import (
    draw_patch,
    nearest_source,
    resize_bilinear,
    resize_from_support,
    resize_support,
    rotate_bilinear_at,
    rotation_matches_pil,
    rotation_matrix,
)
from depthforge.data.registry import build_dataset, dataset_options, list_datasets
from depthforge.data.u4k import U4KOptions, build_u4k, stereo_factor
from depthforge.errors import DataError
from depthforge.io import disparity_to_depth, read_disparity_npy, read_rgb
from depthforge.synth import write_cityscapes, write_u4k

NO_AUG = {"degree": 0.0, "color_aug_prob": 0.0, "flip_prob": 0.0}


@pytest.fixture(scope="module")
def u4k_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("u4k")
    write_u4k(root, scenes=1, frames=5, height=120, width=200, progress=False)  # train: frames 0, 3, 4
    return root


@pytest.fixture(scope="module")
def cs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cityscapes")
    write_cityscapes(root, cities=1, frames=3, val_cities=1, height=128, width=256, progress=False)
    return root


def _copy(root: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(root, tmp_path / root.name))


def _equal_items(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key, value in a.items():
        if isinstance(value, torch.Tensor):
            assert value.dtype == b[key].dtype and torch.equal(value, b[key]), key
        else:
            assert value == b[key], key


def _u4k(root: Path, split: str = "train", seed: int = 0, **kw):
    return build_u4k(U4KOptions(root=str(root), **kw), split, seed=seed, max_samples=None)


def _cs(root: Path, split: str = "train", seed: int = 0, **kw):
    return build_cityscapes(CityscapesOptions(root=str(root), **kw), split, seed=seed, max_samples=None)


def test_u4k_items(u4k_root: Path) -> None:
    train = _u4k(u4k_root)
    assert len(train) == 3 and train.raw_shape == (120, 200) and train.crop_size == (30, 50)
    item = train[0]
    assert set(item) == {"image", "image_lr", "gt", "boxes", "name"}
    assert item["image"].shape == (3, 384, 512) and item["image_lr"].shape == (3, 384, 512)
    assert item["gt"].shape == (1, 30, 50) and item["boxes"].shape == (4,)
    assert all(item[k].dtype == torch.float32 for k in ("image", "image_lr", "gt", "boxes"))
    assert item["name"] == "00000_Image0_00000" and 0 <= item["image"].min() and item["image"].max() <= 1
    batch = default_collate([train[0], train[1]])
    assert batch["boxes"].shape == (2, 4) and batch["gt"].shape == (2, 1, 30, 50) and len(batch["name"]) == 2

    whole = _u4k(u4k_root, sample="whole")[1]
    assert set(whole) == {"image", "gt", "name"} and whole["gt"].shape == (1, 120, 200)
    assert _u4k(u4k_root, sample="whole").crop_size is None

    val = _u4k(u4k_root, "val")
    assert len(val) == 1 and val.crop_size is None
    v = val[0]
    assert set(v) == {"image", "image_lr", "gt", "boundary", "name"}
    assert v["image"].shape == (3, 120, 200) and v["gt"].shape == (1, 120, 200)
    assert v["boundary"].dtype == torch.bool and v["boundary"].shape == (1, 120, 200)
    sample = val.samples[0]
    disp = read_disparity_npy(sample.disp0)
    assert torch.equal(v["gt"][0], torch.from_numpy(disparity_to_depth(disp, stereo_factor(sample))))
    rgb = read_rgb(sample.image0)  # the PNG holds the same pixels as the .raw dump
    assert torch.equal(v["image"], torch.from_numpy(rgb.astype(np.float32) / 255.0).permute(2, 0, 1))
    expected_lr = F.interpolate(v["image"][None], (384, 512), mode="bilinear", align_corners=True)[0]
    assert torch.equal(v["image_lr"], expected_lr)
    png = _u4k(u4k_root, "val", image_format="png")[0]
    _equal_items(png, v)
    assert len(_u4k(u4k_root, "test")) == 1


def test_cityscapes_items(cs_root: Path) -> None:
    train = _cs(cs_root)
    assert len(train) == 3 and train.raw_shape == (128, 256) and train.crop_size == (32, 64)
    item = train[2]
    assert set(item) == {"image", "image_lr", "gt", "boxes", "name"}
    assert item["image"].shape == (3, 384, 512) and item["gt"].shape == (1, 32, 64) and item["boxes"].dtype == torch.float32
    assert item["name"] == "leftImg8bit_train_aachen_aachen_000002_000019_leftImg8bit"
    val = _cs(cs_root, "val")
    v = val[0]
    assert set(v) == {"image", "image_lr", "gt", "boundary", "seg_image", "name"}
    assert v["image"].shape == (3, 128, 256) and v["seg_image"].shape == (3, 128, 256)
    assert v["seg_image"].dtype == torch.float32 and v["seg_image"].max() > 1
    assert v["boundary"].dtype == torch.bool and v["gt"].shape == (1, 128, 256)
    assert torch.equal(v["image_lr"], F.interpolate(v["image"][None], (384, 512), mode="bilinear",
                                                    align_corners=True)[0])
    gt = v["gt"][0]
    band = torch.cat([gt[-128 // 4:].flatten(), gt[:, : 256 // 16].flatten(), gt[:, -(256 // 16):].flatten()])
    assert ((band == -1) | (band == 0)).all() and (band == -1).any() and (gt == 0).any()  # sky -> 0, last


def _crop_of(boxes: torch.Tensor, raw: tuple[int, int], crop: tuple[int, int]) -> tuple[int, int]:
    left = round(float(boxes[0]) / 512 * raw[1])
    top = round(float(boxes[1]) / 384 * raw[0])
    assert float(boxes[2]) == pytest.approx((left + crop[1]) / raw[1] * 512, abs=1e-3)
    assert float(boxes[3]) == pytest.approx((top + crop[0]) / raw[0] * 384, abs=1e-3)
    return top, left


def test_boxes_match_the_crop_without_augmentation(u4k_root: Path, cs_root: Path) -> None:
    train = _u4k(u4k_root, **NO_AUG)
    sample = train.samples[1]
    depth = torch.from_numpy(disparity_to_depth(read_disparity_npy(sample.disp0), stereo_factor(sample)))
    rgb = torch.from_numpy(read_rgb(sample.image0).astype(np.float32) / 255.0).permute(2, 0, 1).contiguous()
    corners = set()
    for seed in range(6):
        item = train[(1, seed)]
        top, left = _crop_of(item["boxes"], (120, 200), (30, 50))
        corners.add((top, left))
        assert torch.equal(item["gt"][0], depth[top:top + 30, left:left + 50])
        assert torch.equal(item["image"], resize_bilinear(rgb[:, top:top + 30, left:left + 50].contiguous(),
                                                          (384, 512)))
        assert torch.equal(item["image_lr"], resize_bilinear(rgb, (384, 512)))
    assert len(corners) > 1

    cs = _cs(cs_root, crop_size=(40, 100), **NO_AUG)
    s = cs.samples[0]
    depth = masked_depth(s)
    sky = np.asarray(Image.open(sky_mask_path(s))) > 0
    depth[sky] = -2.0
    for seed in range(4):
        item = cs[(0, seed)]
        top, left = _crop_of(item["boxes"], (128, 256), (40, 100))
        assert torch.equal(item["gt"][0], torch.from_numpy(depth[top:top + 40, left:left + 100]))
    assert (torch.from_numpy(depth) == -2).any()


def test_deterministic_under_a_seed(u4k_root: Path, cs_root: Path) -> None:
    for build in (_u4k, _cs):
        root = u4k_root if build is _u4k else cs_root
        a, b, other = build(root, seed=3), build(root, seed=3), build(root, seed=4)
        _equal_items(a[1], b[1])
        _equal_items(a[(1, 99)], a[(1, 99)])
        assert not torch.equal(a[1]["image"], other[1]["image"])
        assert not torch.equal(a[(1, 5)]["image"], a[(1, 6)]["image"])


def test_fast_path_equals_whole_frame(u4k_root: Path, cs_root: Path) -> None:
    cases = [({}, range(4)), ({"degree": 8.0, "color_aug_prob": 1.0, "flip_prob": 1.0}, range(2)),
             ({"degree": 3.0, "flip_prob": 0.0}, range(2)), ({"sample": "whole"}, range(2))]
    seen = set()
    for build, root in ((_u4k, u4k_root), (_cs, cs_root)):
        for kw, seeds in cases:
            fast, slow = build(root, **kw), build(root, whole_frame=True, **kw)
            for index in range(len(fast)):
                for seed in seeds:
                    key = (index, 1000 * index + seed)
                    _equal_items(fast[key], slow[key])
                    draws = draw_patch(np.random.default_rng(key[1]), degree=fast.options.degree,
                                       color_prob=fast.options.color_aug_prob, flip_prob=fast.options.flip_prob,
                                       raw_hw=fast.raw_shape, crop_hw=fast.crop_hw)
                    seen.add((draws.angle != 0, draws.flip, draws.color))
    assert {(True, True, True), (True, False, False), (True, True, False)} <= seen


def test_partial_rotation_and_resize_are_exact() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (181, 297, 3), dtype=np.uint8)  # several blocks, inner ones unclamped
    depth = (rng.random((181, 297)) * 50).astype(np.float32)
    ys, xs = np.mgrid[0:181, 0:297]
    rows, cols = np.r_[0:5, 40:181:3], np.r_[0:297:2, 296]
    for angle in (0.7, -0.99, 12.5, -30.0, 1e-9):
        m = rotation_matrix(angle, 297, 181)
        expected = np.asarray(Image.fromarray(image).rotate(angle, resample=Image.Resampling.BILINEAR))
        assert np.array_equal(rotate_bilinear_at(image, m, np.arange(181), np.arange(297)),
                              expected.transpose(2, 0, 1))
        assert np.array_equal(rotate_bilinear_at(image, m, rows, cols),
                              expected[rows][:, cols].transpose(2, 0, 1))
        row, col, inside = nearest_source(m, ys, xs, 181, 297)
        got = np.where(inside, depth[row, col], 0)
        assert np.array_equal(got, np.asarray(Image.fromarray(depth).rotate(angle)))
    frame = torch.rand(3, 1000, 1500)
    rows, cols = resize_support(1000, 384), resize_support(1500, 512)
    values = frame[:, rows[:, None], cols[None, :]].numpy()
    assert torch.equal(resize_from_support(values, rows, cols, (1000, 1500), (384, 512)),
                       F.interpolate(frame[None], (384, 512), mode="bilinear", align_corners=True)[0])


def test_self_checks() -> None:
    assert rotation_matches_pil()
    rows, cols = resize_support(300, 64), resize_support(70, 16)
    values = np.zeros((3, len(rows) - 1, len(cols)), dtype=np.float32)
    with pytest.raises(RuntimeError, match="misses pixels"):
        resize_from_support(values, rows[1:], cols, (300, 70), (64, 16))


def _one_line_error(excinfo: pytest.ExceptionInfo, path: Path) -> None:
    message = str(excinfo.value)
    assert "\n" not in message and str(path) in message


def test_u4k_errors_name_the_file(u4k_root: Path, tmp_path: Path) -> None:
    root = _copy(u4k_root, tmp_path)
    raw = root / "00000" / "Image0" / "00003.raw"
    raw.write_bytes(raw.read_bytes()[:-7])
    with pytest.raises(DataError, match="truncated or wrong size") as excinfo:
        _u4k(root)
    _one_line_error(excinfo, raw)
    raw.unlink()
    with pytest.raises(DataError, match="does not exist") as excinfo:
        _u4k(root)
    _one_line_error(excinfo, raw)
    extrinsics = root / "00000" / "Extrinsics1" / "00001.txt"
    extrinsics.unlink()
    with pytest.raises(DataError, match="Extrinsics1 file") as excinfo:
        _u4k(root, "val")
    _one_line_error(excinfo, extrinsics)


def test_cityscapes_errors_and_sky_masks(cs_root: Path, tmp_path: Path) -> None:
    root = _copy(cs_root, tmp_path)
    camera = root / "camera" / "train" / "aachen" / "aachen_000001_000019_camera.json"
    camera.unlink()
    with pytest.raises(DataError, match="camera JSON") as excinfo:
        _cs(root)
    _one_line_error(excinfo, camera)
    image = root / "leftImg8bit" / "val" / "frankfurt" / "frankfurt_000000_000019_leftImg8bit.png"
    image.unlink()
    with pytest.raises(DataError, match="does not exist") as excinfo:
        _cs(root, "val")
    _one_line_error(excinfo, image)

    root = _copy(cs_root, tmp_path / "second")
    masks = sorted((root / "skyArea").rglob("*.png"))
    masks[0].unlink()
    with pytest.raises(DataError, match="undocumented skyArea masks") as excinfo:
        _cs(root, sky_masks="require")
    _one_line_error(excinfo, masks[0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        auto = _cs(root)
        for key in [(0, 1), (1, 2), (2, 3), (0, 4)]:
            auto[key]
        off = _cs(root, sky_masks="off")
        off[0]
    sky = [w for w in caught if "skyArea" in str(w.message)]
    assert len(sky) == 1 and "without sky filtering" in str(sky[0].message)
    assert auto.use_sky == [False, True, True] and off.use_sky == [False, False, False]


def test_registry_builds_both(u4k_root: Path, cs_root: Path) -> None:
    assert {"u4k", "cityscapes", "kitti"} <= set(list_datasets())
    u4k = build_dataset("u4k", {"root": str(u4k_root), "crop_size": [40, 60]}, "train", seed=0, max_samples=2)
    assert len(u4k) == 2 and u4k.crop_size == (40, 60) and u4k[0]["gt"].shape == (1, 40, 60)
    opts = dataset_options("cityscapes", {"root": str(cs_root), "sky_masks": "require"})
    assert isinstance(opts, CityscapesOptions) and opts.max_depth == 250.0 and opts.crop_size is None
    cs = build_dataset("cityscapes", opts, "val", seed=0, max_samples=None)
    assert len(cs) == 3 and cs.crop_size is None
    defaults = U4KOptions()
    assert (defaults.root, defaults.process_shape, defaults.patch_split_num, defaults.max_depth) == (
        "data/u4k", (384, 512), (4, 4), 80.0)
    _equal_items(dataclasses.asdict(defaults), dataclasses.asdict(dataset_options("u4k", {})))
