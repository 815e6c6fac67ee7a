"""ZoeDepth checkpoint layouts, and how to recognise a ZoeDepth state dict.

Layouts a :class:`~depthforge.models.zoedepth.model.ZoeDepth` loads:

* ``zoedepth``: the bare ZoeDepth keys (``core.core.pretrained.model.cls_token``, ``conv2.weight``, ...): the
  ``model_state_dict`` of PatchRefiner's coarse checkpoints (535 entries), the ZoeDepth release weights
  (``{'model': ...}`` or a bare dict, optionally ``module.``-prefixed; the checkpoint reader unwraps those)
  and depthforge's own checkpoints of the model;
* ``patchrefiner``: a PatchRefiner state dict, whose branches are ZoeDepths under ``coarse_branch.`` and
  ``refiner_fine_branch.``. Only with ``backbone_only=True``: the coarse branch loads when present, else the
  fine branch; every other key is reported as ignored.

In both, the BEiT's ``relative_position_index`` buffers are constants of the architecture: a checkpoint
written without them (BEiT code that does not store them) gets the model's own, and stored ones must equal
them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from depthforge.errors import CheckpointError
from depthforge.models.contract import CheckpointMapping

__all__ = [
    "BRANCH_PREFIXES", "LAYOUT_PATCHREFINER", "LAYOUT_ZOEDEPTH", "checkpoint_filter", "describe_state_dict",
]

LAYOUT_ZOEDEPTH = "zoedepth"
LAYOUT_PATCHREFINER = "patchrefiner"
BRANCH_PREFIXES = ("coarse_branch.", "refiner_fine_branch.")
"""Prefixes of the ZoeDepth branches in a PatchRefiner state dict, in the order they are preferred."""

_BEIT = "core.core.pretrained.model."
_MARKER = _BEIT + "cls_token"
_BLOCK_RE = re.compile(re.escape(_BEIT) + r"blocks\.(\d+)\.")


def checkpoint_filter(
    state_dict: Mapping[str, torch.Tensor], model: nn.Module, *, backbone_only: bool = False
) -> CheckpointMapping:
    """Map a ``zoedepth`` or (with ``backbone_only``) ``patchrefiner`` state dict onto a ZoeDepth."""
    if _MARKER in state_dict or not any(k.startswith(BRANCH_PREFIXES) for k in state_dict):
        return CheckpointMapping(_with_position_indices(state_dict, model), layout=LAYOUT_ZOEDEPTH)
    present = [p for p in BRANCH_PREFIXES if p + _MARKER in state_dict] or [
        p for p in BRANCH_PREFIXES if any(k.startswith(p) for k in state_dict)
    ]
    prefix = present[0]
    if not backbone_only:
        raise CheckpointError(
            f"this is a PatchRefiner ({LAYOUT_PATCHREFINER}) checkpoint ({len(state_dict)} keys, branches "
            f"{', '.join(repr(p) for p in present)}) but the model is a bare {type(model).__name__}; pass "
            f"backbone_only=True to load its {prefix.rstrip('.')!r} ZoeDepth"
        )
    n = len(prefix)
    inner = {k[n:]: v for k, v in state_dict.items() if k.startswith(prefix)}
    ignored = tuple(sorted(k for k in state_dict if not k.startswith(prefix)))
    return CheckpointMapping(_with_position_indices(inner, model, prefix), layout=LAYOUT_PATCHREFINER,
                             ignored=ignored)


def _with_position_indices(
    state_dict: Mapping[str, torch.Tensor], model: nn.Module, where: str = ""
) -> dict[str, torch.Tensor]:
    """``state_dict`` plus the model's relative position indices where absent; stored ones are verified."""
    out = dict(state_dict)
    if _MARKER not in out:  # not this family's keys: the loader reports the mismatch
        return out
    for key, index in model.state_dict().items():
        if not key.endswith("relative_position_index") or index.is_meta:
            continue
        stored = out.get(key)
        if stored is None:
            out[key] = index.clone()
        elif tuple(stored.shape) == tuple(index.shape) and not torch.equal(
                stored.to(index.device, index.dtype), index):
            raise CheckpointError(
                f"{where}{key} is not the relative position index of the model's "
                f"{tuple(index.shape)} token grid (a corrupt file or another architecture)"
            )
    return out


def describe_state_dict(state: Mapping[str, torch.Tensor]) -> tuple[str, dict[str, Any]] | None:
    """``("zoedepth_n", kwargs)`` for a bare ZoeDepth state dict, else ``None``.

    The architecture is read from the shapes; only arguments that differ from the published model are
    returned (so an official checkpoint gives ``{}``).
    """
    cls_token = state.get(_MARKER)
    if not torch.is_tensor(cls_token) or cls_token.dim() != 3:
        return None
    try:
        return "zoedepth_n", _architecture(state)
    except (KeyError, IndexError, ValueError):
        return None


def _shape(state: Mapping[str, torch.Tensor], key: str) -> tuple[int, ...]:
    value = state[key]
    if not torch.is_tensor(value):
        raise KeyError(key)
    return tuple(value.shape)


def _architecture(state: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    embed_dim = _shape(state, _MARKER)[-1]
    blocks = {int(m.group(1)) for k in state if (m := _BLOCK_RE.match(k))}
    if not blocks:
        raise KeyError("blocks")
    depth = max(blocks) + 1
    rows, heads = _shape(state, _BEIT + "blocks.0.attn.relative_position_bias_table")
    side = math.isqrt(rows - 3)  # (2g - 1)^2 + 3 rows for a g x g pre-training grid
    if side * side != rows - 3 or side % 2 == 0:
        raise ValueError("relative position table")
    pre = "core.core.pretrained.act_postprocess"
    scratch = "core.core.scratch."
    found: dict[str, Any] = {
        "embed_dim": embed_dim,
        "depth": depth,
        "num_heads": heads,
        "mlp_ratio": _shape(state, _BEIT + "blocks.0.mlp.fc1.weight")[0] / embed_dim,
        "pretrain_grid": (side + 1) // 2,
        "num_classes": _shape(state, _BEIT + "head.weight")[0],
        "reassemble_channels": tuple(_shape(state, f"{pre}{i}.3.weight")[0] for i in range(1, 5)),
        "features": _shape(state, scratch + "layer1_rn.weight")[0],
        "head_features": _shape(state, scratch + "output_conv.2.weight")[0],
        "n_bins": _shape(state, "seed_bin_regressor._net.2.weight")[0],
        "bin_embedding_dim": _shape(state, "seed_projector._net.2.weight")[0],
        "n_attractors": tuple(_shape(state, f"attractors.{i}._net.2.weight")[0] for i in range(4)),
    }
    defaults: dict[str, Any] = {
        "embed_dim": 1024, "depth": 24, "num_heads": 16, "mlp_ratio": 4.0, "pretrain_grid": 24,
        "num_classes": 1000, "reassemble_channels": (256, 512, 1024, 1024), "features": 256,
        "head_features": 32, "n_bins": 64, "bin_embedding_dim": 128, "n_attractors": (16, 8, 4, 1),
    }
    return {k: v for k, v in found.items() if v != defaults[k]}
