"""Registry of named model variants, in the style of ``timm.create_model``.

The built-in variants are a table of ``"module:factory"`` strings: a family's module is imported on the first
use of one of its names, so importing this module imports no model code, and no family module imports the
registry. :func:`register_model` adds user variants.

A factory may carry the class it builds as the attribute ``model_class``; :func:`model_contract` then
returns that class's :class:`~depthforge.models.contract.ModelContract` without building a model.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from torch import nn

    from depthforge.models.contract import ModelContract

F = TypeVar("F", bound="Callable[..., nn.Module]")

__all__ = [
    "BuiltinModel",
    "UnknownModelError",
    "create_model",
    "list_models",
    "model_arguments",
    "model_contract",
    "model_from_state_dict",
    "model_test_kwargs",
    "register_model",
]


@dataclass(frozen=True)
class BuiltinModel:
    """One built-in variant: where its factory lives and the kwargs of a small instance for tests."""

    factory: str
    """``"package.module:function"``; imported on first use."""
    test_kwargs: Mapping[str, Any] = field(default_factory=dict)
    """Factory kwargs of a small, fast instance of the same architecture (contract tests)."""


_BUILTIN: dict[str, BuiltinModel] = {
    "semattnet_bb": BuiltinModel("depthforge.models.semattnet.model:semattnet_bb", {"width_mult": 0.0625}),
    "semattnet": BuiltinModel("depthforge.models.semattnet.model:semattnet", {"width_mult": 0.0625}),
    "zoedepth_n": BuiltinModel(
        "depthforge.models.zoedepth.model:zoedepth_n",
        {"embed_dim": 32, "depth": 4, "num_heads": 2, "pretrain_grid": 4, "num_classes": 10,
         "reassemble_channels": [8, 16, 32, 32], "features": 16, "head_features": 8, "n_bins": 8,
         "bin_embedding_dim": 8},
    ),
    "patchrefiner": BuiltinModel(
        "depthforge.models.patchrefiner.model:patchrefiner",
        {"embed_dim": 32, "depth": 4, "num_heads": 2, "pretrain_grid": 4, "num_classes": 10,
         "reassemble_channels": [8, 16, 32, 32], "features": 16, "head_features": 8, "n_bins": 8,
         "bin_embedding_dim": 8, "process_shape": [64, 64]},
    ),
    "patchrefiner_semi": BuiltinModel(
        "depthforge.models.patchrefiner.semi:patchrefiner_semi",
        {"embed_dim": 32, "depth": 4, "num_heads": 2, "pretrain_grid": 4, "num_classes": 10,
         "reassemble_channels": [8, 16, 32, 32], "features": 16, "head_features": 8, "n_bins": 8,
         "bin_embedding_dim": 8, "process_shape": [64, 64]},
    ),
}

# Per family, ``"module:function"`` of ``describe_state_dict(state) -> (name, kwargs) | None``: only a family
# may read meaning into its own key names.
_FAMILIES: dict[str, str] = {
    "semattnet": "depthforge.models.semattnet.checkpoint:describe_state_dict",
    "zoedepth": "depthforge.models.zoedepth.checkpoint:describe_state_dict",
    "patchrefiner": "depthforge.models.patchrefiner.checkpoint:describe_state_dict",
}


@dataclass(frozen=True)
class _UserModel:
    factory: Callable[..., Any]
    test_kwargs: Mapping[str, Any]


_USER: dict[str, _UserModel] = {}


class UnknownModelError(KeyError):
    """No variant of that name (a ``KeyError``; the message suggests the closest name)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def register_model(name: str, *, test_kwargs: Mapping[str, Any] | None = None) -> Callable[[F], F]:
    """Register a factory under ``name``; ``create_model(name, **kw)`` calls it.

    ``test_kwargs``: factory kwargs of a small instance, used by the registry-driven contract tests.
    """

    def deco(fn: F) -> F:
        if name in _BUILTIN or name in _USER:
            raise ValueError(f"model {name!r} is registered twice")
        _USER[name] = _UserModel(fn, dict(test_kwargs or {}))
        return fn

    return deco


def list_models() -> list[str]:
    """Names of every registered model variant (built-in and user)."""
    return sorted({*_BUILTIN, *_USER})


def _import_target(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _unknown(name: str) -> UnknownModelError:
    known = list_models()
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return UnknownModelError(f"unknown model {name!r}{hint} (known: {', '.join(known)})")


def _factory(name: str) -> Callable[..., Any]:
    user = _USER.get(name)
    if user is not None:
        return user.factory
    builtin = _BUILTIN.get(name)
    if builtin is None:
        raise _unknown(name)
    factory = _import_target(builtin.factory)
    if not callable(factory):
        raise TypeError(f"model {name!r}: {builtin.factory} is not callable")
    return factory  # type: ignore[no-any-return]


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build a registered model variant (weights are not loaded; see ``load_checkpoint``)."""
    return _factory(name)(**kwargs)  # type: ignore[no-any-return]


def model_contract(name: str) -> ModelContract:
    """The contract of the class a registered variant builds, without building it.

    Needs the factory attribute ``model_class`` (the built-in factories have it).
    """
    from depthforge.models.contract import contract_of

    factory = _factory(name)
    cls = getattr(factory, "model_class", None)
    if not isinstance(cls, type):
        raise TypeError(
            f"model {name!r}: its factory does not say which class it builds (set the factory's "
            "'model_class' attribute to the nn.Module subclass it returns)"
        )
    return contract_of(cls)


def model_test_kwargs(name: str) -> dict[str, Any]:
    """Factory kwargs of a small instance of ``name`` (empty when none were given)."""
    user = _USER.get(name)
    if user is not None:
        return dict(user.test_kwargs)
    builtin = _BUILTIN.get(name)
    if builtin is None:
        raise _unknown(name)
    return dict(builtin.test_kwargs)


def model_from_state_dict(state: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """``(name, kwargs)`` of a built-in variant that a state dict fits, as its family reads it.

    Each built-in family's ``describe_state_dict`` is asked in turn (importing that family); ``None`` when
    no family recognises the state dict.
    """
    for target in _FAMILIES.values():
        described = _import_target(target)(state)
        if described is not None:
            name, kwargs = described
            return str(name), dict(kwargs)
    return None


def model_arguments(name: str) -> tuple[str, ...] | None:
    """Keyword arguments ``create_model(name, ...)`` accepts (``None``: any, the factory does not say).

    A factory that forwards ``**kwargs`` is read through its ``model_class`` constructor.
    """
    factory = _factory(name)
    names: list[str] = []
    for fn in (factory, getattr(factory, "model_class", None)):
        if fn is None:
            return None
        params = inspect.signature(fn).parameters.values()
        names += [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return tuple(n for n in dict.fromkeys(names) if n != "self")
    return None
