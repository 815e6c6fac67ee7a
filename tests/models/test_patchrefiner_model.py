"""PatchRefiner: state-dict layout, frozen coarse branch, training forward, contract, checkpoint layouts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from depthforge.batch import BOXES, DEPTH, IMAGE, IMAGE_LR
from depthforge.checkpoint import load_checkpoint
from depthforge.errors import CheckpointError
from depthforge.models.contract import contract_of
from depthforge.models.patchrefiner import (
    FusionUnet,
    PatchRefiner,
    build_from_pair,
    checkpoint_filter,
    describe_state_dict,
    load_checkpoint_pair,
    patchrefiner,
)
from depthforge.models.patchrefiner.checkpoint import LAYOUT_COARSE, LAYOUT_FULL, LAYOUT_REFINER
from depthforge.registry import model_from_state_dict, model_test_kwargs
from depthforge.testing.weights import synthetic_value

from ._patchrefiner_utils import key_list, small_model


def _batch(n: int = 2, size: tuple[int, int] = (64, 64)) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    h, w = size
    return {
        IMAGE: torch.rand(n, 3, h, w, generator=g),
        IMAGE_LR: torch.rand(n, 3, h, w, generator=g),
        BOXES: torch.tensor([[0.0, 0.0, w / 2, h / 2], [w / 4, h / 8, w, h]])[:n],
    }


def test_full_state_dict_matches_the_reference_key_list() -> None:
    with torch.device("meta"):
        model = patchrefiner()
    expected = key_list()
    assert len(expected) == 1117
    state = model.state_dict()
    assert list(state) == [k for k, _, _ in expected]  # same keys, same order
    for key, shape, dtype in expected:
        assert tuple(state[key].shape) == shape, key
        assert str(state[key].dtype).removeprefix("torch.") == dtype, key
    counts = {
        p: sum(k.startswith(p) for k in state)
        for p in ("coarse_branch.", "refiner_fine_branch.", "refiner_fusion_model.")
    }
    assert counts == {"coarse_branch.": 535, "refiner_fine_branch.": 535, "refiner_fusion_model.": 47}
    assert sum(p.numel() for p in model.parameters()) == 713_626_152
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 368_809_406
    assert sum(p.numel() for p in model.refiner_fusion_model.parameters()) == 23_992_660


def test_fusion_unet_alone_has_the_47_reference_keys() -> None:
    with torch.device("meta"):
        fusion = FusionUnet()
    expected = {
        k[len("refiner_fusion_model.") :]: s
        for k, s, _ in key_list()
        if k.startswith("refiner_fusion_model.")
    }
    assert {k: tuple(v.shape) for k, v in fusion.state_dict().items()} == expected


def test_coarse_branch_frozen_and_always_in_eval_mode() -> None:
    model = small_model()
    model.train()
    assert model.training and model.refiner_fine_branch.training
    assert not model.coarse_branch.training
    assert all(not p.requires_grad for p in model.coarse_branch.parameters())
    assert all(p.requires_grad for p in model.refiner_fine_branch.parameters())
    model.coarse_branch.train()  # even when someone flips it, the forward runs it in eval mode
    model(_batch())
    assert not model.coarse_branch.training


def test_fine_branch_starts_from_the_coarse_weights() -> None:
    torch.manual_seed(0)
    model = patchrefiner(**model_test_kwargs("patchrefiner"))
    coarse = model.coarse_branch.state_dict()
    for k, v in model.refiner_fine_branch.state_dict().items():
        assert torch.equal(v, coarse[k]), k


def test_training_forward_outputs_and_measured_unused_parameters() -> None:
    model = small_model().train()
    batch = _batch()
    out = model(batch)
    contract = contract_of(model)
    assert tuple(out) == contract.outputs and contract.outputs[0] == DEPTH
    for v in out.values():
        assert v.shape == (2, 1, 64, 64)
    assert (out[DEPTH] >= 0).all()
    # offset_coarse: depth = max(0, RoI coarse depth + offset)
    assert not out["coarse_depth"].requires_grad and out[DEPTH].requires_grad
    sum(v.float().mean() for v in out.values() if v.requires_grad).backward()
    trainable_without_grad = {n for n, p in model.named_parameters() if p.requires_grad and p.grad is None}
    declared = {n for n, _ in model.named_parameters() if n.startswith(contract.unused_parameters)}
    assert trainable_without_grad == declared
    assert all(p.grad is None for p in model.coarse_branch.parameters())


def test_roi_coarse_depth_of_the_whole_image_box_is_the_coarse_depth() -> None:
    model = small_model()
    batch = _batch(1)
    batch[BOXES] = torch.tensor([[0.0, 0.0, 64.0, 64.0]])
    with torch.no_grad():
        out = model(batch)
        coarse = model.coarse_branch(batch[IMAGE_LR])[DEPTH]
    torch.testing.assert_close(out["coarse_depth"], coarse, rtol=0, atol=1e-6)


@pytest.mark.parametrize("target", ["offset_fine", "direct"])
def test_other_refiner_targets(target: str) -> None:
    model = small_model(refiner_target=target)
    with torch.no_grad():
        out = model(_batch())
    assert out[DEPTH].shape == (2, 1, 64, 64)
    if target == "direct":
        assert (out[DEPTH] <= model.max_depth).all()


def test_bad_inputs_are_clear_errors() -> None:
    model = small_model()
    with pytest.raises(KeyError, match="boxes"):
        model({IMAGE: torch.rand(1, 3, 64, 64), IMAGE_LR: torch.rand(1, 3, 64, 64)})
    with pytest.raises(ValueError, match="one shape"):
        model({**_batch(1), IMAGE_LR: torch.rand(1, 3, 32, 64)})
    with pytest.raises(ValueError, match="refiner_target"):
        patchrefiner(refiner_target="offset", **model_test_kwargs("patchrefiner"))


# -- checkpoint layouts --------------------------------------------------------------------------------------


def _official(model: PatchRefiner, prefix: str, strip: bool, seed: int) -> dict[str, torch.Tensor]:
    """Entries of ``model``'s state dict under ``prefix``, written by the weight rule (``seed``)."""
    out = {}
    for k, v in model.state_dict().items():
        if not k.startswith(prefix):
            continue
        value = synthetic_value(k, v.shape, seed) if v.is_floating_point() else v.clone()
        out[k[len(prefix) :] if strip else k] = value
    return out


def _official_pair(model: PatchRefiner, path: Path, seed: int) -> tuple[Path, Path, dict, dict]:
    """A coarse and a refiner checkpoint in the official file layouts (``checkpoint_24.pth``, ``..._36``)."""
    coarse_sd = _official(model, "coarse_branch.", strip=True, seed=seed)
    refiner_sd = {
        **_official(model, "refiner_fine_branch.", strip=False, seed=seed + 1),
        **_official(model, "refiner_fusion_model.", strip=False, seed=seed + 1),
    }
    coarse_path, refiner_path = path / "checkpoint_24.pth", path / "checkpoint_36.pth"
    for epoch, sd, file in ((23, coarse_sd, coarse_path), (35, refiner_sd, refiner_path)):
        torch.save(
            {
                "epoch": epoch,
                "model_state_dict": sd,
                "optim_state_dict": {"state": {}, "param_groups": []},
                "schedule_state_dict": {"last_epoch": 5},
            },
            file,
        )
    return coarse_path, refiner_path, coarse_sd, refiner_sd


def _assert_holds(model: PatchRefiner, coarse_sd: dict, refiner_sd: dict) -> None:
    state = model.state_dict()
    for k, v in coarse_sd.items():
        assert torch.equal(state["coarse_branch." + k], v), k
    for k, v in refiner_sd.items():
        assert torch.equal(state[k], v), k


def test_checkpoint_pair_in_the_official_layouts(tmp_path: Path) -> None:
    model = small_model()
    coarse_path, refiner_path, coarse_sd, refiner_sd = _official_pair(model, tmp_path, seed=11)
    infos = load_checkpoint_pair(model, coarse_path, refiner_path)
    assert [i["layout"] for i in infos] == [LAYOUT_COARSE, LAYOUT_REFINER]
    _assert_holds(model, coarse_sd, refiner_sd)


def test_checkpoint_pair_in_the_wrong_order_is_refused_by_file(tmp_path: Path) -> None:
    """A swapped pair would load the coarse weights over the trained fine branch: refused, naming the file."""
    model = small_model()
    coarse_path, refiner_path, _, _ = _official_pair(model, tmp_path, seed=13)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    swapped = re.escape(f"{refiner_path}: a refiner checkpoint, where the pair needs a coarse")
    with pytest.raises(CheckpointError, match=swapped + ".*coarse checkpoint first"):
        load_checkpoint_pair(model, refiner_path, coarse_path)
    no_refiner = re.escape(f"{coarse_path}: a coarse checkpoint, where the pair needs a refiner")
    with pytest.raises(CheckpointError, match=no_refiner + ".*loads with load_checkpoint"):
        load_checkpoint_pair(model, None, coarse_path)
    with pytest.raises(CheckpointError, match="the refiner checkpoint: not a PatchRefiner or ZoeDepth"):
        load_checkpoint_pair(model, None, {"model_state_dict": {"w": torch.zeros(1)}})
    full = {"state_dict": {f"model.{k}": v for k, v in model.state_dict().items()}}  # a Lightning checkpoint
    for pair in ((full, refiner_path), (coarse_path, full)):  # either way it would overwrite the other part
        with pytest.raises(CheckpointError, match="a full checkpoint holds every part.*load it alone"):
            load_checkpoint_pair(model, *pair)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # nothing was loaded
    assert load_checkpoint_pair(model, None, full)[0]["layout"] == LAYOUT_FULL  # alone it loads


def test_build_from_pair_sizes_the_model_from_the_refiner(tmp_path: Path) -> None:
    """A reduced model's pair builds that model (not the published size) and fills it; errors name files."""
    source = small_model()
    coarse_path, refiner_path, coarse_sd, refiner_sd = _official_pair(source, tmp_path, seed=15)
    model = build_from_pair(coarse_path, refiner_path)
    assert isinstance(model, PatchRefiner)
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in source.parameters())
    _assert_holds(model, coarse_sd, refiner_sd)
    wider = small_model(features=32)
    wrong_coarse = tmp_path / "wider_coarse.pth"
    torch.save({"model_state_dict": _official(wider, "coarse_branch.", strip=True, seed=1)}, wrong_coarse)
    with pytest.raises(CheckpointError, match="^" + re.escape(f"{wrong_coarse}: ") + ".*does not fit"):
        build_from_pair(wrong_coarse, refiner_path)


def test_coarse_checkpoint_initialises_the_fine_branch() -> None:
    model = small_model()
    coarse_sd = _official(model, "coarse_branch.", strip=True, seed=21)
    fusion_before = {k: v.clone() for k, v in model.refiner_fusion_model.state_dict().items()}
    load_checkpoint(model, {"model_state_dict": coarse_sd})
    for k, v in coarse_sd.items():
        assert torch.equal(model.coarse_branch.state_dict()[k], v)
        assert torch.equal(model.refiner_fine_branch.state_dict()[k], v)
    for k, v in model.refiner_fusion_model.state_dict().items():
        assert torch.equal(v, fusion_before[k])


def test_refiner_checkpoint_missing_a_key_is_reported_by_key() -> None:
    model = small_model()
    refiner_sd = {
        **_official(model, "refiner_fine_branch.", strip=False, seed=12),
        **_official(model, "refiner_fusion_model.", strip=False, seed=12),
    }
    del refiner_sd["refiner_fusion_model.final_conv.weight"]
    with pytest.raises(CheckpointError, match="refiner_fusion_model.final_conv.weight"):
        load_checkpoint_pair(model, None, {"model_state_dict": refiner_sd})


def test_layouts_of_the_full_size_key_list() -> None:
    """The 1117 / 582 / 535-key layouts of the reference, as meta tensors from the committed key list."""
    rows = key_list()
    full = {k: torch.empty(s, dtype=getattr(torch, d), device="meta") for k, s, d in rows}
    refiner = {k: v for k, v in full.items() if "coarse_branch." not in k}
    coarse = {k[len("coarse_branch.") :]: v for k, v in full.items() if k.startswith("coarse_branch.")}
    assert (len(full), len(refiner), len(coarse)) == (1117, 582, 535)
    with torch.device("meta"):
        model = patchrefiner()
    own = set(model.state_dict())
    for sd, layout in ((full, LAYOUT_FULL), (refiner, LAYOUT_REFINER), (coarse, LAYOUT_COARSE)):
        mapping = checkpoint_filter(sd, model)
        assert mapping.layout == layout and mapping.target == ""
        assert set(mapping.state_dict) == own
    assert describe_state_dict(full) == ("patchrefiner", {})
    assert describe_state_dict(refiner) == ("patchrefiner", {})
    assert describe_state_dict(coarse) is None  # a bare ZoeDepth belongs to the ZoeDepth family
    assert model_from_state_dict(refiner) == ("patchrefiner", {})
    with pytest.raises(CheckpointError, match="not a PatchRefiner"):
        checkpoint_filter({"foo.weight": torch.zeros(1)}, model)


def test_family_describes_the_reduced_state_dict() -> None:
    with torch.device("meta"):
        state = patchrefiner(**model_test_kwargs("patchrefiner")).state_dict()
    described = model_from_state_dict(state)
    assert described is not None and described[0] == "patchrefiner"
    with torch.device("meta"):
        rebuilt = patchrefiner(**described[1]).state_dict()
    assert {k: tuple(v.shape) for k, v in rebuilt.items()} == {k: tuple(v.shape) for k, v in state.items()}


def test_generic_loader_reads_the_official_files(tmp_path) -> None:
    model = small_model()
    coarse_sd = _official(model, "coarse_branch.", strip=True, seed=31)
    refiner_sd = {
        **_official(model, "refiner_fine_branch.", strip=False, seed=32),
        **_official(model, "refiner_fusion_model.", strip=False, seed=32),
    }
    torch.save({"epoch": 4, "model_state_dict": coarse_sd}, tmp_path / "coarse.pth")
    torch.save({"epoch": 35, "model_state_dict": refiner_sd}, tmp_path / "refiner.pth")
    assert load_checkpoint(model, tmp_path / "coarse.pth")["layout"] == LAYOUT_COARSE
    assert load_checkpoint(model, tmp_path / "refiner.pth")["layout"] == LAYOUT_REFINER
    state = model.state_dict()
    assert all(torch.equal(state["coarse_branch." + k], v) for k, v in coarse_sd.items())
    assert all(torch.equal(state[k], v) for k, v in refiner_sd.items())


def test_fusion_gelu_in_place_only_without_gradients() -> None:
    from depthforge.models.patchrefiner.fusion import GELU

    x = torch.randn(2, 5, 4, 4, generator=torch.Generator().manual_seed(0))
    expected = torch.nn.functional.gelu(x)
    act = GELU()
    with torch.no_grad():
        y = x.clone()
        assert act(y) is y and torch.equal(y, expected)  # overwritten in place
    leaf = x.clone().requires_grad_(True)
    out = act(leaf * 1.0)
    assert torch.equal(out, expected) and torch.equal(leaf, x)  # out of place while gradients are recorded
    out.sum().backward()
    reference = x.clone().requires_grad_(True)
    torch.nn.functional.gelu(reference).sum().backward()
    assert torch.equal(leaf.grad, reference.grad)
