"""Evaluation loads what the checkpoint holds, and never evaluates a half-random model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from depthforge.config import build_config
from depthforge.engine.evaluation import load_model
from depthforge.errors import CheckpointError
from depthforge.registry import create_model


def _cfg(name: str, width: float):
    return build_config({"model": {"name": name, "kwargs": {"width_mult": width}},
                         "trainer": {"accelerator": "cpu"}})


def test_backbone_checkpoint_with_a_full_model_config_is_refused(tmp_path: Path) -> None:
    ckpt = tmp_path / "bb.pth.tar"
    torch.save({"epoch": 1, "model": create_model("semattnet_bb", width_mult=0.0625).state_dict()}, ckpt)
    with pytest.raises(CheckpointError, match=r"holds a semattnet_bb model, which fills only the backbone"):
        load_model(_cfg("semattnet", 0.0625), ckpt)


def test_the_checkpoint_width_wins_over_the_config(tmp_path: Path) -> None:
    torch.manual_seed(0)
    trained = create_model("semattnet_bb", width_mult=0.0625)
    ckpt = tmp_path / "bb.pth.tar"
    torch.save({"epoch": 1, "model": trained.state_dict()}, ckpt)
    model = load_model(_cfg("semattnet_bb", 1.0), ckpt)  # the shipped config's width
    assert not model.training
    for key, value in trained.state_dict().items():
        assert torch.equal(model.state_dict()[key], value)
