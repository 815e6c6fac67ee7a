"""The PatchRefiner demo's pieces: every method's prediction, its scores and the one-line errors.

The whole demo (rendering, two trainings, scoring) takes minutes; its figures are in the closing notes. Here
the prediction and scoring run on small random models and on maps with known answers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from depthforge.demos import patchrefiner as demo
from depthforge.errors import ConfigError
from depthforge.registry import create_model, model_test_kwargs


def _scene(h: int = 64, w: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """A ground plane with a near box and a thin pole: discontinuities the boundary metrics see."""
    gt = np.tile(np.linspace(30.0, 5.0, h)[:, None], (1, w)).astype(np.float32)
    gt[20:40, 10:40] = 8.0
    gt[5:50, 70:72] = 6.0
    boundary = np.zeros_like(gt, bool)
    boundary[20:40, 9:11] = True
    return gt, boundary


def test_scores_of_a_perfect_and_of_a_blurred_prediction() -> None:
    from scipy.ndimage import uniform_filter

    gt, boundary = _scene()
    samples = [{"gt": gt, "boundary": boundary}]
    perfect = demo._score([gt.copy()], samples)
    assert set(perfect) == set(demo.KEYS)
    assert perfect["rmse"] == pytest.approx(0.0, abs=1e-5) and perfect["f1_score"] == pytest.approx(1.0)
    assert perfect["EdgeComp"] == pytest.approx(0.0) and perfect["si_boundary_f1"] == pytest.approx(1.0)
    blurred = demo._score([uniform_filter(gt, 9)], samples)
    assert blurred["rmse"] > 0.1 and blurred["f1_score"] < perfect["f1_score"]
    assert blurred["si_boundary_f1"] < 0.9


def test_every_method_predicts_at_the_input_size() -> None:
    torch.manual_seed(0)
    kwargs = dict(model_test_kwargs("patchrefiner"))
    kwargs["process_shape"] = [32, 64]
    refiner = create_model("patchrefiner", **kwargs).eval()
    coarse = create_model("zoedepth_n", **model_test_kwargs("zoedepth_n")).eval()
    image = torch.rand(1, 3, 64, 128)
    item = {"image": image, "image_lr": torch.nn.functional.interpolate(image, size=(32, 64), mode="bilinear",
                                                                         align_corners=True)}
    with torch.inference_mode():
        out = demo._predict(coarse, refiner, item, demo.Options(split=(2, 2)))
    assert list(out) == ["coarse", "bilateral", "m1", "m2", "r32"]
    for name, depth in out.items():
        assert depth.shape == (64, 128) and np.isfinite(depth).all(), name
    assert not np.array_equal(out["coarse"], out["bilateral"])  # the filter does something
    assert demo._seam([out["m1"]], (2, 2)) == pytest.approx(demo._seam([out["m1"].copy()], (2, 2)))


def test_the_demo_needs_a_source_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (demo.repository_root() / demo.PR_CONFIG).is_file()
    monkeypatch.setattr(demo, "COARSE_CONFIG", "configs/nowhere.py")
    with pytest.raises(ConfigError, match=r"nowhere\.py: not found"):
        demo.repository_root()


def test_results_are_keyed_by_the_protocols_names(tmp_path: Path) -> None:
    assert set(demo.METHODS) == {"coarse", "m1", "m2", "r32", "bilateral"}
    assert demo.KEYS == ("rmse", "abs_rel", "see", "EdgeAcc", "EdgeComp", "precision", "recall", "f1_score",
                         "si_boundary_f1")
    assert list(demo.HEADERS) == [*demo.KEYS, "seam"]  # the table's columns, in order
