"""The registry: lazy built-in table, user registration, contracts without building, no import circle."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch
from torch import nn

from depthforge import registry
from depthforge.models.contract import ModelContract
from depthforge.registry import (
    create_model,
    list_models,
    model_contract,
    model_from_state_dict,
    model_test_kwargs,
    register_model,
)


def _run(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_importing_the_registry_imports_no_model_code():
    out = _run(
        """
        import sys
        import depthforge.registry as registry

        loaded = sorted(m for m in sys.modules if m.startswith("depthforge.models"))
        assert not loaded, loaded
        model = registry.create_model("semattnet_bb", width_mult=0.0625)
        assert "depthforge.models.semattnet" in sys.modules
        print(type(model).__name__)
        """
    )
    assert out.split() == ["SemAttNetBackbone"]


def test_family_imports_first_without_circle():
    out = _run(
        """
        import depthforge.models.semattnet.model as family
        from depthforge import create_model

        print(type(create_model("semattnet", width_mult=0.0625)) is family.SemAttNet)
        """
    )
    assert out.split() == ["True"]


def test_unknown_name_suggests_the_closest():
    with pytest.raises(KeyError, match=r"unknown model 'semattnet_b'; did you mean 'semattnet_bb'\?") as ei:
        create_model("semattnet_b")
    assert "semattnet, semattnet_bb" in str(ei.value) and "known: " in str(ei.value)
    with pytest.raises(KeyError, match="unknown model"):
        model_contract("zzz")


class _Toy(nn.Module):
    contract = ModelContract(task="completion", inputs=("sparse",), outputs=("depth",))

    def __init__(self, channels: int = 2) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, channels, 1)

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"depth": self.conv(batch["sparse"]).mean(1, keepdim=True)}


@pytest.fixture
def user_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_USER", {})


@pytest.mark.usefixtures("user_models")
def test_user_models_register_and_declare_contracts():
    @register_model("toy", test_kwargs={"channels": 1})
    def toy(channels: int = 2) -> _Toy:
        return _Toy(channels)

    toy.model_class = _Toy  # type: ignore[attr-defined]

    @register_model("toy_plain")
    def toy_plain() -> _Toy:
        return _Toy()

    assert {"toy", "toy_plain", "semattnet"} <= set(list_models())
    assert isinstance(create_model("toy", channels=3), _Toy)
    assert model_contract("toy") is _Toy.contract
    assert model_test_kwargs("toy") == {"channels": 1} and model_test_kwargs("toy_plain") == {}
    with pytest.raises(TypeError, match="model_class"):
        model_contract("toy_plain")
    with pytest.raises(ValueError, match="registered twice"):
        register_model("toy")(toy)
    with pytest.raises(ValueError, match="registered twice"):
        register_model("semattnet")(toy)


@pytest.mark.parametrize("name", ["semattnet", "semattnet_bb"])
@pytest.mark.parametrize("width", [1.0, 0.5, 0.3, 0.1, 1 / 16])
def test_family_describes_its_state_dicts(name: str, width: float) -> None:
    with torch.device("meta"):
        state = create_model(name, width_mult=width).state_dict()
    described = model_from_state_dict(state)
    assert described is not None and described[0] == name
    with torch.device("meta"):
        rebuilt = create_model(described[0], **described[1]).state_dict()
    assert {k: tuple(v.shape) for k, v in rebuilt.items()} == {k: tuple(v.shape) for k, v in state.items()}


def test_other_state_dicts_are_not_claimed():
    # 'backbone.' is a natural name in any family: it alone must not make a state dict SemAttNet's
    state = {"backbone.conv.weight": torch.zeros(4, 3, 3, 3), "head.weight": torch.zeros(1, 4)}
    assert model_from_state_dict(state) is None
    bare = {"rgb_conv_init.0.weight": torch.zeros(8, 4, 3, 3)}
    assert model_from_state_dict(bare) is None
