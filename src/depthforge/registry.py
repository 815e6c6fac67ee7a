"""Registry of named model variants, in the style of ``timm.create_model``."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any, TypeVar

import torch.nn as nn

F = TypeVar("F", bound=Callable[..., nn.Module])

_MODELS: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str) -> Callable[[F], F]:
    """Register a factory under ``name``; ``create_model(name, **kw)`` calls it."""

    def deco(fn: F) -> F:
        if name in _MODELS:
            raise ValueError(f"model {name!r} is registered twice")
        _MODELS[name] = fn
        return fn

    return deco


def _ensure_builtin_models() -> None:
    # Importing the package registers the built-in variants.
    import depthforge.models  # noqa: F401


def list_models() -> list[str]:
    """Names of every registered model variant."""
    _ensure_builtin_models()
    return sorted(_MODELS)


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build a registered model variant (weights are not loaded; see ``load_checkpoint``)."""
    _ensure_builtin_models()
    try:
        factory = _MODELS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_MODELS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown model {name!r}{hint} (known: {', '.join(sorted(_MODELS))})") from None
    return factory(**kwargs)
