"""Readers of depthforge.io: exact decoding and one-line DataErrors for every bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from depthforge import io
from depthforge.errors import DataError

from .kitti_tree import write_depth, write_rgb


def _raises(path: Path, match: str, fn=io.read_depth_png) -> DataError:
    with pytest.raises(DataError, match=match) as info:
        fn(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return info.value


def test_depth_png_is_uint16_over_256(tmp_path: Path) -> None:
    values = write_depth(tmp_path / "d.png", (9, 11), np.random.default_rng(0))
    depth = io.read_depth_png(tmp_path / "d.png")
    assert depth.dtype == np.float32 and depth.shape == (9, 11)
    np.testing.assert_array_equal(depth, values.astype(np.float32) / 256)
    assert (depth[values == 0] == 0).all()


def test_truncated_png_raises(tmp_path: Path) -> None:
    write_depth(tmp_path / "d.png", (30, 40), np.random.default_rng(0))
    data = (tmp_path / "d.png").read_bytes()
    (tmp_path / "half.png").write_bytes(data[: len(data) // 2])
    _raises(tmp_path / "half.png", "truncated PNG")
    # Cut right before IEND: all pixel data present, the file still must not be accepted.
    (tmp_path / "noend.png").write_bytes(data[: data.rfind(b"IEND") - 4])
    _raises(tmp_path / "noend.png", "truncated PNG")


def test_corrupt_png_raises(tmp_path: Path) -> None:
    write_depth(tmp_path / "d.png", (30, 40), np.random.default_rng(0))
    data = bytearray((tmp_path / "d.png").read_bytes())
    start = data.find(b"IDAT") + 8
    data[start : start + 16] = bytes(16)
    (tmp_path / "bad.png").write_bytes(bytes(data))
    _raises(tmp_path / "bad.png", "corrupt PNG")
    (tmp_path / "text.png").write_bytes(b"hello, not an image")
    _raises(tmp_path / "text.png", "not a PNG")


def test_missing_file_raises(tmp_path: Path) -> None:
    _raises(tmp_path / "nope.png", "file not found")


def test_8bit_png_where_16bit_depth_expected(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "d8.png"), np.full((5, 6), 200, np.uint8))
    _raises(tmp_path / "d8.png", "8-bit PNG where a 16-bit depth PNG is expected")


def test_multichannel_depth_raises(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "d3.png"), np.full((5, 6, 3), 900, np.uint16))
    _raises(tmp_path / "d3.png", "3 channels")


def test_empty_depth_map_is_accepted_with_warning(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "empty.png"), np.zeros((5, 6), np.uint16))
    with pytest.warns(io.EmptyDepthWarning, match="no valid pixels"):
        depth = io.read_depth_png(tmp_path / "empty.png")
    assert depth.shape == (5, 6) and not depth.any()


def test_read_depth_npy_and_bad_values(tmp_path: Path) -> None:
    good = np.array([[0.0, 1.5], [2.25, 80.0]], np.float64)
    np.save(tmp_path / "good.npy", good)
    out = io.read_depth(tmp_path / "good.npy")
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, good.astype(np.float32))

    bad = good.copy()
    bad[0, 0] = bad[1, 1] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    _raises(tmp_path / "nan.npy", "contains 2 NaN values", io.read_depth)
    bad = good.copy()
    bad[0, 1] = np.inf
    np.save(tmp_path / "inf.npy", bad)
    _raises(tmp_path / "inf.npy", "contains 1 infinite values", io.read_depth)
    bad = good.copy()
    bad[1, 0] = -3.0
    np.save(tmp_path / "neg.npy", bad)
    _raises(tmp_path / "neg.npy", "contains 1 negative values", io.read_depth)
    np.save(tmp_path / "cube.npy", np.ones((2, 3, 4), np.float32))
    _raises(tmp_path / "cube.npy", "expected HxW", io.read_depth)
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    _raises(tmp_path / "junk.npy", "unreadable .npy", io.read_depth)
    _raises(tmp_path / "x.tiff", "unsupported depth format", io.read_depth)


def test_read_depth_png_path_goes_through_png_checks(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "d8.png"), np.full((5, 6), 200, np.uint8))
    _raises(tmp_path / "d8.png", "8-bit", io.read_depth)


def _write_pfm(path: Path, array: np.ndarray, magic: bytes = b"Pf") -> None:
    header = magic + f"\n{array.shape[1]} {array.shape[0]}\n-1.0\n".encode()
    path.write_bytes(header + np.ascontiguousarray(array[::-1], dtype="<f4").tobytes())


def test_read_depth_pfm(tmp_path: Path) -> None:
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    _write_pfm(tmp_path / "d.pfm", array)
    np.testing.assert_array_equal(io.read_depth(tmp_path / "d.pfm"), array)
    array[1, 1] = np.nan
    _write_pfm(tmp_path / "nan.pfm", array)
    _raises(tmp_path / "nan.pfm", "1 NaN", io.read_depth)
    (tmp_path / "cut.pfm").write_bytes((tmp_path / "d.pfm").read_bytes()[:-8])
    _raises(tmp_path / "cut.pfm", "truncated PFM", io.read_depth)
    _write_pfm(tmp_path / "rgb.pfm", np.zeros((2, 6), np.float32), b"PF")
    _raises(tmp_path / "rgb.pfm", "3 channels", io.read_depth)


@pytest.mark.parametrize("mode", ["RGB", "L", "P", "RGBA", "LA"])
def test_rgb_and_semantic_match_pil_convert(tmp_path: Path, mode: str) -> None:
    rng = np.random.default_rng(1)
    base = Image.fromarray(rng.integers(0, 256, (13, 17, 3), dtype=np.uint8))
    image = base.convert(mode) if mode != "P" else base.quantize(colors=20)
    image.save(tmp_path / "img.png")
    expected = np.asarray(Image.open(tmp_path / "img.png").convert("RGB"))
    for reader in (io.read_rgb, io.read_semantic):
        out = reader(tmp_path / "img.png")
        assert out.dtype == np.uint8 and out.shape == (13, 17, 3)
        np.testing.assert_array_equal(out, expected)


def test_16bit_rgb_rejected(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "rgb16.png"), np.full((4, 5, 3), 1000, np.uint16))
    _raises(tmp_path / "rgb16.png", "16-bit PNG where an 8-bit RGB image is expected", io.read_rgb)


def test_truncated_rgb_raises(tmp_path: Path) -> None:
    write_rgb(tmp_path / "rgb.png", (20, 30), np.random.default_rng(0))
    data = (tmp_path / "rgb.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[:-30])
    _raises(tmp_path / "cut.png", "truncated PNG", io.read_semantic)


def test_jpeg_rgb_and_truncated_jpeg(tmp_path: Path) -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "a.jpg", quality=95)
    np.testing.assert_array_equal(io.read_rgb(tmp_path / "a.jpg"), np.asarray(Image.open(tmp_path / "a.jpg")))
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "a.jpg").read_bytes()[:-50])
    _raises(tmp_path / "cut.jpg", "truncated JPEG", io.read_rgb)


def test_image_size_reads_header(tmp_path: Path) -> None:
    write_depth(tmp_path / "d.png", (7, 9), np.random.default_rng(0))
    assert io.image_size(tmp_path / "d.png") == (7, 9)
