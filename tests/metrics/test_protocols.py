"""Protocols are the single source of keys, units, direction and NaN policy; Scorer is the one evaluator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from depthforge.engine.evaluation import Scorer
from depthforge.errors import ConfigError, DataError
from depthforge.metrics import MetricAverager
from depthforge.metrics.mono import get_boundaries
from depthforge.metrics.protocols import HIGHER_IS_BETTER, PROTOCOLS, direction, get_protocol


def _scene(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    gt = np.full((48, 64), 12.0, np.float32)
    gt[10:30, 20:40] = 5.0
    pred = (gt * rng.uniform(0.9, 1.1, gt.shape)).astype(np.float32)
    return pred, gt


def _extras(name: str, gt: np.ndarray) -> dict[str, np.ndarray]:
    extras = {
        "seg_color": np.zeros((*gt.shape, 3), np.uint8),
        "image": np.zeros((*gt.shape, 3), np.float32),
        "gt_edges": get_boundaries(gt, th=1.0) > 0,
        "boundary": get_boundaries(gt, th=1.0),
    }
    return {k: v for k, v in extras.items() if k in PROTOCOLS[name].needs or k == "boundary"}


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_every_protocol_scores_its_declared_keys(name: str) -> None:
    proto = get_protocol(name)
    pred, gt = _scene()
    metrics = proto.score(pred, gt, **_extras(name, gt))
    assert set(proto.keys) <= set(metrics), set(proto.keys) - set(metrics)
    assert all(isinstance(v, float) for v in metrics.values())
    # The table carries every key with its unit, in the declared order.
    table = proto.format_table({"m": metrics})
    header = table.splitlines()[0]
    positions = [header.index(proto.header(k)) for k in proto.keys]
    assert positions == sorted(positions)


def test_missing_extra_is_a_one_line_error() -> None:
    pred, gt = _scene()
    with pytest.raises(DataError, match="protocol mdec needs gt_edges"):
        get_protocol("mdec").score(pred, gt)
    with pytest.raises(ConfigError, match="did you mean 'mono-zoe'"):
        get_protocol("mono-zo")


def test_directions_come_from_one_table() -> None:
    assert direction("val/rmse") == "min" and direction("delta1") == "max"
    assert direction("EdgeAcc") == "min" and direction("boundary_f1") == "max"
    keys = {k for p in PROTOCOLS.values() for k in p.keys}
    assert HIGHER_IS_BETTER <= keys  # no stale entries


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_averager_follows_the_protocol_nan_policy(name: str) -> None:
    avg = MetricAverager.for_protocol(name)
    assert avg.nan_policy == PROTOCOLS[name].nan_policy
    for v in (1.0, math.nan, 3.0):
        avg.update({"x": v})
    mean = avg.compute()["x"]
    assert (mean == 2.0) if PROTOCOLS[name].nan_policy == "omit" else math.isnan(mean)


def test_scorer_reduction_equals_one_process() -> None:
    images = [_scene(i) for i in range(5)]
    whole = Scorer("kitti-penet")
    for p, g in images:
        whole.add(p, g)
    shards = [Scorer("kitti-penet"), Scorer("kitti-penet")]
    for i, (p, g) in enumerate(images):
        shards[i % 2].add(p, g)
    # What an all-reduce (sum) returns on every process, computed here from both shards' states.
    keys = get_protocol("kitti-penet").keys
    states = []
    for s in shards:
        _, sums, counts = s.averager.state(keys)
        states.append(np.concatenate([sums.numpy(), counts.numpy(), [s.n_images]]))
    total = sum(states)
    import torch

    reduced = shards[0].compute(lambda t: torch.as_tensor(total, dtype=torch.float64), keys)
    expected = whole.compute()
    assert reduced["n_images"] == 5
    for k in keys:
        assert reduced[k] == pytest.approx(expected[k], rel=1e-12)


def test_scorer_keeps_rows_and_names() -> None:
    scorer = Scorer("mono-zoe", keep_rows=True)
    pred, gt = _scene()
    scorer.add(pred, gt, "a")
    scorer.add(pred[::2, ::2], gt, "b")  # mono-zoe resizes the prediction to the ground truth
    assert [r["name"] for r in scorer.rows] == ["a", "b"]
    assert scorer.compute()["n_images"] == 2


def test_table_explains_inf_and_nan() -> None:
    proto = get_protocol("kitti-penet")
    plain = proto.format_table({"a": dict.fromkeys(proto.keys, 1.0)})
    assert "inf:" not in plain and "nan:" not in plain
    odd = proto.format_table({"a": {**dict.fromkeys(proto.keys, 1.0), "irmse": math.inf, "silog": math.nan}})
    assert "inf: a prediction of 0" in odd and "nan: no valid ground-truth pixel" in odd
