"""Inference precision, named as the engine's ``trainer.precision`` (Lightning's names).

``32-true`` runs in float32, the reference's precision and the one its numbers hold in. ``bf16-mixed`` and
``16-mixed`` run under ``torch.autocast``: matrix products and convolutions in 16 bits, reductions such as
softmax and normalisation in float32, outputs cast back to float32 by the caller. On CPUs with AMX or
AVX512-BF16, ``bf16-mixed`` is the fast one; elsewhere it can be slower than float32.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch

PRECISIONS: dict[str, torch.dtype | None] = {"32-true": None, "bf16-mixed": torch.bfloat16,
                                             "16-mixed": torch.float16}


def check_precision(precision: str) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`, else a ``ValueError`` that lists them."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    return precision


def autocast(device: torch.device | str, precision: str) -> AbstractContextManager[object]:
    """The context that runs a model at ``precision`` on ``device`` (nothing to do for ``32-true``)."""
    dtype = PRECISIONS[check_precision(precision)]
    if dtype is None:
        return nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype)


__all__ = ["PRECISIONS", "autocast", "check_precision"]
