"""Numerical parity with the reference SemAttNet (cases A1: backbone, A2: full model).

Full-size (width 1.0) models with the synthetic weights (base seed 1) on the stored 64x256 inputs.  float32
outputs are compared with the suggested absolute tolerances; the float64 runs with the tight ``*_fp64``
tolerances (1e-9 x max|ref|), which catch small systematic deviations that float32 noise would hide.
Each model is built once per module (about 3 s) and needs ~1.5 GB (fp32) + ~2.9 GB (fp64 copy).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ._semattnet_utils import FIXTURES, build_filled

A1_OUTPUTS = {
    "rgb_depth": "rgb_depth",
    "semantic_depth": "semantic_depth",
    "d_depth": "d_depth",
    "fused": "depth",
}
A2_OUTPUTS = {
    "refined_depth": "depth",
    "debug_backbone_fused": "coarse",
    "debug_depth_after_s2_stage": "refined_s2",
}


def _case(name: str):
    data = np.load(FIXTURES / f"{name}.npz")
    meta = json.loads((FIXTURES / f"{name}.json").read_text())
    return data, meta


# batch key -> array name in the fixtures (the reference's names)
_FIXTURE_INPUTS = {"image": "rgb", "sparse": "d", "semantic": "semantic"}


def _inputs(data, dtype=torch.float32) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(data[a].astype(np.float32)).to(dtype) for k, a in _FIXTURE_INPUTS.items()}


def _check(out, data, meta, mapping, suffix=""):
    report = {}
    for ref_name, our_name in mapping.items():
        ref = data[ref_name + suffix]
        atol = meta["suggested_tolerance"][ref_name + suffix]["atol"]
        ours = out[our_name].detach().double().numpy()
        assert ours.shape == ref.shape, (ref_name, ours.shape, ref.shape)
        diff = float(np.abs(ours - ref).max())
        report[ref_name] = (diff, atol)
    bad = {k: v for k, v in report.items() if not v[0] <= v[1]}
    assert not bad, f"max|ours-ref| above atol: {bad} (all: {report})"


@pytest.fixture(scope="module")
def bb_model():
    torch.manual_seed(0)
    return build_filled("semattnet_bb")


@pytest.fixture(scope="module")
def full_model():
    return build_filled("semattnet")


def test_a1_backbone_float32(bb_model):
    data, meta = _case("semattnet_bb_seed1")
    with torch.inference_mode():
        out = bb_model(_inputs(data))
    _check(out, data, meta, A1_OUTPUTS)
    # softmaxed confidences sum to one
    s = out["rgb_conf"] + out["semantic_conf"] + out["d_conf"]
    torch.testing.assert_close(s, torch.ones_like(s))


def test_a2_full_model_float32(full_model):
    data, meta = _case("semattnet_semattnet_seed1")
    with torch.inference_mode():
        out = full_model(_inputs(data))
    _check(out, data, meta, A2_OUTPUTS)


def test_a2_full_model_float32_nchw(full_model):
    """Same check with the plain NCHW layout (channels_last=False)."""
    data, meta = _case("semattnet_semattnet_seed1")
    full_model.channels_last = False
    try:
        with torch.inference_mode():
            out = full_model(_inputs(data))
    finally:
        full_model.channels_last = True
    _check(out, data, meta, A2_OUTPUTS)
    assert set(out) >= {"depth", "coarse", "refined_s2", "rgb_depth", "semantic_depth", "d_depth"}


def test_a2_full_model_float64():
    data, meta = _case("semattnet_semattnet_seed1")
    model64 = build_filled("semattnet", dtype=torch.float64)
    with torch.inference_mode():
        out = model64(_inputs(data, torch.float64))
    del model64
    _check(out, data, meta, A2_OUTPUTS, suffix="_fp64")


def test_a1_backbone_float64():
    data, meta = _case("semattnet_bb_seed1")
    model64 = build_filled("semattnet_bb", dtype=torch.float64)
    with torch.inference_mode():
        out = model64(_inputs(data, torch.float64))
    del model64
    _check(out, data, meta, A1_OUTPUTS, suffix="_fp64")


@pytest.mark.slow
def test_a2_bitwise_parity_mode_float64():
    """The optional bitwise-parity mode (dead att blend evaluated, naive propagation) also matches."""
    data, meta = _case("semattnet_semattnet_seed1")
    model64 = build_filled("semattnet", dtype=torch.float64, bitwise_parity=True)
    with torch.inference_mode():
        out = model64(_inputs(data, torch.float64))
    del model64
    _check(out, data, meta, A2_OUTPUTS, suffix="_fp64")
