"""ZoeDepth-N parity with the reference (case B of the parity fixtures), plus fast checks of the same code.

The full-size test builds the published architecture, fills it with the synthetic weights (seed 1),
regenerates the reference input and compares a strided subset of the reference outputs (and the statistics
of the whole maps) within the fixture's float32 tolerances, then the same in float64.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from depthforge.models.zoedepth import ZoeDepth, zoedepth_n
from depthforge.registry import model_test_kwargs
from depthforge.testing.weights import fill_state_dict

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASE = json.loads((FIXTURES / "zoedepth_coarse_seed1.json").read_text())


def _reference_input() -> torch.Tensor:
    image = np.random.default_rng(201).integers(0, 256, (1, 3, 384, 512), dtype=np.uint8)
    return torch.from_numpy(image.astype(np.float32) / np.float32(255))


def _check(name: str, ours: torch.Tensor, ref: np.ndarray, atol: float) -> float:
    got = ours.detach().double().numpy()
    assert got.shape == ref.shape, name
    err = float(np.abs(got - ref).max())
    print(f"{name}: max abs error {err:.3g} (atol {atol:.3g})")
    assert err <= atol, f"{name}: max abs error {err:.3g} > {atol:.3g}"
    return err


def _check_stats(name: str, ours: torch.Tensor, atol: float) -> None:
    ref = CASE["stats"][name]
    got = ours.detach().double()
    assert abs(got.mean().item() - ref["mean"]) <= atol, name
    assert abs(got.std(unbiased=False).item() - ref["std"]) <= atol, name
    assert abs(got.min().item() - ref["min"]) <= atol, name
    assert abs(got.max().item() - ref["max"]) <= atol, name


@pytest.fixture(scope="module")
def full_model() -> ZoeDepth:
    model = zoedepth_n().eval()
    fill_state_dict(model, base_seed=1)
    return model


@pytest.mark.slow
def test_synthetic_weights_match_the_reference_check_values(full_model: ZoeDepth) -> None:
    state = full_model.state_dict()
    for entry in CASE["weights_check"]["entries"]:
        value = state[entry["key"]]
        assert list(value.shape) == entry["shape"], entry["key"]
        assert str(value.dtype) == "torch." + entry["dtype"], entry["key"]
        if entry["kind"] == "untouched":
            continue
        assert value.flatten()[:3].tolist() == entry["first"], entry["key"]
        total = value.double().sum().item()
        assert abs(total - entry["sum"]) <= 1e-6 * entry["sum_abs"], entry["key"]


@pytest.mark.slow
def test_full_size_matches_reference_case_b(full_model: ZoeDepth) -> None:
    ref = np.load(FIXTURES / "zoedepth_coarse_seed1.npz")
    tol = CASE["tolerance"]
    x = _reference_input()
    with torch.no_grad():
        out = full_model(x, return_features=True)
    assert out["depth"].shape == (1, 1, 384, 512)
    assert out["rel_depth"].shape == (1, 1, 384, 512)
    _check("metric_depth", out["depth"][..., ::4, ::4], ref["metric_depth"], tol["metric_depth"])
    _check("debug_rel_depth", out["rel_depth"][:, 0, ::4, ::4], ref["debug_rel_depth"],
           tol["debug_rel_depth"])
    _check("debug_x_d0", out["x_d0"][:, ::4], ref["debug_x_d0"], tol["debug_x_d0"])
    _check_stats("metric_depth", out["depth"], tol["metric_depth"])
    _check_stats("debug_rel_depth", out["rel_depth"], tol["debug_rel_depth"])
    _check_stats("debug_x_d0", out["x_d0"], tol["debug_x_d0"])

    # The same computation in float64 against the reference's float64 run (much tighter).
    model64 = full_model.double()
    try:
        with torch.no_grad():
            out64 = model64(x.double(), return_features=True)
    finally:
        full_model.float()
    _check("metric_depth_fp64", out64["depth"][..., ::8, ::8], ref["metric_depth_fp64"],
           tol["metric_depth_fp64"])
    _check("debug_rel_depth_fp64", out64["rel_depth"][:, 0, ::8, ::8], ref["debug_rel_depth_fp64"],
           tol["debug_rel_depth_fp64"])


def _small(seed: int = 0) -> ZoeDepth:
    torch.manual_seed(seed)
    model = zoedepth_n(**model_test_kwargs("zoedepth_n")).eval()
    fill_state_dict(model, base_seed=seed + 1)
    return model


def test_instances_do_not_share_feature_taps() -> None:
    a, b = _small(0), _small(1)
    g = torch.Generator().manual_seed(0)
    xa, xb = torch.rand(1, 3, 64, 80, generator=g), torch.rand(2, 3, 48, 32, generator=g)
    with torch.no_grad():
        first = a(xa, return_features=True)
        other = b(xb, return_features=True)
        again = a(xa, return_features=True)
    assert other["depth"].shape == (2, 1, 48, 32)
    assert first.keys() == again.keys()
    for key in first:
        assert torch.equal(first[key], again[key]), key


def test_feature_outputs_and_shapes() -> None:
    model = _small()
    kw = model_test_kwargs("zoedepth_n")
    x = torch.rand(2, 3, 80, 96)
    with torch.no_grad():
        plain = model(x)
        full = model({"image": x}, return_features=True)
    assert tuple(plain) == ("depth",)
    assert torch.equal(plain["depth"], full["depth"])
    f, n_bins = kw["features"], kw["n_bins"]
    expected = {
        "depth": (2, 1, 80, 96), "rel_depth": (2, 1, 80, 96), "bin_centers": (2, n_bins, 80, 96),
        "x_d0": (2, f, 3, 3), "r4": (2, f, 5, 6), "r3": (2, f, 10, 12), "r2": (2, f, 20, 24),
        "r1": (2, f, 40, 48), "out_conv": (2, kw["head_features"], 80, 96),
    }
    assert {k: tuple(v.shape) for k, v in full.items()} == expected
    # depth is the probability-weighted mean of the bin centres: inside their range
    centres = full["bin_centers"]
    assert bool((full["depth"] >= centres.min(1, keepdim=True).values - 1e-6).all())
    assert bool((full["depth"] <= centres.max(1, keepdim=True).values + 1e-6).all())


def test_bad_input_sizes_are_refused() -> None:
    model = _small()
    with pytest.raises(ValueError, match="multiple of 16"):
        model(torch.rand(1, 3, 40, 64))
    with pytest.raises(ValueError, match="N x 3 x H x W"):
        model(torch.rand(1, 1, 64, 64))
    with pytest.raises(ValueError, match="float image"):
        model(torch.zeros(1, 3, 64, 64, dtype=torch.uint8))


def test_relative_position_bias_at_the_pretraining_grid_is_the_stored_table() -> None:
    model = _small()
    attn = model.core.core.pretrained.model.blocks[0].attn
    g = attn.pretrain_grid
    n = g[0] * g[1] + 1
    direct = attn.relative_position_bias_table[attn.relative_position_index.view(-1)].view(n, n, -1)
    resized = attn.relative_position_bias(g)[0].permute(1, 2, 0)
    assert torch.equal(direct, resized)


def test_relative_position_bias_resize_of_a_non_square_grid() -> None:
    """Bilinear (align_corners=False) resize of the offset table, class-token rows kept, as MiDaS does."""
    from depthforge.models.layers.beit import BeitAttention, relative_position_index

    attn = BeitAttention(8, 2, (3, 3))
    with torch.no_grad():
        attn.relative_position_bias_table.copy_(torch.randn_like(attn.relative_position_bias_table))
    grid = (3, 5)  # offsets 5 x 5 -> 5 x 9
    bias = attn.relative_position_bias(grid)[0]  # heads x 16 x 16
    table = attn.relative_position_bias_table.detach()
    # the column offsets are resized 5 -> 9 by a factor 5/9; row offsets keep their size
    src = table[:25].view(5, 5, 2)
    scale = 5 / 9
    col = torch.tensor([min(max((j + 0.5) * scale - 0.5, 0.0), 4.0) for j in range(9)])
    lo = col.floor().long()
    hi = torch.clamp(lo + 1, max=4)
    frac = (col - lo.float()).view(1, 9, 1)
    resized = src[:, lo] * (1 - frac) + src[:, hi] * frac  # 5 x 9 x 2
    full = torch.cat([resized.reshape(45, 2), table[25:]])
    index = relative_position_index(grid)
    expected = full[index.view(-1)].view(16, 16, 2).permute(2, 0, 1)
    assert torch.allclose(bias, expected, atol=1e-6)
    # token (row 0, col 0) attends to (row 2, col 4): offset (-2, -4) -> table row 0 col 0 after the shift
    assert index[1, 1 + 2 * 5 + 4].item() == 0
    assert index[0, 3].item() == 45 and index[3, 0].item() == 46 and index[0, 0].item() == 47


def test_fused_attention_equals_the_explicit_product_and_trains_the_bias_table() -> None:
    """float32 goes through the fused kernel, float64 through the reference's explicit order: same values
    to float32 rounding, and the relative position bias table still receives its gradient."""
    from depthforge.models.layers.beit import BeitAttention

    torch.manual_seed(0)
    attn = BeitAttention(16, 2, (3, 3))
    with torch.no_grad():
        attn.relative_position_bias_table.copy_(torch.randn_like(attn.relative_position_bias_table))
        attn.q_bias.copy_(torch.randn(16))
    x = torch.randn(2, 1 + 4 * 5, 16)
    fused = attn(x, (4, 5))
    fused.square().sum().backward()
    grad = attn.relative_position_bias_table.grad.clone()
    attn.zero_grad()
    attn64 = attn.double()
    explicit = attn64(x.double(), (4, 5))
    explicit.square().sum().backward()
    assert torch.allclose(fused.double(), explicit, atol=1e-5, rtol=1e-5)
    assert grad.abs().sum() > 0
    assert torch.allclose(grad.double(), attn64.relative_position_bias_table.grad, atol=1e-4, rtol=1e-4)


def test_parameter_count_of_the_published_model() -> None:
    with torch.device("meta"):
        model = zoedepth_n()
    total = sum(p.numel() for p in model.parameters())
    core = sum(p.numel() for p in model.core.parameters())
    assert (total, core) == (344_816_746, 344_338_601)
    assert math.isclose(model.conditional_log_binomial.max_temp, 50.0)
