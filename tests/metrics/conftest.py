"""Shared helpers for the metric tests: fixture loading relative to this file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _load_case(name: str) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays and JSON description of a metrics fixture (e.g. ``metrics_kitti_result``)."""
    with np.load(FIXTURES / f"{name}.npz") as z:
        arrays = {k: z[k] for k in z.files}
    return arrays, json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def load_case():
    """The fixture loader ``name -> (arrays, json)``."""
    return _load_case


@pytest.fixture(scope="module")
def synthetic_4_4() -> dict[str, np.ndarray]:
    """The 60x80 two-plane-plus-square scene of evaluation.md section 4.4."""
    gt = np.full((60, 80), 10, np.float32)
    gt[:, 40:] = 20
    gt[20:40, 10:30] = 5
    pred = np.full((60, 80), 10.5, np.float32)
    pred[:, 42:] = 21
    pred[20:40, 12:32] = 5.25
    valid = np.ones((60, 80), bool)
    valid[-5:] = False
    return {"gt": gt, "pred": pred, "valid": valid}
