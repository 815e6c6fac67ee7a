"""Shared helpers for the SemAttNet tests."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import torch

import depthforge
from depthforge.testing import fill_state_dict

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@lru_cache(maxsize=1)
def reference_keys() -> dict[str, dict[str, tuple[tuple[int, ...], str, str]]]:
    """``{'bb': {key: (shape, dtype, kind)}, 'sem_att': {...}}`` from semattnet_state_dict_keys.txt."""
    sections: dict[str, dict[str, tuple[tuple[int, ...], str, str]]] = {}
    cur = None
    for line in (FIXTURES / "semattnet_state_dict_keys.txt").read_text().splitlines():
        if line.startswith("## MODEL"):
            cur = line.split()[2]
            sections[cur] = {}
            continue
        if not line.strip() or line.startswith("#"):
            continue
        key, shape, dtype, kind = line.split("\t")
        assert cur is not None
        sections[cur][key] = (tuple(int(x) for x in re.findall(r"\d+", shape)), dtype, kind)
    return sections


def build_filled(
    name: str, base_seed: int = 1, dtype: torch.dtype = torch.float32, **kwargs
) -> torch.nn.Module:
    """Full-size model with synthetic weights, built without the (slow) default initialisation.

    The synthetic float32 values are cast exactly to ``dtype`` (float64 runs of the fixtures).
    """
    with torch.device("meta"):
        model = depthforge.create_model(name, **kwargs).to(dtype)
    model = model.to_empty(device="cpu")
    fill_state_dict(model, base_seed)
    # buffers the rule does not write (num_batches_tracked) must hold their architectural value
    for key, buf in model.state_dict().items():
        if key.endswith("num_batches_tracked"):
            buf.zero_()
    return model.eval()


def random_batch(b: int, h: int, w: int, seed: int = 0, density: float = 0.05) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    rgb = torch.randint(0, 256, (b, 3, h, w), generator=g).float()
    sem = torch.randint(0, 256, (b, 3, h, w), generator=g).float()
    valid = torch.rand(b, 1, h, w, generator=g) < density
    d = torch.where(valid, 1 + 79 * torch.rand(b, 1, h, w, generator=g), torch.zeros(b, 1, h, w))
    return {"image": rgb, "sparse": d, "semantic": sem}
