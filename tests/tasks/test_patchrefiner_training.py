"""The teacher-student model and the monocular task's training pieces (reduced-size models)."""

from __future__ import annotations

import math

import pytest
import torch

from depthforge.batch import BOXES, DEPTH, GT, IMAGE, IMAGE_LR
from depthforge.checkpoint import load_checkpoint
from depthforge.config import build_config
from depthforge.losses import silog_loss
from depthforge.losses.ssi import ssi_loss
from depthforge.registry import create_model, model_contract, model_test_kwargs
from depthforge.tasks.base import build_task
from depthforge.testing.weights import fill_state_dict


def _semi():
    torch.manual_seed(0)
    return create_model("patchrefiner_semi", **model_test_kwargs("patchrefiner_semi"))


def _batch(n: int = 2) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return {IMAGE: torch.rand(n, 3, 64, 64, generator=g), IMAGE_LR: torch.rand(n, 3, 64, 64, generator=g),
            BOXES: torch.tensor([[0.0, 0.0, 32.0, 32.0], [16.0, 8.0, 48.0, 40.0]])[:n],
            GT: 1 + 20 * torch.rand(n, 1, 40, 40, generator=g)}


def test_teacher_is_frozen_in_eval_mode_and_gives_the_pseudo_label_without_gradients() -> None:
    model = _semi().train()
    assert not model.teacher_model.training and not model.student_model.coarse_branch.training
    assert not any(p.requires_grad for p in model.teacher_model.parameters())
    out = model(_batch())
    assert out["pseudo_depth"].shape == out[DEPTH].shape and out["pseudo_depth"].grad_fn is None
    out[DEPTH].mean().backward()
    assert all(p.grad is None for p in model.teacher_model.parameters())
    assert any(p.grad is not None for p in model.student_model.refiner_fusion_model.parameters())
    model.eval()
    assert "pseudo_depth" not in model(_batch())  # evaluation runs the student only


def test_checkpoints_go_to_the_student_and_the_reference_layout_is_the_students() -> None:
    model = _semi()
    source = fill_state_dict(create_model("patchrefiner", **model_test_kwargs("patchrefiner")), base_seed=5)
    info = load_checkpoint(model, source.reference_state_dict())
    assert info["target"] == "student_model" and info["layout"] == "refiner"
    saved = model.reference_state_dict()
    assert saved.keys() == source.reference_state_dict().keys()
    assert not any("coarse_branch." in k or k.startswith("student_model.") for k in saved)
    for key, value in source.reference_state_dict().items():
        assert torch.equal(saved[key], value)
    whole = load_checkpoint(model, model.state_dict())
    assert whole["layout"] == "semi"
    fresh = create_model("patchrefiner", **model_test_kwargs("patchrefiner"))
    assert load_checkpoint(fresh, saved)["layout"] == "refiner"  # ours load into a plain PatchRefiner


def _task(loss: dict, name: str = "patchrefiner_semi"):
    cfg = build_config({"model": {"name": name, "kwargs": model_test_kwargs(name)}, "task": {"loss": loss}})
    return build_task(cfg, model_contract(name))


def test_teacher_student_loss_is_silog_plus_weighted_ssi_with_the_reference_guards() -> None:
    task = _task({"edge_loss": "ssi", "edge_weight": 0.07, "max_depth": 250.0})
    g = torch.Generator().manual_seed(2)
    pred = (1 + 10 * torch.rand(2, 1, 16, 16, generator=g)).requires_grad_()
    pseudo = 1 + 10 * torch.rand(2, 1, 16, 16, generator=g)
    batch = {GT: 1 + 10 * torch.rand(2, 1, 32, 32, generator=g)}
    loss = task.training_loss({DEPTH: pred, "pseudo_depth": pseudo}, batch, 0, lambda c: c)
    expected = silog_loss(pred, batch[GT], 1e-3, 250.0) + 0.07 * ssi_loss(pred, pseudo)
    torch.testing.assert_close(loss, expected)
    nan = task.training_loss({DEPTH: pred, "pseudo_depth": torch.full_like(pseudo, math.nan)}, batch, 0, lambda c: c)
    torch.testing.assert_close(nan, silog_loss(pred, batch[GT], 1e-3, 250.0))  # a NaN detail term counts 0
    nan.backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all()
    with pytest.raises(ValueError, match="pseudo_depth"):
        task.training_loss({DEPTH: pred}, batch, 0, lambda c: c)


def test_ranking_term_is_reproducible_for_a_batch() -> None:
    task = _task({"edge_loss": "ranking", "edge_weight": 1.0, "ranking_pairs": 200, "max_depth": 250.0})
    g = torch.Generator().manual_seed(3)
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    pseudo = (5 + 5 * (xx > 16) + 0.1 * yy)[None, None].repeat(2, 1, 1, 1)  # a depth edge to sample around
    pred = 1 + 10 * torch.rand(2, 1, 32, 32, generator=g)
    batch = {GT: pseudo.clone(), "name": ["a", "b"]}
    out = {DEPTH: pred, "pseudo_depth": pseudo}
    first = task.training_loss(out, batch, 0, lambda c: c)
    assert torch.equal(first, task.training_loss(out, batch, 0, lambda c: c))
    assert first > silog_loss(pred, batch[GT], 1e-3, 250.0)


def test_whole_images_are_tiled_by_a_tiling_model_and_seen_at_the_process_shape_by_a_coarse_one() -> None:
    pr_task = _task({}, "patchrefiner")
    model = create_model("patchrefiner", **model_test_kwargs("patchrefiner")).eval()
    image = torch.rand(1, 3, 128, 256)
    out = pr_task.evaluate(model, {IMAGE: image})
    expected = model.infer(image, mode="m1", patch_split_num=(4, 4), process_num=4)[DEPTH]
    torch.testing.assert_close(out[DEPTH], expected)
    zoe_task = _task({}, "zoedepth_n")
    zoe = create_model("zoedepth_n", **model_test_kwargs("zoedepth_n")).eval()
    lr = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        torch.testing.assert_close(zoe_task.evaluate(zoe, {IMAGE: image, IMAGE_LR: lr})[DEPTH], zoe(lr)[DEPTH])
