"""What a model declares about itself, so that nothing outside its family guesses.

Every registered model class carries a :class:`ModelContract` as the class attribute ``contract``
(in the spirit of timm's per-model ``default_cfg`` and ``checkpoint_filter_fn``). The engine reads it
to pick the task, check crop sizes and configure DDP; the checkpoint loader calls its filter to map
external layouts onto the model's own keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

import torch
from torch import nn


@dataclass(frozen=True)
class CheckpointMapping:
    """Where a checkpoint's state dict goes in a model, as the model's family decides."""

    state_dict: dict[str, torch.Tensor]
    """The entries to load, keyed like ``target``'s own state dict."""
    target: str = ""
    """Dotted name of the sub-module that receives them (``model.get_submodule``); ``""``: the model."""
    layout: str = "direct"
    """Name of the checkpoint layout, reported by the loader."""
    ignored: tuple[str, ...] = ()
    """Checkpoint keys deliberately left out (reported, never an error)."""


class CheckpointFilter(Protocol):
    """Maps a checkpoint's state dict onto ``model`` (or one of its sub-modules).

    ``backbone_only=True`` allows loading only the part of a larger model's checkpoint that fits a smaller
    model; without it such a checkpoint is refused. A layout that cannot go into ``model`` raises
    :class:`~depthforge.errors.CheckpointError` with a one-line reason (the loader adds the file name).
    Key and shape verification is the loader's job, not the filter's.
    """

    def __call__(
        self, state_dict: Mapping[str, torch.Tensor], model: nn.Module, *, backbone_only: bool = False
    ) -> CheckpointMapping: ...


@dataclass(frozen=True)
class ModelContract:
    """A model's inputs, outputs, size rule, unused parameters and checkpoint mapping."""

    task: str
    """The task family that trains and scores it (``completion``, ``monocular``)."""
    inputs: tuple[str, ...]
    """Batch keys ``forward`` reads (:mod:`depthforge.batch`)."""
    outputs: tuple[str, ...]
    """Keys of the output dict; ``depth`` is always first."""
    input_multiple: int = 1
    """Input height and width must be multiples of this."""
    image_range: tuple[float, float] = (0.0, 1.0)
    """Value range of the ``image`` input."""
    unused_parameters: tuple[str, ...] = ()
    """Name prefixes of parameters that never receive a gradient (kept for checkpoint compatibility).
    Non-empty makes DDP run with ``find_unused_parameters=True``."""
    checkpoint_filter: CheckpointFilter | None = None
    """Maps a checkpoint's state dict onto this model; ``None``: key for key into the whole model."""

    def check_size(self, height: int, width: int, what: str = "input") -> str | None:
        """A one-line problem when ``height x width`` breaks the size rule, else ``None``."""
        m = self.input_multiple
        if height % m or width % m:
            return f"{what} size {height}x{width} is not a multiple of {m}"
        return None


def contract_of(model: nn.Module | type[nn.Module]) -> ModelContract:
    """The contract a model (or model class) declares; a clear error when it declares none."""
    cls = model if isinstance(model, type) else type(model)
    contract = getattr(cls, "contract", None)
    if not isinstance(contract, ModelContract):
        raise TypeError(f"{cls.__name__} declares no ModelContract (class attribute 'contract')")
    return contract


_Factory = TypeVar("_Factory", bound=Callable[..., nn.Module])


def builds(cls: type[nn.Module]) -> Callable[[_Factory], _Factory]:
    """Decorator recording on a factory the class it builds (``factory.model_class``), so that the registry
    knows the model's contract without building a model."""

    def mark(factory: _Factory) -> _Factory:
        factory.model_class = cls  # type: ignore[attr-defined]
        return factory

    return mark


__all__ = ["CheckpointFilter", "builds", "CheckpointMapping", "ModelContract", "contract_of"]
