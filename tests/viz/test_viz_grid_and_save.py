"""comparison_grid and save_png."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from depthforge.errors import DataError
from depthforge.viz import colorize, comparison_grid, save_png


def make_row(seed: int, h: int = 6, w: int = 8) -> dict:
    rng = np.random.default_rng(seed)
    gt = rng.uniform(5, 50, (h, w)).astype(np.float32)
    sparse = np.where(rng.random((h, w)) < 0.3, gt, 0).astype(np.float32)
    return {
        "image": rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
        "semantic": rng.integers(0, 19, (h, w)).astype(np.int64),
        "sparse": sparse,
        "pred": gt + 1,
        "gt": gt,
    }


def test_grid_layout() -> None:
    rows = [make_row(i) for i in range(3)]
    grid = comparison_grid(rows)
    assert grid.shape == (18, 40, 3) and grid.dtype == np.uint8
    np.testing.assert_array_equal(grid[:6, :8], rows[0]["image"])
    np.testing.assert_array_equal(grid[6:12, 24:32], colorize(rows[1]["pred"]))  # per-image range by default
    np.testing.assert_array_equal(grid[12:, 32:], colorize(rows[2]["gt"]))


def test_grid_fixed_range_and_gap() -> None:
    rows = [make_row(0), make_row(1)]
    grid = comparison_grid(rows, vmin=0, vmax=80, gap=2)
    assert grid.shape == (6 * 2 + 2, 8 * 5 + 4 * 2, 3)
    np.testing.assert_array_equal(grid[8:, 40:], colorize(rows[1]["gt"], vmin=0, vmax=80))
    assert (grid[6:8] == 255).all()


def test_grid_accepts_tensor_layout_float_image() -> None:
    row = make_row(0)
    chw = np.moveaxis(row["image"], -1, 0).astype(np.float32) / 255.0
    grid = comparison_grid([{"image": chw, "sparse": row["sparse"], "pred": row["pred"]}])
    assert grid.shape == (6, 24, 3)
    np.testing.assert_array_equal(grid[:, :8], row["image"])


def test_grid_rejects_mismatched_rows() -> None:
    a, b = make_row(0), make_row(1)
    del b["semantic"]
    with pytest.raises(DataError, match="row 1"):
        comparison_grid([a, b])
    with pytest.raises(DataError, match="unknown panel"):
        comparison_grid([{"depth": a["gt"]}])
    c = make_row(2)
    c["gt"] = c["gt"][:, :5]
    with pytest.raises(DataError, match="differ in size"):
        comparison_grid([c])


def test_save_png_round_trip_into_missing_folder(tmp_path: Path) -> None:
    img = np.zeros((4, 5, 3), np.uint8)
    img[..., 0] = 200  # red in RGB
    out = save_png(tmp_path / "a" / "b" / "img.png", img)
    assert out.is_file()
    back = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(back[..., ::-1], img)  # stored as RGB, OpenCV reads BGR


def test_save_png_unwritable_path_raises_with_path(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("x")
    target = blocker / "img.png"
    with pytest.raises(DataError, match="not_a_dir") as info:
        save_png(target, np.zeros((2, 2, 3), np.uint8))
    assert info.value.path == str(target)
    with pytest.raises(DataError, match="uint8 or uint16"):
        save_png(tmp_path / "f.png", np.zeros((2, 2), np.float32))
