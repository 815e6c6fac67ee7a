"""Shared helpers of the PatchRefiner tests: the reduced model and the committed key list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from depthforge.models.patchrefiner import PatchRefiner, patchrefiner
from depthforge.registry import model_test_kwargs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
KEY_LIST = FIXTURES / "patchrefiner_state_dict_keys.txt"


def key_list() -> list[tuple[str, tuple[int, ...], str]]:
    """``(key, shape, dtype)`` of the reference PatchRefiner state dict, in order."""
    rows = []
    for line in KEY_LIST.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, shape, dtype = line.split("\t")
        rows.append((key, tuple(int(s) for s in shape.strip("()").split(",") if s.strip()), dtype.strip()))
    return rows


def small_model(**overrides: Any) -> PatchRefiner:
    """The registry's reduced variant (tiny ZoeDepth branches, process shape 64 x 64 unless overridden)."""
    kwargs = model_test_kwargs("patchrefiner")
    kwargs.update(overrides)
    torch.manual_seed(0)
    model = patchrefiner(**kwargs)
    # distinct fine-branch weights, so that tests see which branch a value comes from
    with torch.no_grad():
        for p in model.refiner_fine_branch.parameters():
            p.add_(0.01 * torch.randn_like(p))
    return model.eval()
