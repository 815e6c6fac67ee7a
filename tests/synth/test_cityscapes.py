"""The synthetic CityScapes set, read back the way PatchRefiner reads it."""

from __future__ import annotations

import json

import cv2
import numpy as np

from depthforge.synth import palette
from depthforge.synth.cityscapes import city_camera, city_drive
from depthforge.synth.render import render

H, W, SEED, FRAMES = 128, 256, 2, 2  # as in the cs_set fixture


def test_split_files_and_sibling_paths(cs_set) -> None:
    root = cs_set.root
    train = (root / "train.txt").read_text().splitlines()
    val = (root / "val.txt").read_text().splitlines()
    assert len(train) == cs_set.counts["train"] == 2 and len(val) == cs_set.counts["val"] == 2
    assert train[0] == ("leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png "
                        "disparity/train/aachen/aachen_000000_000019_disparity.png")
    for line in train + val:
        img, disp = line.split(" ")
        assert (root / img).is_file() and (root / disp).is_file()
        assert (root / img.replace("leftImg8bit", "camera").replace(".png", ".json")).is_file()
        assert (root / img.replace("leftImg8bit", "skyArea")).is_file()
        assert (root / disp.replace("disparity", "gtFine").replace(".png", "_color.png")).is_file()


def test_depth_from_disparity_equals_rendered_depth(cs_set) -> None:
    root = cs_set.root
    for split, idx0 in (("train", 0), ("val", 100)):
        for f, line in enumerate((root / f"{split}.txt").read_text().splitlines()):
            img, disp_rel = line.split(" ")
            cam_json = json.loads((root / img.replace("leftImg8bit", "camera").replace(".png", ".json")).read_text())
            baseline, fx = cam_json["extrinsic"]["baseline"], cam_json["intrinsic"]["fx"]
            p = cv2.imread(str(root / disp_rel), cv2.IMREAD_UNCHANGED)
            assert p.dtype == np.uint16 and p.shape == (H, W)
            d = np.where(p > 0, (p.astype(np.float32) - 1.0) / 256.0, 0.0)
            with np.errstate(divide="ignore"):
                depth = baseline * fx / d
            truth = render(city_drive(SEED, idx0, FRAMES).scene, city_camera(city_drive(SEED, idx0, FRAMES), f, H, W),
                           noise_seed=None)["depth"].astype(np.float64)
            valid = p > 1
            assert valid.mean() > 0.5
            assert np.isinf(truth[p == 0]).all()
            # Quantisation: |delta d| <= 1/512 px.
            d_true = fx * baseline / truth[valid]
            assert np.abs(d[valid] - d_true).max() <= 1 / 512 + 1e-6
            near = valid & (d > 2.0)
            np.testing.assert_allclose(depth[near], truth[near], rtol=(1 / 512) / 2.0 + 1e-5)


def test_sky_masks_agree_with_gtfine_colours(cs_set) -> None:
    root = cs_set.root
    img = (root / "train.txt").read_text().splitlines()[0].split(" ")[0]
    sky = cv2.imread(str(root / img.replace("leftImg8bit", "skyArea")), cv2.IMREAD_UNCHANGED) > 0
    colour = cv2.imread(str(root / img.replace("leftImg8bit", "gtFine").replace(".png", "_color.png")))[..., ::-1]
    ids = cv2.imread(str(root / img.replace("leftImg8bit", "gtFine").replace(".png", "_labelIds.png")),
                     cv2.IMREAD_UNCHANGED)
    assert sky.any() and not sky.all()
    np.testing.assert_array_equal(sky, (colour[..., 0] == 70) & (colour[..., 1] == 130))
    np.testing.assert_array_equal(sky, ids == palette.SKY)
    disp = cv2.imread(str(root / img.replace("leftImg8bit", "disparity")), cv2.IMREAD_UNCHANGED)
    assert (disp[sky] == 0).all()
