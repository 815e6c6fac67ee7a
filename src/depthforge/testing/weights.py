"""Synthetic weight rule v1 of the parity fixtures (``tests/fixtures/semattnet_*_seed1.json``).

Every parameter and every BatchNorm running statistic is generated from its ``state_dict`` key, its shape and a
base seed, so a reference implementation and ours get identical weights without any checkpoint download.
Values are generated on CPU in float32 (GPU kernels may round the division differently).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence

import torch
from torch import nn

__all__ = ["fill_state_dict", "synthetic_value", "written_keys"]


def synthetic_value(key: str, shape: Sequence[int], base_seed: int) -> torch.Tensor:
    """The float32 CPU tensor the rule assigns to entry ``key`` of shape ``shape``."""
    shape = tuple(int(s) for s in shape)
    seed = (zlib.crc32(key.encode("utf-8")) & 0xFFFFFFFF) ^ int(base_seed)
    g = torch.Generator(device="cpu").manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=torch.float32, device="cpu")
    if len(shape) >= 2:
        return x / math.sqrt(math.prod(shape[1:]))
    if len(shape) == 1:
        if key.endswith("running_var"):
            return 1 + 0.1 * x.abs()
        if key.endswith("running_mean"):
            return 0.1 * x
        if key.endswith("weight"):
            return 1 + 0.1 * x
    return 0.1 * x


def written_keys(model: nn.Module) -> list[str]:
    """Keys the rule overwrites: parameters and BatchNorm ``running_mean``/``running_var`` buffers."""
    params = {id(p) for p in model.parameters()}
    return [
        k
        for k, t in model.state_dict(keep_vars=True).items()
        if id(t) in params or k.endswith(("running_mean", "running_var"))
    ]


@torch.no_grad()
def fill_state_dict(model: nn.Module, base_seed: int, key_map: Mapping[str, str] | None = None) -> nn.Module:
    """Overwrite the model's parameters and BN statistics in place with the synthetic values.

    ``key_map`` maps our state_dict keys to the reference keys whose strings seed the values (identity by
    default; depthforge's SemAttNet keys are the reference keys).  Returns ``model``.
    """
    params = {id(p) for p in model.parameters()}
    for key, t in model.state_dict(keep_vars=True).items():
        if id(t) in params or key.endswith(("running_mean", "running_var")):
            ref_key = key if key_map is None else key_map.get(key, key)
            t.copy_(synthetic_value(ref_key, t.shape, base_seed).to(dtype=t.dtype, device=t.device))
    return model
