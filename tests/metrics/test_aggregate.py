"""MetricAverager: per-image means, NaN policies and DDP-style reduction."""

from __future__ import annotations

import math

import pytest

from depthforge.errors import DataError
from depthforge.metrics import MetricAverager


def test_nanmean_and_plain_mean():
    omit = MetricAverager.for_protocol("mono-zoe")
    prop = MetricAverager.for_protocol("kitti-penet")
    for v in (1.0, float("nan"), 3.0):
        omit.update({"rmse": v})
        prop.update({"rmse": v})
    assert omit.compute()["rmse"] == 2.0
    assert math.isnan(prop.compute()["rmse"])


def test_state_reduction_equals_single_process():
    full, a, b = MetricAverager(), MetricAverager(), MetricAverager()
    vals = [{"x": float(i), "y": i * 2.0} for i in range(7)]
    for i, v in enumerate(vals):
        full.update(v)
        (a if i % 2 else b).update(v)
    keys, s1, c1 = a.state()
    _, s2, c2 = b.state()
    reduced = MetricAverager()
    reduced.load_state(keys, s1 + s2, c1 + c2)  # what all_reduce(SUM) gives every rank
    assert reduced.compute() == pytest.approx(full.compute())
    a.merge(b)
    assert a.compute() == pytest.approx(full.compute())
    assert len(full) == 7


def test_bad_policy_and_state():
    with pytest.raises(DataError):
        MetricAverager("median")  # type: ignore[arg-type]
    import torch
    with pytest.raises(DataError):
        MetricAverager().load_state(["a"], torch.zeros(2), torch.zeros(2))


def test_state_with_fixed_keys_has_the_same_layout_on_every_process() -> None:
    from depthforge.metrics import MetricAverager

    empty = MetricAverager("propagate")  # a process that scored no image
    busy = MetricAverager("propagate")
    busy.update({"rmse": 2.0, "mae": 1.0})
    keys = ("mae", "rmse", "delta1")
    k0, s0, c0 = empty.state(keys)
    k1, s1, c1 = busy.state(keys)
    assert k0 == k1 == list(keys) and s0.shape == s1.shape == (3,)
    assert s0.tolist() == [0.0, 0.0, 0.0] and s1.tolist() == [1.0, 2.0, 0.0] and c1.tolist() == [1.0, 1.0, 0.0]
    empty.load_state(k0, s0 + s1, c0 + c1)
    merged = empty.compute()
    assert merged["rmse"] == 2.0 and merged["delta1"] != merged["delta1"]  # never seen -> NaN
