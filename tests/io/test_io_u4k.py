"""UnrealStereo4K codecs: disparity .npy, Extrinsics text files, the .raw image dump."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from depthforge.errors import DataError
from depthforge.io import (
    read_disparity_npy,
    read_extrinsics,
    read_raw_image,
    write_disparity_npy,
    write_extrinsics,
    write_raw_image,
)


def test_disparity_npy_round_trip(tmp_path: Path) -> None:
    disp = np.random.default_rng(0).uniform(0, 90, (5, 7))
    path = write_disparity_npy(tmp_path / "00000" / "Disp0" / "00001.npy", disp)
    back = read_disparity_npy(path)
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, disp.astype(np.float32))
    np.save(tmp_path / "cube.npy", np.ones((2, 3, 4), np.float32))
    with pytest.raises(DataError, match=r"cube\.npy: disparity array has shape \(2, 3, 4\)"):
        read_disparity_npy(tmp_path / "cube.npy")


def test_extrinsics_round_trip_exactly(tmp_path: Path) -> None:
    k = np.array([[192.125, 0, 192.0], [0, 192.125, 108.0], [0, 0, 1]])
    pose = np.hstack([np.eye(3), np.array([[0.1 + 0.2], [-1.5], [3.0]])])
    ext = read_extrinsics(write_extrinsics(tmp_path / "Extrinsics0" / "00000.txt", k, pose))
    assert ext.intrinsics == tuple(k.ravel()) and ext.pose == tuple(pose.ravel())
    assert ext.focal == 192.125 and ext.tx == 0.1 + 0.2  # repr keeps every bit
    (tmp_path / "short.txt").write_text("1000\n1 0 0\n")
    with pytest.raises(DataError, match=r"short\.txt: cannot read focal length and baseline"):
        read_extrinsics(tmp_path / "short.txt")
    with pytest.raises(DataError, match=r"bad\.txt"):
        write_extrinsics(tmp_path / "bad.txt", np.eye(2), pose)


def test_raw_image_round_trip(tmp_path: Path) -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (4, 6, 3), dtype=np.uint8)
    path = write_raw_image(tmp_path / "Image0" / "00000.raw", rgb)
    assert path.read_bytes() == np.ascontiguousarray(rgb[..., ::-1]).tobytes()  # BGR, no header
    np.testing.assert_array_equal(read_raw_image(path, 4, 6), rgb)
    with pytest.raises(DataError, match=r"00000\.raw: \.raw image has 72 bytes, expected 75"):
        read_raw_image(path, 5, 5)
