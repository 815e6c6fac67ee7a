"""PatchRefiner checkpoint layouts, and how to recognise a PatchRefiner state dict.

Layouts a :class:`~depthforge.models.patchrefiner.model.PatchRefiner` loads (the ``model_state_dict`` of the
official files):

* ``full``: every key, ``coarse_branch.*`` (535), ``refiner_fine_branch.*`` (535) and
  ``refiner_fusion_model.*`` (47): depthforge's own checkpoints;
* ``refiner``: the official refiner checkpoints, every key except the coarse branch's (582). The coarse
  branch keeps its current weights, so a prediction needs the *checkpoint pair*: load the coarse checkpoint
  first, then the refiner (:func:`load_checkpoint_pair`, or :func:`build_from_pair`, which also sizes the
  model from the refiner file);
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
    "build_from_pair",
    "checkpoint_filter",
    "describe_state_dict",
    "layout_of",
    "load_checkpoint_pair",
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


def layout_of(state_dict: Mapping[str, torch.Tensor]) -> str | None:
    """The layout of a PatchRefiner or ZoeDepth state dict: ``full``, ``refiner``, ``coarse`` or ``None``."""
    keys = [k for k in state_dict if k.startswith(_PREFIXES)]
    if not keys:
        return LAYOUT_COARSE if _ZOE_MARKER in state_dict else None
    return LAYOUT_FULL if any(k.startswith(COARSE_PREFIX) for k in keys) else LAYOUT_REFINER


def checkpoint_filter(
    state_dict: Mapping[str, torch.Tensor], model: nn.Module, *, backbone_only: bool = False
) -> CheckpointMapping:
    """Map a ``full``, ``refiner`` or ``coarse`` state dict onto a PatchRefiner (the contract's filter)."""
    layout = layout_of(state_dict)
    if layout is None:
        raise CheckpointError(
            f"not a PatchRefiner or ZoeDepth state dict ({len(state_dict)} keys, none under "
            f"{', '.join(repr(p) for p in _PREFIXES)} and no {_ZOE_MARKER!r})"
        )
    if layout == LAYOUT_COARSE:
        mapped = {COARSE_PREFIX + k: v for k, v in state_dict.items()}
        mapped.update({FINE_PREFIX + k: v for k, v in state_dict.items()})
        mapped.update(_own(model, (FUSION_PREFIX,)))
        return CheckpointMapping(mapped, layout=LAYOUT_COARSE)
    if layout == LAYOUT_FULL:
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


_PAIR_ROLES = (("coarse", (LAYOUT_COARSE,)), ("refiner", (LAYOUT_REFINER, LAYOUT_FULL)))
_PAIR_HINTS = {
    ("coarse", LAYOUT_REFINER): "give the coarse checkpoint first, then the refiner",
    ("coarse", LAYOUT_FULL): "a full checkpoint holds every part: load it alone",
    ("refiner", LAYOUT_COARSE): "the second file must be a refiner checkpoint (refiner_fine_branch.*, "
                                "refiner_fusion_model.*); a coarse one alone loads with load_checkpoint",
}


def load_checkpoint_pair(
    model: nn.Module,
    coarse: str | PathLike[str] | Mapping[str, Any] | None,
    refiner: str | PathLike[str] | Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Load an official coarse checkpoint, then a refiner checkpoint, strictly (the order matters).

    Files are read safely (``weights_only``, on CPU); ``coarse=None`` loads only ``refiner`` (which may
    then be a ``full`` state dict). Each part must hold its role's layout: a swapped pair would otherwise
    load the coarse weights over the trained fine branch without a word. Errors name the file. Returns the
    loader's info per file.
    """
    from depthforge.checkpoint import read_checkpoint

    parts: list[tuple[str, Any, str | None]] = []
    for (role, _), part in zip(_PAIR_ROLES, (coarse, refiner)):
        if part is None:
            continue
        if isinstance(part, (str, PathLike)):
            parts.append((role, read_checkpoint(part), str(part)))
        else:
            parts.append((role, part, None))
    return _load_checked(model, _checked(parts))


def build_from_pair(coarse: str | PathLike[str], refiner: str | PathLike[str]) -> nn.Module:
    """A PatchRefiner sized as the refiner checkpoint says, with the pair loaded into it (CPU, training mode).

    The size comes from the model recorded in a depthforge checkpoint's config or else from the refiner's
    weight shapes, so models trained at another width (a reduced configuration) load as well as the
    published size.
    """
    from depthforge.checkpoint import read_checkpoint, recorded_model
    from depthforge.registry import create_model

    ckpts = [read_checkpoint(coarse), read_checkpoint(refiner)]
    states = _checked([("coarse", ckpts[0], str(coarse)), ("refiner", ckpts[1], str(refiner))])
    recorded = recorded_model(ckpts[1])
    described = recorded if recorded and recorded[0] == "patchrefiner" else describe_state_dict(states[1][0])
    model = create_model("patchrefiner", **(described[1] if described else {}))
    _load_checked(model, states)
    return model


_Checked = list[tuple[dict[str, torch.Tensor], str | None, str]]
"""``(state dict, source file or None, label for messages)`` per part of a pair."""


def _checked(parts: list[tuple[str, Any, str | None]]) -> _Checked:
    """The state dicts of ``(role, checkpoint, source)`` parts, each checked to be in its role's layout."""
    from depthforge.checkpoint import extract_state_dict

    wanted = dict(_PAIR_ROLES)
    states: _Checked = []
    for role, ckpt, source in parts:
        label = source or f"the {role} checkpoint"
        try:
            state = extract_state_dict(ckpt)  # official, Lightning or bare layouts
        except CheckpointError as e:
            raise CheckpointError(f"{label}: {e}") from None
        layout = layout_of(state)
        if layout is None:
            raise CheckpointError(f"{label}: not a PatchRefiner or ZoeDepth checkpoint ({len(state)} keys)")
        if layout == LAYOUT_FULL and states:  # it would overwrite the coarse branch just loaded
            raise CheckpointError(f"{label}: a full checkpoint holds every part, the coarse branch too: "
                                  "load it alone")
        if layout not in wanted[role]:
            needed = " or ".join(wanted[role])
            raise CheckpointError(f"{label}: a {layout} checkpoint, where the pair needs a {needed} one "
                                  f"({_PAIR_HINTS[role, layout]})")
        states.append((state, source, label))
    return states


def _load_checked(model: nn.Module, states: _Checked) -> list[dict[str, Any]]:
    from depthforge.checkpoint import load_checkpoint

    infos = []
    for state, source, label in states:
        try:
            info = load_checkpoint(model, state)
        except CheckpointError as e:
            raise CheckpointError(f"{label}: {e}") from None
        info["source"] = source
        infos.append(info)
    return infos
