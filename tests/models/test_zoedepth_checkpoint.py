"""ZoeDepth state-dict layout vs the official checkpoints, and loading every official checkpoint layout."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import depthforge
from depthforge.checkpoint import build_from_checkpoint, save_checkpoint
from depthforge.errors import CheckpointError
from depthforge.models.zoedepth import ZoeDepth, describe_state_dict, zoedepth_n
from depthforge.registry import model_from_state_dict, model_test_kwargs
from depthforge.testing import written_keys
from depthforge.testing.weights import synthetic_value

KEYS_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "zoedepth_state_dict_keys.txt"


def _reference_entries() -> list[tuple[str, tuple[int, ...], str]]:
    entries = []
    for line in KEYS_FILE.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        key, shape, dtype = line.split("\t")
        dims = tuple(int(s) for s in shape.strip("()").split(",") if s.strip())
        entries.append((key, dims, dtype))
    return entries


def test_state_dict_is_the_official_layout() -> None:
    with torch.device("meta"):
        model = zoedepth_n()
    ref = _reference_entries()
    assert len(ref) == 535
    ours = [(k, tuple(v.shape), str(v.dtype).replace("torch.", "")) for k, v in model.state_dict().items()]
    assert ours == ref  # same keys, order, shapes and dtypes
    assert len(written_keys(model)) == 509  # everything but the 24 position indices and the 2 head constants


def _official_state(shapes: dict[str, tuple[tuple[int, ...], torch.Tensor]], prefix: str = "") -> dict:
    """A state dict as an official file holds it: synthetic parameters (seed 1), the buffers as is."""
    state = {}
    for key, (shape, buffer) in shapes.items():
        written = buffer.dtype.is_floating_point and not key.endswith("K_minus_1")
        state[prefix + key] = synthetic_value(prefix + key, shape, 1) if written else buffer.clone()
    return state


def _layout_of(model: ZoeDepth) -> dict[str, tuple[tuple[int, ...], torch.Tensor]]:
    return {k: (tuple(v.shape), v) for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def small() -> ZoeDepth:
    torch.manual_seed(0)
    return zoedepth_n(**model_test_kwargs("zoedepth_n"))


def _assert_loaded(model: ZoeDepth, state: dict, prefix: str = "") -> None:
    own = model.state_dict()
    for key, value in own.items():
        assert torch.equal(value, state[prefix + key]), key


def test_describe_recognises_bare_zoedepth_only(small: ZoeDepth) -> None:
    kw = model_test_kwargs("zoedepth_n")
    name, found = describe_state_dict(small.state_dict())
    assert name == "zoedepth_n"
    assert {k: list(v) if isinstance(v, tuple) else v for k, v in found.items()} == kw
    assert model_from_state_dict(small.state_dict()) == ("zoedepth_n", found)
    prefixed = {"coarse_branch." + k: v for k, v in small.state_dict().items()}
    assert describe_state_dict(prefixed) is None
    assert describe_state_dict({"conv2.weight": torch.zeros(1)}) is None


@pytest.mark.parametrize("wrapping", ["zoedepth_release", "zoedepth_release_module", "bare"])
def test_zoedepth_layouts_load_and_build(small: ZoeDepth, tmp_path: Path, wrapping: str) -> None:
    state = _official_state(_layout_of(small))
    if wrapping == "zoedepth_release":
        ckpt: dict = {"model": state}
    elif wrapping == "zoedepth_release_module":
        ckpt = {"model": {"module." + k: v for k, v in state.items()}}
    else:
        ckpt = dict(state)
    path = save_checkpoint(ckpt, tmp_path / "zoedepth.pt")

    model = zoedepth_n(**model_test_kwargs("zoedepth_n"))
    info = depthforge.load_checkpoint(model, path)
    assert info["layout"] == "zoedepth" and info["loaded"] == len(state)
    _assert_loaded(model, state)

    built = build_from_checkpoint(path)
    assert isinstance(built, ZoeDepth)
    _assert_loaded(built, state)


def test_coarse_training_checkpoint_loads(small: ZoeDepth, tmp_path: Path) -> None:
    """PatchRefiner coarse checkpoints: {'epoch', 'model_state_dict' (bare keys), optimiser, scheduler}."""
    state = _official_state(_layout_of(small))
    ckpt = {"epoch": 23, "model_state_dict": state, "optim_state_dict": {"state": {}, "param_groups": []},
            "schedule_state_dict": {"last_epoch": 10}}
    path = save_checkpoint(ckpt, tmp_path / "checkpoint_24.pth")
    model = zoedepth_n(**model_test_kwargs("zoedepth_n"))
    info = depthforge.load_checkpoint(model, path)
    assert info["layout"] == "zoedepth" and info["epoch"] == 23
    _assert_loaded(model, state)
    _assert_loaded(build_from_checkpoint(path), state)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["full", "refiner"])
def test_patchrefiner_layouts_load_a_branch_only_on_request(small: ZoeDepth, tmp_path: Path,
                                                            kind: str) -> None:
    layout = _layout_of(small)
    coarse = _official_state(layout, "coarse_branch.")
    fine = _official_state(layout, "refiner_fine_branch.")
    fusion = {"refiner_fusion_model.final_conv.weight": torch.randn(1, 32, 3, 3)}
    state = {**coarse, **fine, **fusion} if kind == "full" else {**fine, **fusion}
    wanted, prefix = (coarse, "coarse_branch.") if kind == "full" else (fine, "refiner_fine_branch.")
    path = save_checkpoint({"model": state}, tmp_path / "pr.pth")

    model = zoedepth_n(**model_test_kwargs("zoedepth_n"))
    with pytest.raises(CheckpointError, match="backbone_only=True"):
        depthforge.load_checkpoint(model, path)
    info = depthforge.load_checkpoint(model, path, backbone_only=True)
    assert info["layout"] == "patchrefiner" and info["loaded"] == len(wanted)
    assert len(info["ignored"]) == len(state) - len(wanted)
    _assert_loaded(model, wanted, prefix)
    assert model_from_state_dict(state) is None or model_from_state_dict(state)[0] != "zoedepth_n"


def test_mismatched_architecture_is_reported(small: ZoeDepth) -> None:
    state = dict(small.state_dict())
    del state["conv2.bias"]
    model = zoedepth_n(**model_test_kwargs("zoedepth_n"))
    with pytest.raises(CheckpointError, match="missing 1: conv2.bias"):
        depthforge.load_checkpoint(model, state)


@pytest.mark.slow
def test_full_size_coarse_checkpoint_builds_from_the_key_list(tmp_path: Path) -> None:
    """A file written from the official key list alone builds and loads the published architecture."""
    from depthforge.models.layers.beit import relative_position_index

    state = {}
    for key, shape, dtype in _reference_entries():
        if key.endswith("relative_position_index"):
            state[key] = relative_position_index((24, 24))
        elif key.endswith("k_idx"):
            state[key] = torch.arange(64).view(1, 64, 1, 1)
        elif key.endswith("K_minus_1"):
            state[key] = torch.full((1, 1, 1, 1), 63.0)
        else:
            state[key] = synthetic_value(key, shape, 1)
        assert str(state[key].dtype) == "torch." + dtype and tuple(state[key].shape) == shape, key
    path = save_checkpoint({"model": state}, tmp_path / "zoedepth_n.pt")
    del state
    model = build_from_checkpoint(path)
    assert isinstance(model, ZoeDepth)
    own = model.state_dict()
    for key in ("core.core.pretrained.model.cls_token", "conv2.weight",
                "conditional_log_binomial.mlp.2.bias"):
        assert torch.equal(own[key], synthetic_value(key, own[key].shape, 1)), key


def test_position_indices_are_filled_in_when_absent_and_verified_when_present(small: ZoeDepth) -> None:
    state = _official_state(_layout_of(small))
    indices = [k for k in state if k.endswith("relative_position_index")]
    assert len(indices) == 4
    without = {k: v for k, v in state.items() if k not in indices}
    model = zoedepth_n(**model_test_kwargs("zoedepth_n"))
    info = depthforge.load_checkpoint(model, without)
    assert not info["missing"]
    _assert_loaded(model, state)

    corrupt = dict(state)
    corrupt[indices[2]] = torch.zeros_like(state[indices[2]])
    with pytest.raises(CheckpointError, match="relative_position_index is not the relative position index"):
        depthforge.load_checkpoint(model, corrupt)
