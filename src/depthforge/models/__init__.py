"""Model zoo: generic layers (:mod:`.layers`), the model contract (:mod:`.contract`) and one sub-package per
family (:mod:`.semattnet`).

Nothing is imported here eagerly: :mod:`depthforge.registry` imports a family on first use of one of its
names, so importing a family never depends on the registry and the other way round.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["ModelContract", "SemAttNet", "SemAttNetBackbone", "contract_of"]

_LAZY = {
    "ModelContract": "depthforge.models.contract",
    "contract_of": "depthforge.models.contract",
    "SemAttNet": "depthforge.models.semattnet",
    "SemAttNetBackbone": "depthforge.models.semattnet",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
