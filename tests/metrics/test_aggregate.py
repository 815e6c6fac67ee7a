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
