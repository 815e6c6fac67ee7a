"""``kitti-devkit`` against numbers printed by the compiled KITTI depth devkit (``evaluate_depth.cpp``).

The fixture holds only numbers: what the devkit (g++ -O3) wrote for the synthetic 16-bit PNG pairs that
``_make_set`` regenerates here from a seed (``stats_depth.txt`` means and ``errors_out/*.txt``, both
``%f``), plus the per-image errors at full float precision (``%.9g``) from a build that only added that
print. The devkit is not needed to run these tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from depthforge.errors import DataError
from depthforge.metrics import kitti_completion
from depthforge.metrics.kitti import DEVKIT_KEYS

REF = json.loads((Path(__file__).resolve().parent.parent / "fixtures" / "kitti_devkit_cpp.json").read_text())


def _make_pair(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """uint16 KITTI-format (gt, pred): gt ~30% valid, pred with holes that the devkit fill must handle."""
    v = np.arange(h, dtype=np.float64)[:, None] / h
    u = np.arange(w, dtype=np.float64)[None, :] / w
    base = 8.0 + 66.0 * (1.0 - v) ** 2 + 4.0 * np.sin(6.0 * u + 3.0 * v)  # about 4..78 m
    gt_m = base + rng.normal(0.0, 0.05, (h, w))
    gt = np.round(gt_m * 256.0).astype(np.uint16)
    gt[rng.random((h, w)) > 0.3] = 0
    gt[:3] = 0  # no GT at the very top, like KITTI; nor on a row the fill leaves empty
    mid = h // 2
    gt[mid] = 0
    pred_m = base * (1.0 + rng.normal(0.0, 0.04, (h, w))) + rng.normal(0.0, 0.3, (h, w))
    pred = np.round(np.clip(pred_m, 0.5, 200.0) * 256.0).astype(np.uint16)
    pred[rng.random((h, w)) < 0.25] = 0  # scattered holes: interior runs take min(left, right)
    pred[:, : int(rng.integers(1, 6))] = 0  # left edge runs: copy the first valid pixel
    pred[:, w - int(rng.integers(1, 6)):] = 0  # right edge runs
    pred[:2] = 0  # empty top rows: column extrapolation
    pred[h - 2:] = 0  # empty bottom rows
    pred[mid] = 0  # empty interior row: stays -1 in the devkit
    return gt, pred


@pytest.fixture(scope="module")
def pairs() -> list[tuple[np.ndarray, np.ndarray]]:
    """(pred, gt) in metres, decoded exactly like 16-bit KITTI PNGs (value / 256)."""
    rng = np.random.default_rng(REF["seed"])
    out = []
    for h, w in REF["shapes"]:
        g, p = _make_pair(rng, h, w)
        out.append((p.astype(np.float32) / 256, g.astype(np.float32) / 256))
    return out


@pytest.fixture(scope="module")
def per_image(pairs) -> dict[str, list[dict[str, float]]]:
    return {mode: [kitti_completion(p, g, protocol="kitti-devkit", accumulate=mode) for p, g in pairs]
            for mode in ("float64", "float32")}


def _printed(values) -> list[str]:
    return [f"{x:f}" for x in values]  # the devkit's fprintf("%f")


def _devkit_mean(rows: list[dict[str, float]]) -> list[float]:
    """The devkit's statMean over images of different sizes: float32 running sum / (float)count."""
    out = []
    for k in DEVKIT_KEYS:
        acc = np.float32(0.0)
        for r in rows:
            acc = np.float32(acc + np.float32(r[k]))
        out.append(float(acc / np.float32(len(rows))))
    return out


def test_float32_reproduces_printed_per_image(per_image):
    for i, r in enumerate(per_image["float32"]):
        assert _printed(r[k] for k in DEVKIT_KEYS) == _printed(REF["errors_out"][i]), i


def test_float32_matches_full_precision_per_image(per_image):
    for i, r in enumerate(per_image["float32"]):
        got = [r[k] for k in DEVKIT_KEYS]
        # float32 op for op: equal up to a rare 1-ulp difference of C's logf
        np.testing.assert_allclose(got, REF["errors_full_precision"][i], rtol=3e-7, atol=0, err_msg=str(i))


def test_float32_reproduces_printed_means(per_image, pairs):
    assert _printed(_devkit_mean(per_image["float32"])) == _printed(REF["stats_mean_all"])
    # same-size images go through kitti_completion's own batch mean
    p = np.stack([p for p, _ in pairs[:3]])[:, None]
    g = np.stack([g for _, g in pairs[:3]])[:, None]
    out = kitti_completion(p, g, protocol="kitti-devkit", accumulate="float32")
    assert _printed(out[k] for k in DEVKIT_KEYS) == _printed(REF["stats_mean_first3"])


def test_float64_default_agrees_with_devkit(per_image, pairs):
    assert per_image["float64"][0] == kitti_completion(*pairs[0], protocol="kitti-devkit")  # the default
    for i, r in enumerate(per_image["float64"]):
        np.testing.assert_allclose([r[k] for k in DEVKIT_KEYS], REF["errors_full_precision"][i], rtol=3e-4,
                                   atol=0, err_msg=str(i))
    mean64 = [float(np.mean([r[k] for r in per_image["float64"]])) for k in DEVKIT_KEYS]
    # printed means carry 6 decimals: allow half a printed unit on top of the relative tolerance
    np.testing.assert_allclose(mean64, REF["stats_mean_all"], rtol=3e-4, atol=5e-7)


def test_float32_common_keys_follow_devkit_values(per_image):
    r = per_image["float32"][3]
    assert r["rmse"] == pytest.approx(r["devkit_rmse"] * 1e3, rel=1e-12)
    assert r["irmse"] == pytest.approx(r["devkit_irmse"] * 1e3, rel=1e-12)
    assert r["silog"] == pytest.approx(r["devkit_silog"] * 100, rel=1e-12)
    assert r["n_valid"] == per_image["float64"][3]["n_valid"]


def test_accumulate_is_validated(pairs):
    p, g = pairs[0]
    with pytest.raises(DataError, match="accumulate"):
        kitti_completion(p, g, protocol="kitti-devkit", accumulate="float16")
    with pytest.raises(DataError, match="accumulate"):
        kitti_completion(p, g, protocol="kitti-penet", accumulate="float32")
