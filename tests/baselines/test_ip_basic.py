"""IP-Basic: per-column helpers against column loops, end to end against an independent step oracle.

The oracle follows the algorithm as the paper describes it (Ku et al., CRV 2018, section III, with the
published kernels and thresholds), one step at a time on whole images: grey-level dilation and erosion
are written from their definitions (maximum / minimum over the kernel footprint, pixels outside the image
ignored), the 5x5 median from its definition (middle of the 25 sorted values, border pixels repeated),
and the per-column top-of-scene steps as loops over columns. Only the bilateral and Gaussian blurs are
OpenCV's filters, as in the published algorithm.
"""

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

VALID = np.float32(0.1)  # the maps are float32 and the algorithm compares in float32


def sparse_map(seed: int, shape: tuple[int, int] = (60, 90), density: float = 0.05) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d = np.zeros(shape, np.float32)
    hit = rng.random(shape) < density
    d[hit] = rng.uniform(0.5, 85.0, hit.sum()).astype(np.float32)
    d[: shape[0] // 4] = 0  # empty band at the top, like the sky above a LiDAR's field of view
    return d


# --- the oracle's image operations, from their definitions ---


def footprint_extreme(image: np.ndarray, kernel: np.ndarray, largest: bool) -> np.ndarray:
    """Per pixel, the maximum (or minimum) of the image over the kernel's footprint centred on it."""
    r_y, r_x = kernel.shape[0] // 2, kernel.shape[1] // 2
    outside = -np.inf if largest else np.inf
    padded = np.pad(image.astype(np.float64), ((r_y, r_y), (r_x, r_x)), constant_values=outside)
    h, w = image.shape
    best = np.full((h, w), outside)
    pick = np.maximum if largest else np.minimum
    for dy, dx in zip(*np.nonzero(kernel)):
        best = pick(best, padded[dy : dy + h, dx : dx + w])
    return best.astype(image.dtype)


def grey_dilate(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return footprint_extreme(image, kernel, largest=True)


def grey_close(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return footprint_extreme(grey_dilate(image, kernel), kernel, largest=False)


def median_5x5(image: np.ndarray) -> np.ndarray:
    """Middle value of each 5x5 neighbourhood, the border pixels repeated outwards."""
    padded = np.pad(image, 2, mode="edge")
    h, w = image.shape
    stack = np.stack([padded[dy : dy + h, dx : dx + w] for dy in range(5) for dx in range(5)])
    return np.sort(stack, axis=0)[12]


def column_tops(d: np.ndarray) -> list[int | None]:
    """Per column, the first row holding depth (None for an empty column)."""
    tops: list[int | None] = []
    for col in range(d.shape[1]):
        rows = [row for row in range(d.shape[0]) if d[row, col] > VALID]
        tops.append(rows[0] if rows else None)
    return tops


def below_top(d: np.ndarray) -> np.ndarray:
    """True at and below each column's first depth (everywhere in an empty column)."""
    region = np.ones(d.shape, dtype=bool)
    for col, top in enumerate(column_tops(d)):
        if top is not None:
            region[:top, col] = False
    return region


def extended_upwards(d: np.ndarray) -> np.ndarray:
    """Each column's first depth copied to every row above it."""
    out = d.copy()
    for col, top in enumerate(column_tops(d)):
        if top is not None:
            out[:top, col] = d[top, col]
    return out


def inverted(d: np.ndarray, max_depth: float) -> np.ndarray:
    return np.where(d > VALID, np.float32(max_depth) - d, d).astype(np.float32)


def take(d: np.ndarray, source: np.ndarray, where: np.ndarray) -> np.ndarray:
    return np.where(where, source, d).astype(np.float32)


# --- the two variants, step by step ---


def oracle_fast(d, max_depth=100.0, custom_kernel=DIAMOND_5, extrapolate=False, blur_type="bilateral"):
    # 1 invert, 2 custom dilation, 3 small-hole closing, 4 small-hole fill (7x7)
    d = grey_dilate(inverted(d, max_depth), custom_kernel)
    d = grey_close(d, FULL_KERNEL_5)
    d = take(d, grey_dilate(d, FULL_KERNEL_7), d < VALID)
    if extrapolate:  # 5 extend the top values, then the large-hole fill (31x31)
        d = extended_upwards(d)
        d = take(d, grey_dilate(d, FULL_KERNEL_31), d < VALID)
    # 6 median everywhere, then the bilateral everywhere or the Gaussian on valid pixels
    d = median_5x5(d)
    if blur_type == "bilateral":
        d = cv2.bilateralFilter(d, 5, 1.5, 2.0)
    elif blur_type == "gaussian":
        d = take(d, cv2.GaussianBlur(d, (5, 5), 0), d > VALID)
    return inverted(d, max_depth)  # 7 invert back


def oracle_multiscale(d, max_depth=100.0, extrapolate=False, blur_type="bilateral"):
    src = np.float32(d)
    s = inverted(src, max_depth)
    # each depth range dilated on its own (far: 3x3 cross, medium: 5x5, near: 7x7), nearer ranges written last
    ranges = [(src > 30, CROSS_3), ((src > 15) & (src <= 30), CROSS_5)]
    ranges.append(((src > VALID) & (src <= 15), CROSS_7))
    grown = s.copy()
    for members, kernel in ranges:
        spread = grey_dilate(np.where(members, s, np.float32(0)), kernel)
        grown = take(grown, spread, spread > VALID)
    s = grey_close(grown, FULL_KERNEL_5)
    s = take(s, median_5x5(s), s > VALID)  # median on valid pixels only
    # 9x9 fill of the pixels without depth (not above 0.1) below each column's top
    s = take(s, grey_dilate(s, FULL_KERNEL_9), ~(s > VALID) & below_top(s))
    if extrapolate:
        s, region = extended_upwards(s), np.ones(s.shape, dtype=bool)
    else:
        region = below_top(s)
    for _ in range(6):  # repeated 5x5 fill inside the region
        s = take(s, grey_dilate(s, FULL_KERNEL_5), (s < VALID) & region)
    chosen = (s > VALID) & region
    s = take(s, median_5x5(s), chosen)
    if blur_type == "gaussian":  # on the pixels valid after the median
        s = take(s, cv2.GaussianBlur(s, (5, 5), 0), (s > VALID) & region)
    elif blur_type == "bilateral":  # on the pixels the median was applied to
        s = take(s, cv2.bilateralFilter(s, 5, 0.5, 2.0), chosen)
    return inverted(s, max_depth)


# --- per-column steps ---


@pytest.mark.parametrize("seed", range(8))
def test_vectorised_column_steps_match_loops(seed: int) -> None:
    d = sparse_map(seed, density=0.02 + 0.03 * (seed % 3))
    d[:, seed % d.shape[1]] = 0  # an all-empty column: argmax gives row 0, nothing is extended or masked
    top_rows = ipb.first_valid_rows(d)
    np.testing.assert_array_equal(ipb.top_mask(top_rows, d.shape[0]), below_top(d))
    np.testing.assert_array_equal(ipb.extend_to_top(d.copy(), top_rows), extended_upwards(d))


def test_extend_to_top_hand_made() -> None:
    d = np.zeros((4, 3), np.float32)
    d[2, 0], d[3, 0], d[1, 2] = 7.0, 9.0, 5.0
    out = ipb.extend_to_top(d.copy(), ipb.first_valid_rows(d))
    np.testing.assert_array_equal(out[:, 0], [7, 7, 7, 9])
    np.testing.assert_array_equal(out[:, 1], [0, 0, 0, 0])
    np.testing.assert_array_equal(out[:, 2], [5, 5, 0, 0])
    np.testing.assert_array_equal(ipb.top_mask(ipb.first_valid_rows(d), 4)[:, 0], [False, False, True, True])


# --- end to end against the step oracle ---


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("density", [0.003, 0.05])  # very sparse maps keep holes through every fill step
@pytest.mark.parametrize("extrapolate", [False, True])
@pytest.mark.parametrize("blur_type", ["bilateral", "gaussian"])
def test_fill_in_fast_matches_step_oracle(
    seed: int, density: float, extrapolate: bool, blur_type: str
) -> None:
    d = sparse_map(seed, shape=(80, 120), density=density)
    ours = fill_in_fast(d, extrapolate=extrapolate, blur_type=blur_type)
    np.testing.assert_array_equal(ours, oracle_fast(d, extrapolate=extrapolate, blur_type=blur_type))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("density", [0.003, 0.05])
@pytest.mark.parametrize("extrapolate", [False, True])
@pytest.mark.parametrize("blur_type", ["bilateral", "gaussian"])
def test_fill_in_multiscale_matches_step_oracle(
    seed: int, density: float, extrapolate: bool, blur_type: str
) -> None:
    d = sparse_map(seed, shape=(80, 120), density=density)
    ours, process = fill_in_multiscale(d, extrapolate=extrapolate, blur_type=blur_type)
    assert process is None
    ref = oracle_multiscale(d, extrapolate=extrapolate, blur_type=blur_type)
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("extrapolate", [False, True])
@pytest.mark.parametrize("blur_type", ["bilateral", "gaussian", "none"])
def test_threshold_valued_pixels_match_step_oracle(extrapolate: bool, blur_type: str) -> None:
    # Pixels equal to 0.1 are neither valid (> 0.1) nor empty (< 0.1): the fills must treat them as the
    # algorithm does (the 9x9 fill takes them, the other fills do not).
    d = sparse_map(11, shape=(70, 100), density=0.04)
    d[np.random.default_rng(12).random(d.shape) < 0.03] = VALID
    ours = fill_in_fast(d, extrapolate=extrapolate, blur_type=blur_type)
    np.testing.assert_array_equal(ours, oracle_fast(d, extrapolate=extrapolate, blur_type=blur_type))
    ours, _ = fill_in_multiscale(d, extrapolate=extrapolate, blur_type=blur_type)
    np.testing.assert_array_equal(ours, oracle_multiscale(d, extrapolate=extrapolate, blur_type=blur_type))


def test_custom_kernel_is_used() -> None:
    d = sparse_map(5)
    a = fill_in_fast(d, custom_kernel=DIAMOND_7)
    np.testing.assert_array_equal(a, oracle_fast(d, custom_kernel=DIAMOND_7))
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
