"""PatchRefiner checkpoint layouts, and how to recognise a PatchRefiner state dict.

Layouts a :class:`~depthforge.models.patchrefiner.model.PatchRefiner` loads (the ``model_state_dict`` of the
official files):

* ``full``: every key, ``coarse_branch.*`` (535), ``refiner_fine_branch.*`` (535) and
  ``refiner_fusion_model.*`` (47): depthforge's own checkpoints;
* ``refiner``: the official refiner checkpoints, every key except the coarse branch's (582). The coarse
  branch keeps its current weights, so a prediction needs the *checkpoint pair*: load the coarse checkpoint
  first, then the refiner (:func:`load_checkpoint_pair`);
* ``coarse``: an official coarse checkpoint, the bare ZoeDepth keys (535, ``core.core.pretrained.model.*``,
  ...). They load into the coarse branch and, as the reference does when it builds a model, also initialise
  the fine branch; the fusion network keeps its weights.

Entries a layout does not carry are passed through from the model itself, so the loader's strict check still
reports every missing or mismatched key of the part the checkpoint does carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from typing import Any

import torch
from torch import nn

from depthforge.errors import CheckpointError
from depthforge.models.contract import CheckpointMapping

__all__ = [
    "COARSE_PREFIX",
    "FINE_PREFIX",
    "FUSION_PREFIX",
    "LAYOUT_COARSE",
    "LAYOUT_FULL",
    "LAYOUT_REFINER",
    "checkpoint_filter",
    "describe_state_dict",
    "load_checkpoint_pair",
    "model_state_dict",
]

COARSE_PREFIX = "coarse_branch."
FINE_PREFIX = "refiner_fine_branch."
FUSION_PREFIX = "refiner_fusion_model."
LAYOUT_FULL = "full"
LAYOUT_REFINER = "refiner"
LAYOUT_COARSE = "coarse"
_ZOE_MARKER = "core.core.pretrained.model.cls_token"
_PREFIXES = (COARSE_PREFIX, FINE_PREFIX, FUSION_PREFIX)


def _own(model: nn.Module, prefixes: tuple[str, ...]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in model.state_dict().items() if k.startswith(prefixes)}


def checkpoint_filter(
    state_dict: Mapping[str, torch.Tensor], model: nn.Module, *, backbone_only: bool = False
) -> CheckpointMapping:
    """Map a ``full``, ``refiner`` or ``coarse`` state dict onto a PatchRefiner (the contract's filter)."""
    keys = list(state_dict)
    prefixed = [k for k in keys if k.startswith(_PREFIXES)]
    if not prefixed:
        if _ZOE_MARKER not in state_dict:
            raise CheckpointError(
                f"not a PatchRefiner or ZoeDepth state dict ({len(keys)} keys, none under "
                f"{', '.join(repr(p) for p in _PREFIXES)} and no {_ZOE_MARKER!r})"
            )
        mapped = {COARSE_PREFIX + k: v for k, v in state_dict.items()}
        mapped.update({FINE_PREFIX + k: v for k, v in state_dict.items()})
        mapped.update(_own(model, (FUSION_PREFIX,)))
        return CheckpointMapping(mapped, layout=LAYOUT_COARSE)
    if any(k.startswith(COARSE_PREFIX) for k in keys):
        return CheckpointMapping(dict(state_dict), layout=LAYOUT_FULL)
    mapped = dict(state_dict)
    mapped.update(_own(model, (COARSE_PREFIX,)))
    return CheckpointMapping(mapped, layout=LAYOUT_REFINER)


def describe_state_dict(state: Mapping[str, torch.Tensor]) -> tuple[str, dict[str, Any]] | None:
    """``("patchrefiner", kwargs)`` for a ``full`` or ``refiner`` state dict, else ``None``.

    The branches' architecture is read by the ZoeDepth family from the fine branch's keys.
    """
    if not any(k.startswith(FUSION_PREFIX) for k in state) or FINE_PREFIX + _ZOE_MARKER not in state:
        return None
    from depthforge.models.zoedepth.checkpoint import describe_state_dict as describe_zoedepth

    n = len(FINE_PREFIX)
    described = describe_zoedepth({k[n:]: v for k, v in state.items() if k.startswith(FINE_PREFIX)})
    if described is None:
        return None
    return "patchrefiner", dict(described[1])


def model_state_dict(ckpt: Any) -> dict[str, torch.Tensor]:
    """The state dict of an official PatchRefiner training checkpoint (``model_state_dict``), or ``ckpt``."""
    if isinstance(ckpt, Mapping) and isinstance(ckpt.get("model_state_dict"), Mapping):
        return dict(ckpt["model_state_dict"])
    if isinstance(ckpt, Mapping):
        return dict(ckpt)
    raise CheckpointError(f"expected a checkpoint dict, got {type(ckpt).__name__}")


def load_checkpoint_pair(
    model: nn.Module,
    coarse: str | PathLike[str] | Mapping[str, Any] | None,
    refiner: str | PathLike[str] | Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Load an official coarse checkpoint, then a refiner checkpoint, strictly (the order matters).

    Files are read safely (``weights_only``, on CPU); ``coarse=None`` loads only ``refiner`` (which may
    then be a ``full`` state dict). Returns the loader's info per file.
    """
    from depthforge.checkpoint import load_checkpoint, read_checkpoint

    infos = []
    for part in (coarse, refiner):
        if part is None:
            continue
        ckpt = read_checkpoint(part) if isinstance(part, (str, PathLike)) else part
        info = load_checkpoint(model, model_state_dict(ckpt))
        if isinstance(part, (str, PathLike)):
            info["source"] = str(part)
        infos.append(info)
    return infos
