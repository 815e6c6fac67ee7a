"""Optimiser parameter groups: per-prefix learning rates, first match wins, and a prefix must exist."""

from __future__ import annotations

import pytest

from depthforge.config import build_config
from depthforge.engine.module import EngineModule
from depthforge.errors import ConfigError


def _module(groups: list[dict[str, object]]) -> EngineModule:
    return EngineModule(build_config({"model": {"name": "semattnet", "kwargs": {"width_mult": 0.0625}},
                                      "optim": {"name": "adam", "lr": 0.1, "param_groups": groups}}))


def test_first_matching_prefix_sets_the_rate() -> None:
    module = _module([{"prefix": "backbone.decoder_layer6.1.", "lr_mult": 1.0},
                      {"prefix": "backbone.", "lr_mult": 0.1}])
    groups = {g["name"]: g for g in module._param_groups()}
    assert groups["backbone.decoder_layer6.1."]["lr"] == pytest.approx(0.1)
    assert len(groups["backbone.decoder_layer6.1."]["params"]) == 2  # the BatchNorm's weight and bias
    assert groups["backbone."]["lr"] == pytest.approx(0.01) and groups["rest"]["lr"] == pytest.approx(0.1)
    total = sum(len(g["params"]) for g in groups.values())
    assert total == sum(1 for _ in module.model.parameters())


def test_a_prefix_that_names_no_parameter_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"param_groups\[1\].prefix 'backbone.decoder_layer_6.'"):
        _module([{"prefix": "backbone.", "lr_mult": 0.1},
                 {"prefix": "backbone.decoder_layer_6.", "lr_mult": 10}])._param_groups()
