"""KITTI 16-bit depth PNG writing: out-of-range depths are clipped, never wrapped around."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from depthforge.errors import DataError
from depthforge.io import depth_to_uint16, read_depth_png, write_depth_png


def test_round_trip_within_half_a_step(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    depth = rng.uniform(0.01, 255.0, (7, 9)).astype(np.float32)
    path = write_depth_png(tmp_path / "sub" / "d.png", depth)
    with Image.open(path) as im:
        assert im.mode.startswith("I;16") or im.mode == "I"
        pil = np.asarray(im).astype(np.float64) / 256.0
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16 and raw.ndim == 2
    np.testing.assert_array_equal(pil, raw / 256.0)
    assert np.abs(raw / 256.0 - depth).max() <= 1 / 512 + 1e-6
    np.testing.assert_allclose(read_depth_png(path), depth, atol=1 / 512 + 1e-6)


def test_invalid_values_become_zero_not_wrapped() -> None:
    d = np.array([[-1.0, -0.001, 0.0, np.nan, np.inf, -np.inf]], np.float32)
    np.testing.assert_array_equal(depth_to_uint16(d), 0)
    # the unclipped reference cast gives 65280 for -1 m: a huge depth instead of "missing"
    assert np.array(-256.0).astype(np.int64).astype(np.uint16) == 65280


def test_large_depths_saturate_and_tiny_depths_stay_valid() -> None:
    d = np.array([[255.99, 256.0, 300.0, 1e9, 1e-4, 1 / 256]], np.float64)
    np.testing.assert_array_equal(depth_to_uint16(d), [[65533, 65535, 65535, 65535, 1, 1]])


def test_shapes(tmp_path: Path) -> None:
    write_depth_png(tmp_path / "a.png", np.ones((1, 3, 4)))
    assert cv2.imread(str(tmp_path / "a.png"), cv2.IMREAD_UNCHANGED).shape == (3, 4)
    with pytest.raises(DataError, match="b.png"):
        write_depth_png(tmp_path / "b.png", np.ones((2, 3, 4)))


def test_read_refuses_8_bit(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "c.png"), np.ones((3, 3), np.uint8))
    with pytest.raises(DataError, match="16-bit"):
        read_depth_png(tmp_path / "c.png")


def test_a_damaged_chunk_type_is_named_on_one_line(tmp_path: Path) -> None:
    """A flipped byte in a chunk's type (here a line feed in ``IDAT``) is shown as bytes, not printed raw."""
    write_depth_png(tmp_path / "d.png", np.ones((6, 8), np.float32))
    data = bytearray((tmp_path / "d.png").read_bytes())
    at = data.index(b"IDAT")
    data[at + 1] = ord("\n")
    (tmp_path / "d.png").write_bytes(bytes(data))
    with pytest.raises(DataError) as caught:
        read_depth_png(tmp_path / "d.png")
    assert "\n" not in str(caught.value) and "bad CRC in its b'I\\nAT' chunk" in str(caught.value)


def test_dense_encoding_never_writes_missing_for_finite_predictions() -> None:
    from depthforge.io import depth_to_uint16

    d = np.array([[-3.0, 0.0, 1e-4, 300.0, np.nan]])
    assert depth_to_uint16(d).tolist() == [[0, 0, 1, 65535, 0]]
    assert depth_to_uint16(d, dense=True).tolist() == [[1, 1, 1, 65535, 0]]
