"""colorize / error_map."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from depthforge.viz import colorize, colormap_lut, error_map


def test_shape_dtype_and_accepted_layouts() -> None:
    d = np.linspace(1, 80, 12, dtype=np.float32).reshape(3, 4)
    out = colorize(d)
    assert out.shape == (3, 4, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(colorize(d[None]), out)
    np.testing.assert_array_equal(colorize(d[..., None]), out)
    with pytest.raises(ValueError, match="shape"):
        colorize(np.zeros((2, 3, 4)))


def test_per_image_range_uses_both_ends_of_the_colormap() -> None:
    lut = colormap_lut("jet")
    d = np.array([[0.0, 5.0, 10.0, 20.0]], np.float32)
    out = colorize(d)
    np.testing.assert_array_equal(out[0, 0], [0, 0, 0])  # 0 = invalid, excluded from the range
    np.testing.assert_array_equal(out[0, 1], lut[0])
    np.testing.assert_array_equal(out[0, 3], lut[255])


def test_fixed_range_gives_same_colour_in_different_images() -> None:
    a = np.array([[10.0, 2.0, 3.0]], np.float32)
    b = np.array([[10.0, 70.0, 0.5]], np.float32)
    ca, cb = colorize(a, vmin=0, vmax=80), colorize(b, vmin=0, vmax=80)
    np.testing.assert_array_equal(ca[0, 0], cb[0, 0])
    # ... whereas per-image min-max colours the same depth differently
    assert not np.array_equal(colorize(a)[0, 0], colorize(b)[0, 0])


def test_fixed_range_clips_and_matches_matplotlib() -> None:
    d = np.array([[-1.0, 0.0, 40.0, 500.0, 80.0]], np.float32)
    out = colorize(d, vmin=0, vmax=80, cmap="magma_r")
    ref = np.rint(np.asarray(matplotlib.colormaps["magma_r"](0.5)[:3]) * 255).astype(int)
    assert np.abs(out[0, 2].astype(int) - ref).max() <= 2  # LUT quantisation
    np.testing.assert_array_equal(out[0, 3], out[0, 4])  # above vmax clipped to vmax's colour
    np.testing.assert_array_equal(out[0, :2], 0)


@pytest.mark.parametrize("bad", [0.0, -3.0, np.nan, np.inf, -np.inf])
def test_invalid_pixels_use_invalid_color(bad: float) -> None:
    d = np.array([[bad, 10.0, 20.0]], np.float32)
    out = colorize(d, invalid_color=(1, 2, 3))
    np.testing.assert_array_equal(out[0, 0], [1, 2, 3])
    assert out[0, 1:].any()


def test_all_invalid_and_constant_maps() -> None:
    assert not colorize(np.zeros((4, 5))).any()
    const = colorize(np.full((2, 2), 7.0))
    assert (const == const[0, 0]).all() and const.any()


def test_unknown_cmap() -> None:
    with pytest.raises(ValueError, match="colormap"):
        colorize(np.ones((2, 2)), cmap="not_a_cmap")


def test_error_map() -> None:
    gt = np.array([[10.0, 10.0, 0.0, 10.0]], np.float32)
    pred = np.array([[10.0, 12.0, 5.0, np.nan]], np.float32)
    out = error_map(pred, gt, vmax=2.0)
    lut = colormap_lut("coolwarm")
    assert out.shape == (1, 4, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[0, 0], lut[0])  # zero error: low end, not black
    np.testing.assert_array_equal(out[0, 1], lut[255])
    np.testing.assert_array_equal(out[0, 2:], 0)  # no gt / non-finite prediction: black
    assert out[0, 0].any()
    with pytest.raises(ValueError, match="shape"):
        error_map(np.ones((2, 2)), np.ones((2, 3)))
