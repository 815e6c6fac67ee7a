"""Activation checkpointing that a layer can detect, so that recomputation has no side effects.

A checkpointed segment runs its forward twice in a training step: once normally and once more during
backward to rebuild the activations. Layers with state (BatchNorm running statistics) must update that state
only in the first pass; :func:`is_recomputing` tells them which pass they are in.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from torch.utils.checkpoint import checkpoint as _torch_checkpoint

__all__ = ["checkpointed", "is_recomputing"]

_STATE = threading.local()


def is_recomputing() -> bool:
    """True while a checkpointed segment is being recomputed for backward (in this thread)."""
    return getattr(_STATE, "recomputing", 0) > 0


@contextlib.contextmanager
def _recompute_ctx() -> Iterator[None]:
    _STATE.recomputing = getattr(_STATE, "recomputing", 0) + 1
    try:
        yield
    finally:
        _STATE.recomputing -= 1


def _context_fn() -> tuple[contextlib.AbstractContextManager[Any], contextlib.AbstractContextManager[Any]]:
    # (forward context, recomputation context)
    return contextlib.nullcontext(), _recompute_ctx()


def checkpointed(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` under non-reentrant activation checkpointing (only the inputs are kept for backward).

    Layers that consult :func:`is_recomputing` (:class:`~depthforge.models.layers.BatchNorm2d`,
    :class:`~depthforge.models.layers.ProcessSyncBatchNorm`) leave their running statistics alone during the
    recomputation, so a checkpointed training step has exactly the effect of a plain one.
    """
    return _torch_checkpoint(fn, *args, use_reentrant=False, context_fn=_context_fn)
