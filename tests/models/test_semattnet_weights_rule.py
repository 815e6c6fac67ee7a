"""Synthetic weight rule v1 (a value per state-dict key from a key-seeded generator) against check values
of the reference generator."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import depthforge
from depthforge.testing import fill_state_dict, synthetic_value

from ._semattnet_utils import FIXTURES

CHECK = json.loads((FIXTURES / "semattnet_weights_check_seed1.json").read_text())


@pytest.mark.parametrize("model", ["bb", "sem_att"])
def test_synthetic_values_match_check_values(model):
    base_seed = CHECK["base_seed"]
    for e in CHECK["models"][model]["entries"]:
        if e["kind"] == "untouched":
            continue
        v = synthetic_value(e["key"], e["shape"], base_seed)
        assert v.dtype == torch.float32 and tuple(v.shape) == tuple(e["shape"])
        first = v.flatten()[:3].numpy()
        np.testing.assert_array_equal(first, np.asarray(e["first"], dtype=np.float32), err_msg=e["key"])
        s = float(v.double().sum())
        assert abs(s - e["sum"]) <= 1e-6 * e["sum_abs"], e["key"]
        assert abs(float(v.double().abs().sum()) - e["sum_abs"]) <= 1e-6 * e["sum_abs"], e["key"]


def test_fill_state_dict_writes_params_and_bn_stats_only():
    model = depthforge.create_model("semattnet", width_mult=1 / 16)
    before = {k: t.clone() for k, t in model.state_dict().items()}
    fill_state_dict(model, 1)
    after = model.state_dict()
    for k, t in after.items():
        if k.endswith("num_batches_tracked"):
            assert torch.equal(t, before[k])
        else:
            torch.testing.assert_close(t, synthetic_value(k, t.shape, 1), rtol=0, atol=0)
    # the value depends on the full key string (prefix included)
    a = synthetic_value("rgb_conv_init.0.weight", (4, 4, 5, 5), 1)
    b = synthetic_value("backbone.rgb_conv_init.0.weight", (4, 4, 5, 5), 1)
    assert not torch.equal(a, b)
