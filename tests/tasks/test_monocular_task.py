"""The monocular task: SILog training loss, protocols, monitor, pictures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from depthforge.batch import GT, IMAGE, VALID
from depthforge.config import build_config
from depthforge.errors import ConfigError
from depthforge.losses import silog_loss
from depthforge.registry import model_contract, model_test_kwargs
from depthforge.tasks import get_task, list_tasks
from depthforge.tasks.base import build_task


def _task(loss: dict | None = None, protocol: str = ""):
    cfg = build_config({"model": {"name": "zoedepth_n", "kwargs": model_test_kwargs("zoedepth_n")},
                        "task": {"loss": loss or {}}, "eval": {"protocol": protocol}})
    return build_task(cfg, model_contract("zoedepth_n"))


def test_registered_and_declared_by_zoedepth() -> None:
    assert "monocular" in list_tasks()
    task = _task()
    assert type(task) is get_task("monocular")
    assert task.protocol.name == "mono-zoe" and task.monitor == "val/abs_rel"
    assert _task(protocol="depthpro-boundary").protocol.name == "depthpro-boundary"
    with pytest.raises(ConfigError):
        _task(protocol="kitti-penet")


def test_training_loss_is_silog_with_the_configured_range_and_valid_mask() -> None:
    task = _task({"min_depth": 0.5, "max_depth": 10.0})
    g = torch.Generator().manual_seed(0)
    pred = 0.5 + 5 * torch.rand(2, 1, 8, 8, generator=g)
    gt = 20 * torch.rand(2, 1, 16, 16, generator=g)
    valid = torch.rand(2, 1, 16, 16, generator=g) < 0.5
    batch = {IMAGE: torch.rand(2, 3, 16, 16), GT: gt}
    loss = task.training_loss({"depth": pred}, batch, 0, lambda c: c)
    assert torch.allclose(loss, silog_loss(pred, gt, 0.5, 10.0))
    masked = task.training_loss({"depth": pred}, {**batch, VALID: valid}, 0, lambda c: c)
    assert torch.allclose(masked, silog_loss(pred, gt, 0.5, 10.0, valid))
    assert not torch.allclose(loss, masked)


def test_bad_depth_range_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        _task({"min_depth": 5.0, "max_depth": 1.0})


def test_picture_and_visualisation() -> None:
    task = _task()
    batch = {IMAGE: torch.rand(2, 3, 16, 24), GT: 5 * torch.rand(2, 1, 16, 24)}
    pred = 5 * torch.rand(2, 1, 16, 24)
    sample = task.picture(batch, pred, 1)
    assert sample[IMAGE].dtype == np.uint8 and sample[IMAGE].shape == (16, 24, 3)
    assert np.array_equal(sample["pred"], pred[1, 0].numpy())
    picture = task.visualise(sample)
    assert picture.dtype == np.uint8 and picture.shape == (48, 24, 3)
