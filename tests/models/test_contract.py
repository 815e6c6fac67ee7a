"""Every registered model keeps the contract it declares (driven by the registry: new variants join as is)."""

from __future__ import annotations

import math

import pytest
import torch

import depthforge.batch as batch_keys
from depthforge.batch import BOXES, DEPTH, IMAGE, IMAGE_LR, SEMANTIC, SPARSE
from depthforge.models.contract import ModelContract, contract_of
from depthforge.registry import create_model, list_models, model_contract, model_test_kwargs

NAMES = list_models()
BATCH_KEYS = {getattr(batch_keys, k) for k in batch_keys.__all__}


def _input(key: str, contract: ModelContract, n: int, size: int, g: torch.Generator) -> torch.Tensor:
    """A plausible value for one batch key (see depthforge.batch)."""
    if key == IMAGE:
        lo, hi = contract.image_range
        return lo + (hi - lo) * torch.rand(n, 3, size, size, generator=g)
    if key == SEMANTIC:
        return 255 * torch.rand(n, 3, size, size, generator=g)
    if key == SPARSE:
        depth = 1 + 79 * torch.rand(n, 1, size, size, generator=g)
        return torch.where(torch.rand(n, 1, size, size, generator=g) < 0.1, depth, torch.zeros_like(depth))
    if key == IMAGE_LR:
        return torch.rand(n, 3, size, size, generator=g)
    if key == BOXES:  # x1 y1 x2 y2 in image_lr pixels
        xy = torch.rand(n, 2, generator=g) * size / 2
        return torch.cat([xy, xy + size / 2], 1)
    raise AssertionError(f"no test input for batch key {key!r}; teach this test how to make one")


def test_registry_is_not_empty():
    assert {"semattnet", "semattnet_bb"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_contract_declared_without_building(name: str) -> None:
    contract = model_contract(name)
    with torch.device("meta"):
        model = create_model(name)
    assert contract_of(model) is contract
    assert contract.outputs and contract.outputs[0] == DEPTH
    assert len(set(contract.outputs)) == len(contract.outputs)
    assert contract.inputs and set(contract.inputs) <= BATCH_KEYS
    assert contract.input_multiple >= 1
    assert contract.image_range[0] < contract.image_range[1]
    params = [n for n, _ in model.named_parameters()]
    for prefix in contract.unused_parameters:  # each declared prefix names real parameters
        assert any(n.startswith(prefix) for n in params), prefix


@pytest.mark.parametrize("name", NAMES)
def test_small_instance_forward_backward(name: str) -> None:
    contract = model_contract(name)
    torch.manual_seed(0)
    model = create_model(name, **model_test_kwargs(name)).train()
    m = contract.input_multiple
    size = m * math.ceil(64 / m)
    g = torch.Generator().manual_seed(0)
    batch = {key: _input(key, contract, 2, size, g) for key in contract.inputs}
    out = model(batch)
    assert tuple(out) == contract.outputs
    assert out[DEPTH].shape == (2, 1, size, size)

    loss = sum(v.float().mean() for v in out.values() if v.requires_grad)
    assert isinstance(loss, torch.Tensor)
    loss.backward()
    # Frozen parameters (a frozen branch) are not "unused": DDP never waits for them.
    without_grad = {n for n, p in model.named_parameters() if p.requires_grad and p.grad is None}
    declared = {n for n, _ in model.named_parameters() if n.startswith(contract.unused_parameters)}
    assert without_grad == declared


@pytest.mark.parametrize("name", NAMES)
def test_one_engine_training_step(name: str) -> None:
    """The engine trains every registered variant through the task its contract declares."""
    from depthforge.batch import GT
    from depthforge.config import build_config
    from depthforge.engine.module import EngineModule

    contract = model_contract(name)
    cfg = build_config({"model": {"name": name, "kwargs": model_test_kwargs(name)},
                        "optim": {"name": "adamw", "lr": 1e-3}, "scheduler": {"name": "none"}})
    torch.manual_seed(0)
    module = EngineModule(cfg)
    assert module.task.name == contract.task
    m = contract.input_multiple
    size = m * math.ceil(64 / m)
    g = torch.Generator().manual_seed(1)
    batch = {key: _input(key, contract, 2, size, g) for key in contract.inputs}
    batch[GT] = torch.where(torch.rand(2, 1, size, size, generator=g) < 0.3,
                            1 + 79 * torch.rand(2, 1, size, size, generator=g), torch.zeros(2, 1, size, size))
    optimizer = module.configure_optimizers()
    assert isinstance(optimizer, torch.optim.Optimizer)
    before = {n: p.detach().clone() for n, p in module.model.named_parameters()}
    module.model.train()
    loss = module.task.training_loss(module.model(batch), batch, 0, lambda count: count)
    assert torch.isfinite(loss) and loss.item() > 0
    loss.backward()
    optimizer.step()
    changed = {n for n, p in module.model.named_parameters() if not torch.equal(before[n], p.detach())}
    declared = {n for n in before if n.startswith(contract.unused_parameters)}
    assert changed and not (changed & declared)
