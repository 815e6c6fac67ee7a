"""The dataset registry: lazy lookup, options validation with did-you-mean, building splits."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
import torch

from depthforge.data.kitti import KittiDepthCompletion, KittiOptions
from depthforge.data.registry import build_dataset, dataset_options, list_datasets
from depthforge.data.transforms import KittiTransformConfig
from depthforge.errors import ConfigError

from .kitti_tree import KittiTree


def _options(tree: KittiTree, **kw) -> dict:
    return {"data_folder": str(tree.depth), "data_folder_rgb": str(tree.rgb), "data_semantic": str(tree.semantic),
            "crop_h": 24, "crop_w": 60, "bottom_crop": [32, 64], **kw}


def test_registry_imports_no_dataset_code() -> None:
    code = ("import sys, depthforge.data.registry as r\n"
            "assert r.list_datasets() == ['cityscapes', 'kitti', 'u4k']\n"
            "print(sorted(m for m in sys.modules if m.startswith('depthforge.data.') or m == 'torch'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['depthforge.data.registry']"


def test_list_and_unknown_dataset() -> None:
    assert list_datasets() == ["cityscapes", "kitti", "u4k"]
    with pytest.raises(ConfigError, match="unknown dataset 'kiti'; did you mean 'kitti'"):
        dataset_options("kiti", {})
    with pytest.raises(ConfigError, match="unknown dataset 'kiti'; did you mean 'kitti'"):
        build_dataset("kiti", {}, "train", seed=0, max_samples=None)


def test_options_did_you_mean_and_types() -> None:
    with pytest.raises(ConfigError, match=r"unknown config key 'config.data.options.crop_hh'; did you mean 'config.data.options.crop_h'"):
        dataset_options("kitti", {"crop_hh": 320})
    with pytest.raises(ConfigError, match=r"config.data.options.jitter: expected a number"):
        dataset_options("kitti", {"jitter": "a lot"})
    with pytest.raises(ConfigError, match=r"config.data.options.val: must be one of 'select', 'full'"):
        dataset_options("kitti", {"val": "selection"})
    with pytest.raises(ConfigError, match="does not fit in the bottom crop"):
        dataset_options("kitti", {"crop_h": 400})


def test_kitti_options_defaults_and_single_owner_of_transform_fields() -> None:
    opts = dataset_options("kitti", {})
    assert isinstance(opts, KittiOptions) and isinstance(opts, KittiTransformConfig)
    assert (opts.data_folder, opts.data_folder_rgb, opts.data_semantic, opts.val) == ("", "", "", "select")
    assert (opts.crop_h, opts.crop_w, opts.random_crop, opts.jitter, opts.hflip, opts.jitter_hue_roundtrip) == (
        320, 1216, True, 0.1, True, True)
    assert opts.transform == KittiTransformConfig()
    assert opts.crop_size == (320, 1216)
    assert dataset_options("kitti", {"random_crop": False}).crop_size == (352, 1216)
    transform_fields = {f.name for f in dataclasses.fields(KittiTransformConfig)}
    assert transform_fields < {f.name for f in dataclasses.fields(KittiOptions)}


def test_build_kitti_splits(kitti: KittiTree) -> None:
    opts = dataset_options("kitti", _options(kitti, jitter=0.3))
    train = build_dataset("kitti", opts, "train", seed=5, max_samples=3)
    assert isinstance(train, KittiDepthCompletion) and train.split == "train" and len(train) == 3
    assert train.crop_size == (24, 60)
    direct = KittiDepthCompletion(kitti.depth, kitti.rgb, kitti.semantic, "train",
                                  KittiTransformConfig(crop_h=24, crop_w=60, bottom_crop=(32, 64), jitter=0.3), seed=5)
    for key, value in direct[1].items():
        assert torch.equal(train[1][key], value) if isinstance(value, torch.Tensor) else train[1][key] == value

    val = build_dataset("kitti", opts, "val", seed=0, max_samples=None)
    assert val.split == "val_select" and len(val) == 2 and val.crop_size == (32, 64)
    full = build_dataset("kitti", _options(kitti, val="full"), "val", seed=0, max_samples=None)  # a plain mapping
    assert full.split == "val_full" and len(full) == 4
    test = build_dataset("kitti", opts, "test", seed=0, max_samples=None)
    assert test.split == "test" and test.crop_size is None and "gt" not in test[0]

    with pytest.raises(ConfigError, match="unknown split 'validation'"):
        build_dataset("kitti", opts, "validation", seed=0, max_samples=None)
    with pytest.raises(ConfigError, match="needs KittiOptions options"):
        build_dataset("kitti", KittiTransformConfig(), "train", seed=0, max_samples=None)
    with pytest.raises(ConfigError, match="needs data_folder"):
        build_dataset("kitti", {}, "train", seed=0, max_samples=None)


def test_sizes_are_checked_from_headers_before_training(kitti: KittiTree) -> None:
    import numpy as np

    from depthforge.errors import DataError

    from .kitti_tree import write_rgb

    opts = dataset_options("kitti", _options(kitti))
    images = sorted(p for p in kitti.rgb.rglob("*.png") if "image_02" in str(p))
    for path in images[:2]:  # two frames whose RGB is larger than their depth maps
        write_rgb(path, (50, 80), np.random.default_rng(0))
    with pytest.raises(DataError, match=r"2 of \d+ samples have files of different sizes: .* 50x80") as caught:
        build_dataset("kitti", opts, "train", seed=0, max_samples=None)
    assert "\n" not in str(caught.value)
    unchecked = dataset_options("kitti", _options(kitti, check_sizes=False))
    assert len(build_dataset("kitti", unchecked, "train", seed=0, max_samples=None)) > 0


def test_one_data_root_gives_the_three_folders(kitti: KittiTree) -> None:
    root = kitti.depth.parent.parent  # holds kitti_depth/depth, kitti_raw and semantic_maps
    opts = dataset_options("kitti", {"data_root": str(root), "crop_h": 24, "crop_w": 60, "bottom_crop": [32, 64]})
    assert len(build_dataset("kitti", opts, "train", seed=0, max_samples=None)) == len(
        build_dataset("kitti", _options(kitti), "train", seed=0, max_samples=None))


def test_config_show_prints_types_and_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    from depthforge.cli import main

    assert main(["config", "show", "--cfg-options", "model.name=semattnet", "data.dataset=kitti",
                 "data.options.data_root=/data"]) == 0
    out = capsys.readouterr().out
    assert "batch_size: 1  # int, default 1" in out
    assert "data.options:" in out and "data_root: /data  # str, default ''" in out
    assert "criterion: l2  # " in out  # the task's loss section, through the task's own type
