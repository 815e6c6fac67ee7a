"""IP-Basic port: per-column steps against naive loops, end to end against a loop transcription."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from depthforge.baselines import fill_in_fast, fill_in_multiscale
from depthforge.baselines import ip_basic as ipb
from depthforge.baselines.kernels import (
    CROSS_3,
    CROSS_5,
    CROSS_7,
    DIAMOND_5,
    DIAMOND_7,
    FULL_KERNEL_5,
    FULL_KERNEL_7,
    FULL_KERNEL_9,
    FULL_KERNEL_31,
)


def sparse_map(seed: int, shape: tuple[int, int] = (60, 90), density: float = 0.05) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d = np.zeros(shape, np.float32)
    hit = rng.random(shape) < density
    d[hit] = rng.uniform(0.5, 85.0, hit.sum()).astype(np.float32)
    d[: shape[0] // 4] = 0  # empty band at the top, like the sky above a LiDAR's field of view
    return d


# --- naive, loop-based transcriptions of the reference's per-column steps ---


def loop_extend_to_top(d: np.ndarray) -> np.ndarray:
    d = d.copy()
    top_rows = np.argmax(d > 0.1, axis=0)
    top_values = d[top_rows, range(d.shape[1])]
    for col in range(d.shape[1]):
        d[0 : top_rows[col], col] = top_values[col]
    return d


def loop_top_mask(d: np.ndarray) -> np.ndarray:
    mask = np.ones(d.shape, dtype=bool)
    for col in range(d.shape[1]):
        mask[0 : np.argmax(d[:, col] > 0.1), col] = False
    return mask


def loop_fill_in_fast(d, max_depth=100.0, custom_kernel=DIAMOND_5, extrapolate=False, blur_type="bilateral"):
    d = d.copy()
    valid = d > 0.1
    d[valid] = max_depth - d[valid]
    d = cv2.dilate(d, custom_kernel)
    d = cv2.morphologyEx(d, cv2.MORPH_CLOSE, FULL_KERNEL_5)
    empty = d < 0.1
    dilated = cv2.dilate(d, FULL_KERNEL_7)
    d[empty] = dilated[empty]
    if extrapolate:
        d = loop_extend_to_top(d)
        empty = d < 0.1
        dilated = cv2.dilate(d, FULL_KERNEL_31)
        d[empty] = dilated[empty]
    d = cv2.medianBlur(d, 5)
    if blur_type == "bilateral":
        d = cv2.bilateralFilter(d, 5, 1.5, 2.0)
    elif blur_type == "gaussian":
        valid = d > 0.1
        blurred = cv2.GaussianBlur(d, (5, 5), 0)
        d[valid] = blurred[valid]
    valid = d > 0.1
    d[valid] = max_depth - d[valid]
    return d


def loop_fill_in_multiscale(d, max_depth=100.0, extrapolate=False, blur_type="bilateral"):
    depths_in = np.float32(d)
    near = (depths_in > 0.1) & (depths_in <= 15.0)
    med = (depths_in > 15.0) & (depths_in <= 30.0)
    far = depths_in > 30.0
    s1 = np.copy(depths_in)
    valid = s1 > 0.1
    s1[valid] = max_depth - s1[valid]
    dil_far = cv2.dilate(np.multiply(s1, far), CROSS_3)
    dil_med = cv2.dilate(np.multiply(s1, med), CROSS_5)
    dil_near = cv2.dilate(np.multiply(s1, near), CROSS_7)
    s2 = np.copy(s1)
    s2[dil_far > 0.1] = dil_far[dil_far > 0.1]
    s2[dil_med > 0.1] = dil_med[dil_med > 0.1]
    s2[dil_near > 0.1] = dil_near[dil_near > 0.1]
    s3 = cv2.morphologyEx(s2, cv2.MORPH_CLOSE, FULL_KERNEL_5)
    s4 = np.copy(s3)
    blurred = cv2.medianBlur(s3, 5)
    s4[s3 > 0.1] = blurred[s3 > 0.1]
    top = loop_top_mask(s4)
    empty = ~(s4 > 0.1) & top
    dilated = cv2.dilate(s4, FULL_KERNEL_9)
    s5 = np.copy(s4)
    s5[empty] = dilated[empty]
    if extrapolate:
        s6, top = loop_extend_to_top(s5), np.ones(s5.shape, dtype=bool)
    else:
        s6, top = np.copy(s5), loop_top_mask(s5)
    s7 = np.copy(s6)
    for _ in range(6):
        empty = (s7 < 0.1) & top
        dilated = cv2.dilate(s7, FULL_KERNEL_5)
        s7[empty] = dilated[empty]
    blurred = cv2.medianBlur(s7, 5)
    valid = (s7 > 0.1) & top
    s7[valid] = blurred[valid]
    if blur_type == "gaussian":
        blurred = cv2.GaussianBlur(s7, (5, 5), 0)
        valid = (s7 > 0.1) & top
        s7[valid] = blurred[valid]
    elif blur_type == "bilateral":
        blurred = cv2.bilateralFilter(s7, 5, 0.5, 2.0)
        s7[valid] = blurred[valid]
    s8 = np.copy(s7)
    valid = s8 > 0.1
    s8[valid] = max_depth - s8[valid]
    return s8


# --- per-column steps ---


@pytest.mark.parametrize("seed", range(8))
def test_vectorised_column_steps_match_loops(seed: int) -> None:
    d = sparse_map(seed, density=0.02 + 0.03 * (seed % 3))
    d[:, seed % d.shape[1]] = 0  # an all-empty column: argmax gives row 0, nothing is extended or masked
    top_rows = ipb.first_valid_rows(d)
    np.testing.assert_array_equal(ipb.top_mask(top_rows, d.shape[0]), loop_top_mask(d))
    np.testing.assert_array_equal(ipb.extend_to_top(d.copy(), top_rows), loop_extend_to_top(d))


def test_extend_to_top_hand_made() -> None:
    d = np.zeros((4, 3), np.float32)
    d[2, 0], d[3, 0], d[1, 2] = 7.0, 9.0, 5.0
    out = ipb.extend_to_top(d.copy(), ipb.first_valid_rows(d))
    np.testing.assert_array_equal(out[:, 0], [7, 7, 7, 9])
    np.testing.assert_array_equal(out[:, 1], [0, 0, 0, 0])
    np.testing.assert_array_equal(out[:, 2], [5, 5, 0, 0])
    np.testing.assert_array_equal(ipb.top_mask(ipb.first_valid_rows(d), 4)[:, 0], [False, False, True, True])


# --- end-to-end parity with the loop transcription ---


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("density", [0.003, 0.05])  # very sparse maps keep holes through every fill step
@pytest.mark.parametrize("extrapolate", [False, True])
@pytest.mark.parametrize("blur_type", ["bilateral", "gaussian"])
def test_fill_in_fast_matches_reference_transcription(
    seed: int, density: float, extrapolate: bool, blur_type: str
) -> None:
    d = sparse_map(seed, shape=(80, 120), density=density)
    ours = fill_in_fast(d, extrapolate=extrapolate, blur_type=blur_type)
    np.testing.assert_array_equal(ours, loop_fill_in_fast(d, extrapolate=extrapolate, blur_type=blur_type))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("density", [0.003, 0.05])
@pytest.mark.parametrize("extrapolate", [False, True])
@pytest.mark.parametrize("blur_type", ["bilateral", "gaussian"])
def test_fill_in_multiscale_matches_reference_transcription(
    seed: int, density: float, extrapolate: bool, blur_type: str
) -> None:
    d = sparse_map(seed, shape=(80, 120), density=density)
    ours, process = fill_in_multiscale(d, extrapolate=extrapolate, blur_type=blur_type)
    assert process is None
    ref = loop_fill_in_multiscale(d, extrapolate=extrapolate, blur_type=blur_type)
    np.testing.assert_array_equal(ours, ref)


def test_custom_kernel_is_used() -> None:
    d = sparse_map(5)
    a = fill_in_fast(d, custom_kernel=DIAMOND_7)
    np.testing.assert_array_equal(a, loop_fill_in_fast(d, custom_kernel=DIAMOND_7))
    assert not np.array_equal(a, fill_in_fast(d))


# --- behaviour on hand-made maps ---


@pytest.mark.parametrize("fill", ["fast", "multiscale"])
def test_input_is_not_modified(fill: str) -> None:
    d = sparse_map(1)
    before = d.copy()
    fill_in_fast(d) if fill == "fast" else fill_in_multiscale(d)
    np.testing.assert_array_equal(d, before)


def test_single_point_spreads_and_keeps_its_depth() -> None:
    d = np.zeros((21, 21), np.float32)
    d[10, 10] = 20.0
    out = fill_in_fast(d, blur_type="none")
    covered = out > 0
    assert covered.sum() > 20  # dilation + close + 7x7 fill spread the point well beyond one pixel
    assert covered[10, 10] and covered[10, 12] and covered[12, 10]
    np.testing.assert_allclose(out[covered], 20.0, atol=1e-4)
    assert not covered[0, 0]  # far corners stay empty without extrapolation


def test_near_point_wins_over_far_point() -> None:
    d = np.zeros((21, 21), np.float32)
    # Two 5x5 patches (the multiscale median removes isolated points as noise) with a one-pixel gap at
    # column 10 that both dilations reach.
    d[8:13, 5:10], d[8:13, 11:16] = 5.0, 50.0
    for out in (fill_in_fast(d, blur_type="none"), fill_in_multiscale(d, blur_type="none")[0]):
        assert out[10, 10] == pytest.approx(5.0, abs=1e-4)
        assert out[10, 13] == pytest.approx(50.0, abs=1e-4)


def test_multiscale_near_points_spread_further_than_far_points() -> None:
    d = np.zeros((31, 31), np.float32)
    d[15, 5], d[15, 25] = 10.0, 60.0  # near bin uses CROSS_7, far bin CROSS_3
    _, process = fill_in_multiscale(d, show_process=True)
    assert process is not None
    s2 = process["s2_dilated_depths"]
    assert s2[15, 8] > 0 and s2[15, 28] == 0
    assert list(process)[0] == "s0_depths_in" and list(process)[-1] == "s9_depths_out"


@pytest.mark.parametrize("extrapolate", [False, True])
def test_empty_input_stays_empty(extrapolate: bool) -> None:
    d = np.zeros((30, 40), np.float32)
    assert not fill_in_fast(d, extrapolate=extrapolate).any()
    assert not fill_in_multiscale(d, extrapolate=extrapolate)[0].any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_dtype_shape_and_no_nan(dtype: type) -> None:
    d = sparse_map(2).astype(dtype)
    d[30, 30] = np.nan
    d[31, 31] = np.inf
    for out in (fill_in_fast(d, extrapolate=True), fill_in_multiscale(d)[0]):
        assert out.dtype == np.float32 and out.shape == d.shape
        assert np.isfinite(out).all()
        assert out.min() >= 0.0


def test_extrapolate_fills_the_top() -> None:
    d = sparse_map(3)
    plain, extra = fill_in_fast(d), fill_in_fast(d, extrapolate=True)
    assert (plain[0] == 0).all()
    assert (extra > 0).all()
    top_ms, _ = fill_in_multiscale(d)
    assert (top_ms[0] == 0).all()  # multiscale masks the rows above the first valid pixel


def test_dense_output_close_to_input_on_valid_pixels() -> None:
    # A sparsely sampled ramp (0.11 m per column) is reconstructed to within a few columns' worth of depth:
    # holes take the nearest depth of a sample at most a few pixels away.
    h, w = 60, 90
    ramp = np.tile(np.linspace(10, 20, w, dtype=np.float32), (h, 1))
    mask = np.random.default_rng(0).random((h, w)) < 0.1
    out = fill_in_fast(np.where(mask, ramp, 0).astype(np.float32))
    inner = np.s_[5:-5, 5:-5]
    err = np.abs(out[inner] - ramp[inner])
    assert err.max() < 0.8 and err.mean() < 0.2


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="blur_type"):
        fill_in_fast(np.zeros((5, 5), np.float32), blur_type="box")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="2-D"):
        fill_in_fast(np.zeros((2, 5, 5), np.float32))


def test_kernels_shapes() -> None:
    assert DIAMOND_5.sum() == 13 and DIAMOND_7.sum() == 25
    assert CROSS_7.sum() == 13 and CROSS_7[3].all() and CROSS_7[:, 3].all()
    assert FULL_KERNEL_31.shape == (31, 31) and FULL_KERNEL_31.dtype == np.uint8
    with pytest.raises(ValueError):
        DIAMOND_5[0, 0] = 1  # module constants are read-only
