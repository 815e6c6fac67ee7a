"""cityscapes-pr protocol: D3 stages and metrics, section 4.4 test vectors, dilation equivalence."""

from __future__ import annotations

import kornia
import numpy as np
import pytest
import torch

from depthforge.metrics import (
    CITYSCAPES_KEYS,
    boundary_metrics,
    cityscapes,
    cityscapes_masks,
    extract_edges,
    get_boundaries,
    monocular,
    square_dilate,
)

RTOL = {"EdgeAcc": 1e-9, "EdgeComp": 1e-9, "precision": 1e-6, "recall": 1e-6, "f1_score": 1e-6,
        "hamming": 1e-6, "acc": 1e-6}


@pytest.fixture(scope="module")
def d3(load_case):
    return load_case("metrics_cityscapes")


def test_d3_intermediate_masks(d3):
    a, meta = d3
    m = cityscapes_masks(a["pred_0"], a["depth_gt_0"], a["seg_color_0"], a["image_0"])
    counts = meta["scenes"][0]["mask_pixel_counts"]
    for key in ("valid_mask", "flat_mask", "gt_boundary", "pred_edges"):
        np.testing.assert_array_equal(m[key], a[f"debug_{key}_0"].astype(bool), err_msg=key)
        assert int(m[key].sum()) == counts[key]
    np.testing.assert_allclose(m["pred_resized"], a["debug_pred_resized_0"], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(get_boundaries(a["depth_gt_0"], th=1), a["boundary_0"][0, 0])


def test_d3_metrics(d3):
    a, meta = d3
    ref = meta["scenes"][0]["metrics"]
    seg = torch.from_numpy(a["seg_color_0"]).float()
    img = torch.from_numpy(a["image_0"]).float() / 255
    out = cityscapes(torch.from_numpy(a["pred_0"]), a["depth_gt_0"], seg, img, a["boundary_0"],
                     include_full=True)
    assert list(out)[:17] == list(CITYSCAPES_KEYS)
    for k in CITYSCAPES_KEYS:
        if k in ("a1", "a2", "a3"):
            assert out[k] == ref[k], k
        else:
            assert out[k] == pytest.approx(ref[k], rel=RTOL.get(k, 1e-5)), k
    # flat-pixel metrics differ from the plain-mask ones (boundaries are harder)
    assert out["full_rmse"] != out["rmse"]


def test_section_4_4_boundary_vectors(synthetic_4_4):
    s = synthetic_4_4
    gt_edges = extract_edges(s["gt"])
    assert gt_edges.sum() == 188 and extract_edges(s["pred"]).sum() == 134
    out = boundary_metrics(s["pred"], gt_edges, s["valid"])
    ref = {"EdgeAcc": 1.161211, "EdgeComp": 1.431599, "precision": 0.784522, "recall": 0.695828,
           "f1_score": 0.737518, "hamming": 0.083636, "acc": 0.916364}
    for k, v in ref.items():
        assert out[k] == pytest.approx(v, abs=1e-6), k


def test_section_4_4_compute_metrics_vectors(synthetic_4_4):
    s = synthetic_4_4
    out = monocular(s["pred"], s["gt"], 1e-3, 80, boundary=get_boundaries(s["gt"], th=1),
                    additional_mask=s["valid"])
    ref = {"a1": 0.956818, "a2": 0.956818, "a3": 0.990909, "abs_rel": 0.074034, "rmse": 1.82112,
           "log_10": 0.032744, "rmse_log": 0.146412, "silog": 14.299146, "sq_rel": 0.223097, "see": 0.430451}
    for k, v in ref.items():
        assert out[k] == pytest.approx(v, rel=2e-6, abs=1e-6), k


@pytest.mark.parametrize(("k", "sigma"), [(3, 3.0), (5, 5.0), (7, 5.0)])
def test_square_dilation_equals_gaussian_blur_trick(k, sigma):
    rng = np.random.default_rng(k)
    m = rng.random((40, 53)) > 0.97
    m[0, 0] = m[-1, 5] = m[7, -1] = True  # border pixels exercise the reflect padding
    blur = kornia.filters.gaussian_blur2d(torch.from_numpy(m).float()[None, None], (k, k), (sigma, sigma),
                                          border_type="reflect", separable=True)
    np.testing.assert_array_equal(square_dilate(m, k), (blur > 0)[0, 0].numpy())


def test_boundary_metrics_perfect_and_empty():
    gt = np.full((40, 50), 10, np.float32)
    gt[:, 25:] = 30
    edges = extract_edges(gt)
    valid = np.ones_like(edges)
    perfect = boundary_metrics(gt, edges, valid)
    assert perfect["EdgeAcc"] == 0 and perfect["EdgeComp"] == 0 and perfect["f1_score"] == 1
    flat = boundary_metrics(np.full_like(gt, 10), edges, valid)
    assert flat["EdgeAcc"] == 10 and flat["EdgeComp"] == 10 and flat["precision"] == 0
