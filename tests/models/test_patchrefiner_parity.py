"""Numerical parity with the reference PatchRefiner, tiled mode ``m1`` (fixture case C).

Full-size model (713.6 M parameters) with the synthetic weights (base seed 1) on every one of the 1117
state-dict keys; the 768x1024 input is regenerated from its seeded generator and split 2x2. The expected
outputs are a strided subset (every 7th row and column) of the reference's, committed with full-array
statistics (``tests/fixtures/patchrefiner_m1_seed1_subset.*``). float32 is checked with the fixture's
suggested absolute tolerances, float64 with the tight ``*_fp64`` ones. Each test takes minutes on two cores
and ~3 GB (float32) or ~9 GB (float64).
"""

from __future__ import annotations

import gc
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from depthforge.models.patchrefiner import patchrefiner
from depthforge.testing.weights import fill_state_dict

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASE = "patchrefiner_m1_seed1_subset"


def _case() -> tuple[dict[str, np.ndarray], dict]:
    data = np.load(FIXTURES / f"{CASE}.npz")
    meta = json.loads((FIXTURES / f"{CASE}.json").read_text())
    return {k: data[k] for k in data.files}, meta


def _image() -> torch.Tensor:
    """``numpy default_rng(401).integers(0, 256, (1,3,768,1024), uint8)``, then a float32 division by 255."""
    raw = np.random.default_rng(401).integers(0, 256, (1, 3, 768, 1024), np.uint8)
    return torch.from_numpy(raw.astype(np.float32) / 255)


def _model() -> torch.nn.Module:
    model = patchrefiner()  # published configuration: min 1e-3, max 80, offset_coarse, 384 x 512
    fill_state_dict(model, 1)
    return model.eval()


def _run(model: torch.nn.Module, image: torch.Tensor, image_lr: torch.Tensor) -> dict[str, np.ndarray]:
    out = model.infer(
        image,
        mode="m1",
        patch_split_num=(2, 2),
        process_num=1,
        image_lr=image_lr,
        output="process",
        return_tiles=True,
    )
    assert out["tile_corners"].tolist() == [[0, 0], [0, 512], [384, 0], [384, 512]]
    return {
        "depth": out["depth"].double().numpy(),
        "debug_coarse_depth": out["coarse_depth"].double().numpy(),
        "debug_fine_depth": out["tile_fine_depth"].double().numpy(),
    }


def _check(
    ours: dict[str, np.ndarray], data, meta, suffixes: dict[str, str]
) -> dict[str, tuple[float, float]]:
    stride = meta["stride"]
    report = {}
    for name, ref_name in suffixes.items():
        full = ours[name]
        stats = meta["stats"][ref_name]
        assert list(full.shape) == stats["shape"], (name, full.shape)
        ref = data[ref_name]
        got = full[..., ::stride, ::stride]
        atol = meta["suggested_tolerance"][ref_name]["atol"]
        report[ref_name] = (float(np.abs(got - ref.astype(np.float64)).max()), atol)
        # the whole map: its mean within the tolerance, its extremes within it too
        assert abs(full.mean() - stats["mean"]) <= atol, (ref_name, full.mean(), stats["mean"])
        assert abs(full.min() - stats["min"]) <= atol and abs(full.max() - stats["max"]) <= atol, ref_name
    bad = {k: v for k, v in report.items() if not v[0] <= v[1]}
    print("max|ours-ref| vs atol:", report)
    assert not bad, f"max|ours-ref| above atol: {bad} (all: {report})"
    return report


def test_case_c_m1_float32() -> None:
    data, meta = _case()
    image = _image()
    image_lr = F.interpolate(image, size=(384, 512), mode="bilinear", align_corners=True)
    torch.manual_seed(0)
    model = _model()
    with torch.inference_mode():
        ours = _run(model, image, image_lr)
    del model
    gc.collect()
    _check(
        ours,
        data,
        meta,
        {
            "depth": "depth",
            "debug_coarse_depth": "debug_coarse_depth",
            "debug_fine_depth": "debug_fine_depth",
        },
    )


def test_case_c_m1_float64() -> None:
    """The reference's float64 run: weights and inputs cast exactly; the canvas stays float32."""
    data, meta = _case()
    image = _image()
    image_lr = F.interpolate(image, size=(384, 512), mode="bilinear", align_corners=True)
    torch.manual_seed(0)
    model = _model().double()
    with torch.inference_mode():
        ours = _run(model, image.double(), image_lr.double())
    del model
    gc.collect()
    _check(
        ours,
        data,
        meta,
        {
            "depth": "depth_fp64run",
            "debug_coarse_depth": "debug_coarse_depth_fp64",
            "debug_fine_depth": "debug_fine_depth_fp64",
        },
    )
