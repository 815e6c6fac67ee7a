"""Tiled inference: geometry, order, blending and the r<N> schedule, on small inputs, by hand."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from depthforge.batch import DEPTH
from depthforge.models.patchrefiner.tiling import (
    RunningAverage,
    Tile,
    TileConfig,
    blend_mask,
    fit_image,
    grid_tiles,
    parse_mode,
    random_tiles,
    shifted_grids,
    tile_boxes,
)

from ._patchrefiner_utils import small_model

# -- pure geometry -------------------------------------------------------------------------------------------


def test_parse_mode() -> None:
    assert parse_mode("m1") == ("m1", 0)
    assert parse_mode("m2") == ("m2", 0)
    assert parse_mode("r32") == ("r", 32)
    for bad in ("m3", "r", "r0", "R8", "m1 ", "", "p16"):
        with pytest.raises(ValueError, match="unknown tiling mode"):
            parse_mode(bad)


def test_reference_4k_geometry() -> None:
    cfg = TileConfig((2160, 3840), (4, 4))
    assert cfg.tile_shape == (540, 960) and cfg.canvas_shape == (1536, 2048)
    base = grid_tiles(cfg, (0, 0), (0, 0))
    assert len(base) == 16
    assert [(t.raw_y, t.raw_x) for t in base[:5]] == [(0, 0), (0, 960), (0, 1920), (0, 2880), (540, 0)]
    assert [(t.canvas_y, t.canvas_x) for t in base[:5]] == [(0, 0), (0, 512), (0, 1024), (0, 1536), (384, 0)]
    grids = shifted_grids(cfg)
    assert [len(g) for g in grids] == [12, 12, 9]  # 16 + 12 + 12 + 9 = 49 tiles ("P49")
    assert (grids[0][0].raw_y, grids[0][0].raw_x, grids[0][0].canvas_y, grids[0][0].canvas_x) == (
        0,
        480,
        0,
        256,
    )
    assert (grids[1][0].raw_y, grids[1][0].raw_x, grids[1][0].canvas_y, grids[1][0].canvas_x) == (
        270,
        0,
        192,
        0,
    )
    assert (grids[2][-1].raw_y, grids[2][-1].raw_x) == (270 + 2 * 540, 480 + 2 * 960)
    # boxes in the 384 x 512 coarse frame: raw corners times 512/3840 and 384/2160
    boxes = tile_boxes(base[5:6], cfg)
    assert boxes.dtype == torch.float32
    torch.testing.assert_close(boxes, torch.tensor([[128.0, 96.0, 256.0, 192.0]]))


def test_fit_options_and_messages() -> None:
    assert fit_image((768, 1024), (2, 2), "m1") == (768, 1024)
    with pytest.raises(ValueError, match="fit='pad'.*fit='crop'"):
        fit_image((770, 1024), (4, 4), "m1")
    with pytest.raises(ValueError, match=r"to 4x8 \(depth is returned at the original size\)$"):
        fit_image((3, 5), (4, 4), "m1")  # nothing to crop to: only padding is offered
    assert fit_image((770, 1023), (4, 4), "m1", "pad") == (772, 1024)
    assert fit_image((770, 1023), (4, 4), "m1", "crop") == (768, 1020)
    # half-tile shifts need multiples of 2 x split
    assert fit_image((2160, 3840), (4, 4), "m2") == (2160, 3840)
    with pytest.raises(ValueError, match="multiples of 8x8"):
        fit_image((2164, 3840), (4, 4), "r16")
    with pytest.raises(ValueError, match="unknown fit"):
        fit_image((768, 1024), (2, 2), "m1", "stretch")


def test_blend_mask_values() -> None:
    mask = blend_mask(384, 512)
    assert mask.shape == (384, 512) and mask.dtype == torch.float32
    assert mask.min() == 0 and mask.max() == 1
    assert mask[0, 0] == 0 and mask[192, 256] == 1
    # symmetric, and the 0.5 level sits at the edge of the unblurred box (rows 57-326, cols 76-435)
    torch.testing.assert_close(mask, mask.flip(0), rtol=0, atol=1e-6)
    torch.testing.assert_close(mask, mask.flip(1), rtol=0, atol=1e-6)
    assert mask[56, 256] < 0.5 < mask[57, 256] and mask[192, 75] < 0.5 < mask[192, 76]
    # a tile too small for a blur or a margin keeps a [0, 1] mask
    small = blend_mask(8, 8)
    assert small.max() == 1 and small[0, 0] == 0


def test_running_average_by_hand() -> None:
    avg = RunningAverage(torch.full((4, 4), 2.0), torch.tensor([[0.0, 1, 1, 0]] * 4))
    avg.update(torch.full((2, 2), 5.0), torch.tensor([[0.0, 1.0], [3.0, 1.0]]), top=1, left=0)
    expected = torch.full((4, 4), 2.0)
    expected[1, 1] = (5 * 1 + 1 * 2) / 2  # weight 1 against count 1
    expected[2, 0] = (5 * 3 + 0 * 2) / 3  # count 0: the new value alone
    expected[2, 1] = (5 * 1 + 1 * 2) / 2
    torch.testing.assert_close(avg.average, expected)
    assert avg.count[2, 0] == 3 and avg.count[1, 0] == 0  # weight 0: untouched
    avg.resize((8, 8))
    assert avg.average.shape == (8, 8) and avg.average[2, 2] == expected[1, 1]  # nearest


def test_random_round_shares_one_column() -> None:
    cfg = TileConfig((64, 96), (2, 2))
    rng, twin = random.Random(7), random.Random(7)
    tiles = random_tiles(rng, cfg, 3)
    tops = [twin.randint(0, 64 - 32 - 1) for _ in range(3)]
    left = twin.randint(0, 96 - 48 - 1)
    assert tiles == [Tile(t, left) for t in tops]


# -- infer with stand-in tile predictions: exact blending expectations -----------------------------------


class _ConstantTiles:
    """Replaces the network: tile k (in processing order) predicts the constant k + 1; records chunk sizes."""

    def __init__(self, model) -> None:
        self.count = 0
        self.model = model

    def __call__(self, image, tiles, cfg, coarse, chunk_size):
        ph, pw = self.model.process_shape
        for tile in tiles:
            self.count += 1
            value = torch.full((ph, pw), float(self.count))
            yield tile, value, value


@pytest.fixture
def model():
    return small_model()


def test_m1_mosaic_is_the_tiles_in_row_major_order(model, monkeypatch) -> None:
    monkeypatch.setattr(model, "_tile_predictions", _ConstantTiles(model))
    image = torch.rand(1, 3, 96, 192)  # 2 x 3 tiles of 48 x 64, process 64 x 64
    out = model.infer(image, mode="m1", patch_split_num=(2, 3), output="process", return_tiles=True)
    canvas = out[DEPTH][0, 0]
    assert canvas.shape == (128, 192)
    expected = (
        torch.arange(1, 7, dtype=torch.float32)
        .reshape(2, 3)
        .repeat_interleave(64, 0)
        .repeat_interleave(64, 1)
    )
    assert torch.equal(canvas, expected)
    assert out["tile_corners"].tolist() == [[0, 0], [0, 64], [0, 128], [48, 0], [48, 64], [48, 128]]
    # default output: the canvas resized to the input size as the reference's evaluation does
    monkeypatch.setattr(model, "_tile_predictions", _ConstantTiles(model))
    resized = model.infer(image, mode="m1", patch_split_num=(2, 3))[DEPTH]
    ref = F.interpolate(expected[None, None], size=(96, 192), mode="bilinear", align_corners=False)
    assert resized.shape == (1, 1, 96, 192)
    torch.testing.assert_close(resized, ref)


def test_m2_is_the_weighted_mean_of_all_tiles(model, monkeypatch) -> None:
    monkeypatch.setattr(model, "_tile_predictions", _ConstantTiles(model))
    image = torch.rand(1, 3, 128, 192)
    out = model.infer(image, mode="m2", patch_split_num=(2, 2), output="process", return_tiles=True)
    canvas = out[DEPTH][0, 0].double()
    cfg = TileConfig((128, 192), (2, 2), (64, 64))
    tiles = grid_tiles(cfg, (0, 0), (0, 0)) + [t for g in shifted_grids(cfg) for t in g]
    assert len(tiles) == 4 + 2 + 2 + 1 == len(out["tile_corners"])
    mask = blend_mask(64, 64).double()
    base = torch.zeros(128, 128, dtype=torch.float64)
    num = torch.zeros_like(base)
    den = torch.zeros_like(base)
    for k, t in enumerate(tiles):
        region = (slice(t.canvas_y, t.canvas_y + 64), slice(t.canvas_x, t.canvas_x + 64))
        if k < 4:
            base[region] = k + 1
        num[region] += (k + 1) * mask
        den[region] += mask
    expected = torch.where(den > 0, num / den.clamp(min=1e-12), base)
    torch.testing.assert_close(canvas, expected, rtol=0, atol=1e-5)
    # a corner of the image keeps its m1 value; where four base tiles meet, the centre of the last tile wins
    assert canvas[0, 0] == 1 and canvas[64, 64] == 9  # base tiles meet with weight 0 there


def test_r_mode_rounds_depend_on_process_num_and_seed(model, monkeypatch) -> None:
    image = torch.rand(1, 3, 128, 192)
    runs = {}
    for pn, seed in ((2, 0), (2, 0), (4, 0), (2, 1)):
        monkeypatch.setattr(model, "_tile_predictions", _ConstantTiles(model))
        out = model.infer(
            image, mode="r5", patch_split_num=(2, 2), process_num=pn, seed=seed, return_tiles=True
        )
        corners = out["tile_corners"][9:].tolist()  # after the 9 tiles of m2
        assert len(corners) == (5 // pn) * pn
        for r in range(5 // pn):  # the reference's quirk: one column per round
            assert len({c[1] for c in corners[r * pn : (r + 1) * pn]}) == 1
        runs[(pn, seed, len(runs))] = (corners, out[DEPTH])
        assert out[DEPTH].shape == (1, 1, 128, 192)
    (c0, d0), (c1, d1), (c2, _), (c3, _) = runs.values()
    assert c0 == c1 and torch.equal(d0, d1)  # seeded: reproducible
    assert c0 != c3  # another seed, other tiles
    rng = random.Random(0)
    expected = []
    for _ in range(5 // 4):
        tops = [rng.randint(0, 128 - 64 - 1) for _ in range(4)]
        left = rng.randint(0, 192 - 96 - 1)
        expected += [[t, left] for t in tops]
    assert c2 == expected


def test_r_mode_blends_nearest_upsampled_tiles_with_the_raw_mask(model, monkeypatch) -> None:
    monkeypatch.setattr(model, "_tile_predictions", _ConstantTiles(model))
    image = torch.rand(1, 3, 128, 192)
    out = model.infer(
        image, mode="r1", patch_split_num=(2, 2), process_num=1, seed=3, output="process", return_tiles=True
    )
    monkeypatch.setattr(model, "_tile_predictions", _ConstantTiles(model))
    m2 = model.infer(image, mode="m2", patch_split_num=(2, 2), output="process")[DEPTH]
    top, left = out["tile_corners"][-1].tolist()
    canvas = F.interpolate(m2, size=(128, 192))[0, 0]  # the m2 canvas, nearest to the image size
    count = F.interpolate(_m2_count(), size=(128, 192), mode="bilinear", align_corners=True)[0, 0]
    w = blend_mask(64, 96) + 1e-3
    region = (slice(top, top + 64), slice(left, left + 96))
    expected = canvas.clone()
    expected[region] = (10.0 * w + count[region] * canvas[region]) / (count[region] + w)
    torch.testing.assert_close(out[DEPTH][0, 0], expected, rtol=0, atol=1e-5)


def _m2_count() -> torch.Tensor:
    cfg = TileConfig((128, 192), (2, 2), (64, 64))
    mask = blend_mask(64, 64)
    count = torch.zeros(128, 128)
    for t in grid_tiles(cfg, (0, 0), (0, 0)) + [t for g in shifted_grids(cfg) for t in g]:
        count[t.canvas_y : t.canvas_y + 64, t.canvas_x : t.canvas_x + 64] += mask
    return count[None, None]


# -- infer with the reduced network -------------------------------------------------------------------------


def test_streaming_bounds_the_batch_whatever_process_num(model) -> None:
    sizes = []
    hook = model.refiner_fine_branch.register_forward_hook(
        lambda m, args, out: sizes.append(args[0].shape[0])
    )
    image = torch.rand(1, 3, 128, 192)
    a = model.infer(image, mode="m2", patch_split_num=(2, 2), process_num=8)[DEPTH]
    assert sizes and max(sizes) == 1
    sizes.clear()
    b = model.infer(image, mode="m2", patch_split_num=(2, 2), process_num=8, chunk_size=4)[DEPTH]
    hook.remove()
    assert max(sizes) == 4
    torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


def test_m1_tiles_equal_the_training_forward_on_the_same_crops(model) -> None:
    """Tiled inference is the training forward applied to each tile with its coarse-frame box."""
    from depthforge.batch import BOXES, IMAGE, IMAGE_LR

    image = torch.rand(1, 3, 128, 128)
    out = model.infer(image, mode="m1", patch_split_num=(2, 2), output="process", return_tiles=True)
    image_lr = F.interpolate(image, size=(64, 64), mode="bilinear", align_corners=True)
    crop = F.interpolate(image[:, :, 64:, :64], size=(64, 64), mode="bilinear", align_corners=True)
    with torch.no_grad():
        ref = model({IMAGE: crop, IMAGE_LR: image_lr, BOXES: torch.tensor([[0.0, 32.0, 32.0, 64.0]])})
    torch.testing.assert_close(out["tile_depth"][2], ref[DEPTH][0], rtol=0, atol=1e-6)
    torch.testing.assert_close(out[DEPTH][0, 0, 64:, :64], ref[DEPTH][0, 0], rtol=0, atol=1e-6)


def test_fit_pad_and_crop_and_errors(model) -> None:
    image = torch.rand(1, 3, 130, 127)
    with pytest.raises(ValueError, match="fit='pad'"):
        model.infer(image, mode="m1", patch_split_num=(2, 2))
    padded = model.infer(image, mode="m1", patch_split_num=(2, 2), fit="pad")[DEPTH]
    assert padded.shape == (1, 1, 130, 127)
    cropped = model.infer(image, mode="m1", patch_split_num=(2, 2), fit="crop")[DEPTH]
    assert cropped.shape == (1, 1, 130, 126)
    with pytest.raises(ValueError, match="unknown tiling mode"):
        model.infer(torch.rand(1, 3, 128, 128), mode="m3", patch_split_num=(2, 2))
    with pytest.raises(ValueError, match="1 x 3 x H x W"):
        model.infer(torch.rand(2, 3, 128, 128), patch_split_num=(2, 2))
    with pytest.raises(ValueError, match=r"float image in \[0, 1\], got torch.uint8"):
        model.infer(torch.full((1, 3, 128, 128), 200, dtype=torch.uint8), patch_split_num=(2, 2))
    with pytest.raises(ValueError, match="image_lr must be a float"):
        model.infer(torch.rand(1, 3, 128, 128), patch_split_num=(2, 2),
                    image_lr=torch.zeros(1, 3, *model.process_shape, dtype=torch.uint8))
    assert np.isfinite(padded.numpy()).all()
