"""The fast boundary-metric kernels against the library definitions they replace, pixel for pixel.

* :func:`canny_exact` against scikit-image 0.26 ``feature.canny`` on random, sparse, piecewise-planar and
  degenerate images, both float dtypes, several sigmas and thresholds, and KITTI-size log-depth maps.
* :func:`log_depth` against the torch formula, bit for bit.
* EdgeAcc / EdgeComp against SciPy's Euclidean distance transforms, and the dilation against SciPy's
  maximum filter.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from scipy import ndimage
from skimage.feature import canny

from depthforge.metrics import boundary as bnd
from depthforge.metrics.edges import canny_exact, extract_edges, log_depth, square_dilate

H, W = 352, 1216  # KITTI crop


def _random_image(rng: np.random.Generator, kind: int, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    if kind == 0:  # white noise
        return rng.random(shape)
    if kind == 1:  # sparse positive samples, like a LiDAR scan
        return (rng.random(shape) < 0.15) * rng.uniform(0.5, 5.0, shape)
    if kind == 2:  # few grey levels: many exact ties between gradient components
        return np.round(rng.random(shape) * 3) / 3
    if kind == 3:  # planes and steps with mild noise
        rows, cols = np.mgrid[0:h, 0:w]
        x = 0.02 * rows + 0.01 * cols
        x[h // 3 :, w // 2 :] += 1.0
        x[: h // 2, : w // 3] -= 0.7
        return x + 0.03 * rng.standard_normal(shape)
    # a disc: every gradient direction and octant boundary
    rows, cols = np.mgrid[0:h, 0:w]
    return ((rows - h / 2) ** 2 + (cols - w / 2) ** 2 < (min(h, w) / 3) ** 2).astype(float)


@pytest.mark.parametrize("seed", range(12))
def test_canny_matches_scikit_image_on_random_images(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for trial in range(10):
        shape = (int(rng.integers(3, 70)), int(rng.integers(3, 70)))
        dtype = (np.float32, np.float64)[trial % 2]
        image = _random_image(rng, (seed + trial) % 5, shape).astype(dtype)
        sigma = float(rng.choice([0.5, 1.0, 1.0, 1.4, 2.0, 3.0]))
        low, high = [(0.1, 0.2), (0.05, 0.1), (0.0, 0.15), (0.2, 0.2), (0.01, 0.3)][trial % 5]
        ours = canny_exact(image, sigma=sigma, low_threshold=low, high_threshold=high)
        ref = canny(image, sigma=sigma, low_threshold=low, high_threshold=high)
        np.testing.assert_array_equal(ours, ref, err_msg=f"{shape} {dtype} sigma={sigma} {low}/{high}")


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (2, 2), (3, 3), (4, 1), (5, 9), (9, 5)])
def test_canny_matches_scikit_image_on_tiny_images(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    for dtype in (np.float32, np.float64):
        image = (rng.random(shape) * 4).astype(dtype)
        np.testing.assert_array_equal(canny_exact(image), canny(image))


def test_canny_degenerate_values() -> None:
    rng = np.random.default_rng(3)
    image = rng.random((40, 50)).astype(np.float32)
    cases = [np.zeros_like(image), np.full_like(image, 7.0), image * 1e-30, image * 1e30]
    spiked = image.copy()
    spiked[10, 10], spiked[30, 20] = np.nan, np.inf
    for x in (*cases, spiked):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # our version handles these values without numpy warnings
            ours = canny_exact(x)
        with np.errstate(over="ignore", invalid="ignore"):  # scikit-image squares 1e30 gradients in float32
            np.testing.assert_array_equal(ours, canny(x))


def test_canny_other_inputs_use_scikit_image() -> None:
    rng = np.random.default_rng(4)
    image = rng.random((30, 40)).astype(np.float32)
    mask = rng.random((30, 40)) > 0.2
    np.testing.assert_array_equal(canny_exact(image, mask=mask), canny(image, mask=mask))
    as_int = (image * 255).astype(np.uint8)
    np.testing.assert_array_equal(canny_exact(as_int), canny(as_int))
    with pytest.raises(ValueError):
        canny_exact(image, low_threshold=0.3, high_threshold=0.2)


def _kitti_like(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A dense noisy prediction and a ~16 % sparse ground truth of a piecewise-planar scene."""
    rng = np.random.default_rng(seed)
    dense = np.repeat(np.linspace(80, 5, H, dtype=np.float32)[:, None], W, axis=1)
    for _ in range(6):
        y, x = rng.integers(0, H - 60), rng.integers(0, W - 120)
        dense[y : y + rng.integers(30, 60), x : x + rng.integers(60, 120)] = rng.uniform(4, 40)
    gt = np.where(rng.random((H, W)) < 0.16, dense, 0).astype(np.float32)
    pred = (dense * (1 + 0.03 * rng.standard_normal((H, W)))).astype(np.float32)
    return pred, gt


@pytest.mark.parametrize("seed", range(2))
def test_extract_edges_matches_scikit_image_at_kitti_size(seed: int) -> None:
    pred, gt = _kitti_like(seed)
    for depth in (pred, gt, pred.astype(np.float64)):
        np.testing.assert_array_equal(extract_edges(depth), canny(log_depth(depth), sigma=1.0))
    for mode in ("inv", "none"):
        ours = extract_edges(pred, preprocess=mode)
        x = pred if mode == "none" else None
        if x is None:
            t = torch.from_numpy(pred)
            x = ((t > 0) / t.clamp(min=torch.finfo(t.dtype).eps)).numpy()
            x = x - x.min()
            x = x / x.max()
        np.testing.assert_array_equal(ours, canny(x, sigma=1.0))


def _torch_log_depth(depth: np.ndarray) -> np.ndarray:
    t = torch.from_numpy(np.ascontiguousarray(depth))
    eps = torch.finfo(t.dtype).eps if t.dtype.is_floating_point else torch.finfo(torch.float32).eps
    if not t.dtype.is_floating_point:
        t = t.float()
    return ((t > 0) * t.clamp(min=eps).log()).numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.uint16, np.int32])
def test_log_depth_bitwise(dtype: type) -> None:
    rng = np.random.default_rng(5)
    if np.dtype(dtype).kind == "f":
        x = (rng.standard_normal((37, 53)) * 50).astype(dtype)
        x.ravel()[:5] = [np.nan, np.inf, -np.inf, 0.0, -0.0]
    else:
        x = rng.integers(0, 30000, (37, 53)).astype(dtype)
    ours, ref = log_depth(x), _torch_log_depth(x)
    assert ours.dtype == ref.dtype
    np.testing.assert_array_equal(ours.view(np.uint8), ref.view(np.uint8))


def _scipy_edge_accuracy(pe: np.ndarray, ge: np.ndarray, vm: np.ndarray, th: float) -> dict[str, float]:
    """The protocol's definition on full SciPy distance transforms."""
    d_target, d_pred = ndimage.distance_transform_edt(~ge), ndimage.distance_transform_edt(~pe)
    near = pe & vm & (d_target < th)
    if not near.any():
        return {"EdgeAcc": float(th), "EdgeComp": float(th)}
    ge_m = ge & vm
    comp = float(d_pred[ge_m].mean()) if ge_m.any() else float("nan")
    return {"EdgeAcc": float(d_target[near].mean()), "EdgeComp": comp}


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return all(a[k] == b[k] or (np.isnan(a[k]) and np.isnan(b[k])) for k in a)


@pytest.mark.parametrize("seed", range(6))
def test_edge_accuracy_matches_scipy_transforms(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(40):
        shape = (int(rng.integers(1, 90)), int(rng.integers(1, 90)))
        pe = rng.random(shape) < rng.choice([0.0, 0.001, 0.01, 0.1, 0.5])
        ge = rng.random(shape) < rng.choice([0.0, 0.001, 0.01, 0.1, 0.5])
        vm = rng.random(shape) < 0.8
        th = float(rng.choice([10, 3, 2.5, 0.5, 0.0, 30, 100]))
        ours = bnd.edge_accuracy_completeness(pe, ge, vm, th, th)
        assert _same(ours, _scipy_edge_accuracy(pe, ge, vm, th)), (shape, th)


@pytest.mark.parametrize("seed", range(2))
def test_edge_accuracy_matches_scipy_at_kitti_size(seed: int) -> None:
    pred, gt = _kitti_like(seed)
    pe, ge, vm = extract_edges(pred), extract_edges(gt), gt > 0
    assert _same(bnd.edge_accuracy_completeness(pe, ge, vm), _scipy_edge_accuracy(pe, ge, vm, 10))
    # sparse predicted edges: most GT pixels lie beyond the fast window
    sparse = pe & (np.random.default_rng(seed).random(pe.shape) < 0.02)
    assert _same(bnd.edge_accuracy_completeness(sparse, ge, vm), _scipy_edge_accuracy(sparse, ge, vm, 10))


def test_edge_accuracy_on_very_wide_images() -> None:
    # wider than OpenCV's exactness bound: far pixels go through the nearest-neighbour query
    rng = np.random.default_rng(8)
    shape = (48, 2100)
    pe, ge, vm = rng.random(shape) < 0.0005, rng.random(shape) < 0.05, rng.random(shape) < 0.9
    assert _same(bnd.edge_accuracy_completeness(pe, ge, vm), _scipy_edge_accuracy(pe, ge, vm, 10))


@pytest.mark.parametrize("shape", [(7, 9), (60, 200), (120, 130), (352, 1216)])
def test_full_distance_is_exact(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(shape[0])
    for density in (0.0005, 0.005, 0.05):
        points = rng.random(shape) < density
        if not points.any():
            points[shape[0] // 2, shape[1] // 3] = True
        ref = np.rint(ndimage.distance_transform_edt(~points) ** 2)
        everywhere = np.nonzero(np.ones(shape, bool))
        np.testing.assert_array_equal(bnd._full_sq_dist(points, everywhere).reshape(shape), ref)


def test_window_distance_is_exact_within_reach() -> None:
    rng = np.random.default_rng(9)
    for _ in range(30):
        shape = (int(rng.integers(1, 60)), int(rng.integers(1, 60)))
        points = rng.random(shape) < rng.choice([0.002, 0.02, 0.2])
        if not points.any():
            continue
        reach = int(rng.integers(1, 15))
        ref = np.rint(ndimage.distance_transform_edt(~points) ** 2)
        got = bnd._window_sq_dist(points, np.nonzero(np.ones(shape, bool)), reach).reshape(shape)
        inside = ref < (reach + 1) ** 2
        np.testing.assert_array_equal(got[inside], ref[inside])
        assert (got[~inside] >= (reach + 1) ** 2).all()


@pytest.mark.parametrize("size", [1, 3, 5, 7])
def test_square_dilate_matches_scipy(size: int) -> None:
    rng = np.random.default_rng(size)
    for shape in ((1, 1), (4, 9), (50, 70)):
        mask = rng.random(shape) < 0.05
        ref = ndimage.maximum_filter(mask, size=size, mode="nearest")
        np.testing.assert_array_equal(square_dilate(mask, size), ref)


def test_masked_scores_equal_scores_of_the_masked_pixels() -> None:
    rng = np.random.default_rng(10)
    for _ in range(30):
        shape = (int(rng.integers(1, 40)), int(rng.integers(1, 40)))
        p, t = rng.random(shape) < rng.random(), rng.random(shape) < rng.random()
        vm = rng.random(shape) < rng.choice([0.0, 0.5, 1.0])
        assert bnd._masked_scores(p, t, vm) == bnd.binary_scores(p[vm], t[vm])
