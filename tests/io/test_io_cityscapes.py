"""CityScapes disparity PNG codec and camera files."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from depthforge.errors import DataError
from depthforge.io import (
    camera_factor,
    depth_to_disparity,
    disparity_to_depth,
    disparity_to_uint16,
    read_disparity_png,
    uint16_to_disparity,
    write_camera,
    write_disparity_png,
)


def test_round_trip_within_half_a_step(tmp_path: Path) -> None:
    disp = np.random.default_rng(0).uniform(0.01, 250.0, (6, 9))
    path = write_disparity_png(tmp_path / "sub" / "x_disparity.png", disp)
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16 and raw.ndim == 2
    np.testing.assert_array_equal(raw, np.rint(disp * 256) + 1)
    back = read_disparity_png(path)
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, (raw.astype(np.float32) - 1) / 256)
    assert np.abs(back - disp).max() <= 1 / 512 + 1e-5


def test_invalid_value_is_zero_both_ways() -> None:
    d = np.array([[0.0, -1.0, np.nan, np.inf, 1e-4, 300.0]])
    assert disparity_to_uint16(d).tolist() == [[0, 0, 0, 0, 1, 65535]]
    v = np.array([[0, 1, 2, 257, 65535]], np.uint16)
    np.testing.assert_array_equal(uint16_to_disparity(v), np.float32([[0, 0, 1 / 256, 1, 65534 / 256]]))
    # v = 0 (and v = 1, disparity 0) decode to depth 0 = invalid, never inf
    depth = disparity_to_depth(uint16_to_disparity(v), 500.0, invalid=0.0)
    assert depth[0, 0] == 0 and depth[0, 1] == 0 and depth[0, 3] == 500.0
    assert np.isinf(disparity_to_depth(np.zeros(1), 500.0)).all()


def test_depth_disparity_depth_through_the_png(tmp_path: Path) -> None:
    factor = 0.209313 * 2262.52
    depth = np.array([[5.0, 20.0, 80.0, np.inf]], np.float32)
    disp = depth_to_disparity(depth, factor)
    assert disp[0, 3] == 0  # sky
    back = disparity_to_depth(read_disparity_png(write_disparity_png(tmp_path / "d.png", disp)), factor, invalid=0.0)
    np.testing.assert_allclose(back[0, :3], depth[0, :3], rtol=1e-3)
    assert back[0, 3] == 0


def test_camera_json(tmp_path: Path) -> None:
    cam = {"extrinsic": {"baseline": 0.2, "pitch": 0.04}, "intrinsic": {"fx": 1000.0, "fy": 1001.0}}
    path = write_camera(tmp_path / "c" / "x_camera.json", cam)
    assert json.loads(path.read_text()) == cam
    assert camera_factor(path) == 0.2 * 1000.0
    (tmp_path / "bad.json").write_text(json.dumps({"intrinsic": {"fx": 1.0}}))
    with pytest.raises(DataError, match=r"bad\.json: cannot read baseline and fx"):
        camera_factor(tmp_path / "bad.json")
    with pytest.raises(DataError, match=r"nope\.json: file not found"):
        camera_factor(tmp_path / "nope.json")


def test_bad_disparity_png_is_named(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "d8.png"), np.ones((3, 4), np.uint8))
    with pytest.raises(DataError, match=r"d8\.png: 8-bit PNG where a 16-bit disparity PNG is expected"):
        read_disparity_png(tmp_path / "d8.png")
    cv2.imwrite(str(tmp_path / "d3.png"), np.ones((3, 4, 3), np.uint16))
    with pytest.raises(DataError, match=r"d3\.png: disparity PNG has 3 channels"):
        read_disparity_png(tmp_path / "d3.png")
