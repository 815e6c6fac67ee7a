"""SemAttNet checkpoint layouts, and how to recognise a SemAttNet state dict.

The official files come in two layouts, named after the reference's ``--network-model`` values:

* ``bb``: the three-branch backbone alone, bare keys (``rgb_conv_init.0.weight``, ...);
* ``sem_att``: the full model, the backbone's keys under ``backbone.`` plus the head's keys.

depthforge's own checkpoints use the same two layouts (the modules carry the reference names).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from depthforge.errors import CheckpointError
from depthforge.models.contract import CheckpointMapping
from depthforge.models.layers import scale_channels

__all__ = ["BACKBONE_PREFIX", "LAYOUT_BACKBONE", "LAYOUT_FULL", "checkpoint_filter", "describe_state_dict"]

BACKBONE_PREFIX = "backbone."
"""Prefix of the backbone's keys in a full-model state dict (the attribute ``SemAttNet.backbone``)."""
LAYOUT_BACKBONE = "bb"
LAYOUT_FULL = "sem_att"

# The first convolution of each branch: 32 output channels at width 1, 4/5/3 input channels, 5x5.
_FIRST_CONV = "rgb_conv_init.0.weight"
_BRANCH_INITS = {"rgb_conv_init.0.weight": 4, "segment_conv_init.0.weight": 5, "depth_conv_init.0.weight": 3}
# The widest convolution of the colour branch: 1024 output channels at width 1.
_DEEP_CONV = "rgb_encoder_layer10.conv1.weight"


def checkpoint_filter(
    state_dict: Mapping[str, torch.Tensor], model: nn.Module, *, backbone_only: bool = False
) -> CheckpointMapping:
    """Map a ``bb`` or ``sem_att`` state dict onto a SemAttNet model (the contract's ``checkpoint_filter``).

    * full model: a ``sem_att`` state goes into the whole model; a ``bb`` state (bare keys that fit the
      backbone at least as well as the whole model) goes into ``model.backbone`` and leaves the head as it is,
      like the reference's backbone-initialised training;
    * bare backbone: a ``bb`` state goes in key for key; a ``sem_att`` state only with ``backbone_only=True``,
      its ``backbone.`` part then loads and the head's keys are reported as ignored.
    """
    keys = set(state_dict)
    has_prefix = any(k.startswith(BACKBONE_PREFIX) for k in keys)
    backbone = getattr(model, "backbone", None)
    if isinstance(backbone, nn.Module):
        if not has_prefix:
            fits_backbone = len(keys & set(backbone.state_dict()))
            if fits_backbone >= len(keys & set(model.state_dict())):
                target = BACKBONE_PREFIX.rstrip(".")
                return CheckpointMapping(dict(state_dict), target=target, layout=LAYOUT_BACKBONE)
        return CheckpointMapping(dict(state_dict), layout=LAYOUT_FULL)
    if not has_prefix:
        return CheckpointMapping(dict(state_dict), layout=LAYOUT_BACKBONE)
    if not backbone_only:
        raise CheckpointError(
            f"this is a full-model ({LAYOUT_FULL}) checkpoint ({len(state_dict)} keys, {BACKBONE_PREFIX!r} "
            f"prefix) but the model is a bare {type(model).__name__}; pass backbone_only=True to load its "
            "backbone part"
        )
    n = len(BACKBONE_PREFIX)
    inner = {k[n:]: v for k, v in state_dict.items() if k.startswith(BACKBONE_PREFIX)}
    ignored = tuple(sorted(k for k in state_dict if not k.startswith(BACKBONE_PREFIX)))
    return CheckpointMapping(inner, layout=LAYOUT_FULL, ignored=ignored)


def describe_state_dict(state: Mapping[str, torch.Tensor]) -> tuple[str, dict[str, Any]] | None:
    """``(model name, kwargs)`` that build a model this state dict fits, or ``None`` if it is not SemAttNet.

    ``backbone.``-prefixed branch convolutions mean the full model (``semattnet``), bare ones the backbone
    (``semattnet_bb``); ``width_mult`` is read from the channel counts.
    """
    for prefix, name in ((BACKBONE_PREFIX, "semattnet"), ("", "semattnet_bb")):
        if all(_is_branch_init(state.get(prefix + k), c_in) for k, c_in in _BRANCH_INITS.items()):
            return name, {"width_mult": _width_mult(state, prefix)}
    return None


def _is_branch_init(weight: torch.Tensor | None, c_in: int) -> bool:
    return torch.is_tensor(weight) and weight.dim() == 4 and tuple(weight.shape[1:]) == (c_in, 5, 5)


def _width_mult(state: Mapping[str, torch.Tensor], prefix: str) -> float:
    """The ``width_mult`` that rebuilds the first and the widest convolution with their channel counts."""
    c32 = int(state[prefix + _FIRST_CONV].shape[0])
    deep = state.get(prefix + _DEEP_CONV)
    c1024 = int(deep.shape[0]) if torch.is_tensor(deep) else None
    # 32 channels resolve the width coarsely (rounding); the 1024-channel layer pins it down when present.
    candidates = ([c1024 / 1024.0] if c1024 is not None else []) + [c32 / 32.0]
    for width in candidates:
        if scale_channels(32, width) == c32 and (c1024 is None or scale_channels(1024, width) == c1024):
            return width
    return c32 / 32.0
