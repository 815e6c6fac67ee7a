"""DDP searches for unused parameters only when the model's contract declares some."""

from __future__ import annotations

import pytest

from depthforge.config import build_config
from depthforge.engine.runner import _strategy, build_module


@pytest.mark.parametrize(("name", "freeze", "expected"), [
    ("semattnet", [], True),            # the head keeps two dead layers for checkpoint compatibility
    ("semattnet_bb", [], False),        # the backbone declares none
    ("semattnet", ["att_12.", "dimhalf_s2."], False),  # frozen: DDP never waits for them
])
def test_find_unused_parameters_follows_the_contract(monkeypatch: pytest.MonkeyPatch, name: str,
                                                     freeze: list[str], expected: bool) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    cfg = build_config({"model": {"name": name, "kwargs": {"width_mult": 0.0625}, "freeze": freeze}})
    strategy = _strategy(cfg, build_module(cfg))
    assert strategy._ddp_kwargs.get("find_unused_parameters", False) is expected
