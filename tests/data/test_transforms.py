"""Reference transforms: bit-exact colour jitter against Pillow, crop arithmetic, deterministic draws."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageEnhance

from depthforge.data import pil_numerics as pn
from depthforge.data import transforms as T
from depthforge.errors import ConfigError

FACTORS = [0.0, 0.37, 0.9, 0.95, 1.0, 1.04, 1.1, 1.73, 2.5]


def _image(seed: int, shape=(37, 53)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Mix of noise and flat regions so that clipping and grey pixels both occur.
    img = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    img[:5] = 255
    img[-5:, :, :] = rng.integers(0, 256, (1, 1, 3), dtype=np.uint8)
    return img


@pytest.mark.parametrize("factor", FACTORS)
@pytest.mark.parametrize(
    ("ours", "enhancer"),
    [
        (pn.adjust_brightness, ImageEnhance.Brightness),
        (pn.adjust_contrast, ImageEnhance.Contrast),
        (pn.adjust_saturation, ImageEnhance.Color),
    ],
)
def test_enhancers_equal_pillow(ours, enhancer, factor: float) -> None:
    for seed in range(3):
        img = _image(seed)
        expected = np.asarray(enhancer(Image.fromarray(img)).enhance(factor))
        np.testing.assert_array_equal(ours(img, factor), expected)


def test_hsv_roundtrip_equals_pillow_and_is_lossy() -> None:
    img = _image(7, (64, 64))
    expected = np.asarray(Image.fromarray(img).convert("HSV").convert("RGB"))
    out = pn.hsv_roundtrip(img)
    np.testing.assert_array_equal(out, expected)
    assert (out != img).any()


def test_grey_equals_pillow() -> None:
    img = _image(3)
    np.testing.assert_array_equal(pn.to_grey(img), np.asarray(Image.fromarray(img).convert("L")))


def _reference_jitter(img: np.ndarray, params: T.AugmentParams) -> np.ndarray:
    """The reference ColorJitter (PIL enhancers in shuffled order, hue step with factor 0)."""
    pil = Image.fromarray(img)
    for step in params.order:
        if step == 0:
            pil = ImageEnhance.Brightness(pil).enhance(params.brightness)
        elif step == 1:
            pil = ImageEnhance.Contrast(pil).enhance(params.contrast)
        elif step == 2:
            pil = ImageEnhance.Color(pil).enhance(params.saturation)
        else:
            h, s, v = pil.convert("HSV").split()
            pil = Image.merge("HSV", (h, s, v)).convert("RGB")
    return np.asarray(pil)


def test_color_jitter_equals_reference_chain() -> None:
    cfg = T.KittiTransformConfig(jitter=0.4)
    for seed in range(12):
        params = T.draw_params(np.random.default_rng(seed), cfg)
        img = _image(seed)
        np.testing.assert_array_equal(T.color_jitter(img, params), _reference_jitter(img, params))


def test_hue_roundtrip_can_be_skipped() -> None:
    params = T.AugmentParams(False, 1.0, 1.0, 1.0, (3, 0, 1, 2))
    img = _image(0)
    np.testing.assert_array_equal(T.color_jitter(img, params, hue_roundtrip=False), img)
    assert (T.color_jitter(img, params, hue_roundtrip=True) != img).any()


def test_bottom_crop_offsets_follow_python_round() -> None:
    assert T.bottom_crop_offsets(375, 1242, 352, 1216) == (23, 13)
    assert T.bottom_crop_offsets(375, 1241, 352, 1216) == (23, 12)  # 12.5 -> 12 (half to even)
    assert T.bottom_crop_offsets(370, 1227, 352, 1216) == (18, 6)  # 5.5 -> 6
    assert T.bottom_crop_offsets(352, 1216, 352, 1216) == (0, 0)


def test_draw_params_reference_order_and_ranges() -> None:
    cfg = T.KittiTransformConfig()
    rng = np.random.default_rng(5)
    params = T.draw_params(np.random.default_rng(5), cfg)
    assert params.flip == (rng.uniform(0.0, 1.0) < 0.5)
    assert params.brightness == rng.uniform(0.9, 1.1)
    assert params.contrast == rng.uniform(0.9, 1.1)
    assert params.saturation == rng.uniform(0.9, 1.1)
    assert params.order == tuple(rng.permutation(4))
    assert params.crop_top == rng.integers(0, 352 - 320 + 1)
    assert params.crop_left == 0
    many = [T.draw_params(np.random.default_rng(s), cfg) for s in range(200)]
    assert {p.flip for p in many} == {True, False}
    assert all(0.9 <= p.brightness <= 1.1 for p in many)
    assert max(p.crop_top for p in many) > 16
    assert not any(T.draw_params(np.random.default_rng(s), T.KittiTransformConfig(hflip=False)).flip for s in range(50))


def test_train_arrays_crop_and_flip_same_for_all_modalities() -> None:
    cfg = T.KittiTransformConfig(crop_h=20, crop_w=30, bottom_crop=(32, 64))
    h, w = 40, 70
    rows, cols = np.mgrid[0:h, 0:w]
    code = (rows * 1000 + cols).astype(np.float32)
    rgb = np.zeros((h, w, 3), np.uint8)
    arrays = {"image": rgb, "semantic": np.stack([rows, cols, rows], -1).astype(np.uint8), "sparse": code,
              "gt": code + 0.5}
    params = T.AugmentParams(True, 1.0, 1.0, 1.0, (0, 1, 2, 3), crop_top=5, crop_left=7)
    out = T.train_arrays(arrays, params, cfg)
    assert out["sparse"].shape == (20, 30) and out["image"].shape == (20, 30, 3)
    # bottom crop: rows 8..39, cols 3..66; flipped: col k of crop = col 66 - k; then crop 5.., 7..
    assert out["sparse"][0, 0] == (8 + 5) * 1000 + (66 - 7)
    assert out["sparse"][-1, -1] == (8 + 5 + 19) * 1000 + (66 - 7 - 29)
    np.testing.assert_array_equal(out["gt"], out["sparse"] + 0.5)
    np.testing.assert_array_equal(out["semantic"][..., 1], (out["sparse"] % 1000).astype(np.uint8))
    no_random = T.train_arrays(arrays, params, T.KittiTransformConfig(random_crop=False, bottom_crop=(32, 64)))
    assert no_random["sparse"].shape == (32, 64)


def test_val_arrays_bottom_crop_only() -> None:
    cfg = T.KittiTransformConfig(random_crop=False, bottom_crop=(32, 64))
    d = np.arange(40 * 70, dtype=np.float32).reshape(40, 70)
    out = T.val_arrays({"sparse": d}, cfg)
    np.testing.assert_array_equal(out["sparse"], d[8:, 3:67])


def test_to_tensor_layout() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (4, 5, 3), dtype=np.uint8)[:, ::-1]
    t = T.to_tensor(rgb)
    assert t.dtype == torch.float32 and t.shape == (3, 4, 5) and t.is_contiguous()
    assert torch.equal(t, torch.from_numpy(rgb.copy()).permute(2, 0, 1).float())
    assert T.to_tensor(np.ones((4, 5), np.float32)).shape == (1, 4, 5)


def test_config_validation() -> None:
    with pytest.raises(ConfigError, match="does not fit"):
        T.KittiTransformConfig(crop_h=400)
    with pytest.raises(ConfigError, match="jitter"):
        T.KittiTransformConfig(jitter=-0.1)
    T.KittiTransformConfig(crop_h=400, random_crop=False)
