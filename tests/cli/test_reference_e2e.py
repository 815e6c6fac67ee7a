"""The guide's three stages, evaluation and test submission through ``main.py`` on synthetic KITTI data."""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from depthforge import create_model
from depthforge.cli.reference import main
from depthforge.io import check_submission
from depthforge.synth import write_kitti

TINY = ["--cfg-options", "model.kwargs.width_mult=0.0625", "data.val_workers=0", "trainer.progress_bar=false",
        "logging.tensorboard=false"]


@pytest.fixture(scope="module")
def kitti(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("ref_kitti")
    return write_kitti(out, drives=1, frames=1, seed=5, val_drives=1, n_val_select=2, n_test=2, progress=False)


def data_args(info) -> list[str]:
    return ["--data-folder", str(info.depth_root), "--data-folder-rgb", str(info.rgb_root),
            "--data-semantic", str(info.semantic_root)]


def only_run_dir(root: Path) -> Path:
    runs = [p for p in root.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def fake_official_checkpoint(path: Path, model_name: str, epoch: int) -> None:
    """A file shaped like the released ``model_best_backup.pth.tar``: pickled Result and Namespace."""
    metrics = types.ModuleType("metrics")

    class Result:  # pickled by reference as metrics.Result
        pass

    Result.__module__ = "metrics"
    Result.__qualname__ = "Result"
    metrics.Result = Result  # type: ignore[attr-defined]
    sys.modules["metrics"] = metrics
    try:
        best = Result()
        best.rmse = 709.41
        model = create_model(model_name, width_mult=0.0625)
        torch.save({"epoch": epoch, "model": model.state_dict(), "best_result": best,
                    "optimizer": {}, "args": argparse.Namespace(network_model="sem_att")}, path)
    finally:
        del sys.modules["metrics"]


@pytest.mark.slow
def test_guide_stages_evaluate_and_submit(kitti, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    base = [*data_args(kitti), "--workers", "0", "--cpu", "-he", "64", "-w", "128"]
    # Stage 1: backbone.
    assert main(["-n", "bb", "-b", "2", *base, "--patience", "4", "--epochs", "1", "--s_p", "bb", *TINY]) == 0
    bb_dir = only_run_dir(tmp_path / "training_logs" / "bb")
    for name in ("train.csv", "val.csv", "best.txt", "checkpoint-0.pth.tar", "model_best.pth.tar"):
        assert (bb_dir / name).is_file(), name
    # Stage 2: CSPN++ initialisation from the backbone, frozen; epoch numbering continues.
    assert main(["-n", "sem_att", "-b", "2", *base, "--patience", "8", "-f", "--resume",
                 str(bb_dir / "model_best.pth.tar"), "--epochs", "2", "--s_p", "init", *TINY]) == 0
    init_dir = only_run_dir(tmp_path / "training_logs" / "init")
    assert (init_dir / "checkpoint-1.pth.tar").is_file()
    ckpt = torch.load(init_dir / "checkpoint-1.pth.tar", weights_only=True)
    bb = torch.load(bb_dir / "model_best.pth.tar", weights_only=True)["model"]
    key = "rgb_conv_init.0.weight"
    assert torch.equal(ckpt["model"][f"backbone.{key}"], bb[key])  # frozen backbone came from stage 1
    # Stage 3: full model without -f from a sem_att checkpoint.
    assert main(["-n", "sem_att", "-b", "2", "--lr", "0.025298", *base, "--patience", "3", "--resume",
                 str(init_dir / "checkpoint-1.pth.tar"), "--epochs", "3", "--s_p", "full", *TINY]) == 0
    # A backbone checkpoint without -f is refused instead of silently loading nothing.
    assert main(["-n", "sem_att", *base, "--resume", str(bb_dir / "model_best.pth.tar"), *TINY]) == 2

    # Evaluation of an official-format file, with per-image pictures.
    official = tmp_path / "model_best_backup.pth.tar"
    fake_official_checkpoint(official, "semattnet", epoch=94)
    assert main(["-n", "sem_att", "-e", str(official), *base, "--val_results", "vis", *TINY]) == 0
    pictures = sorted((tmp_path / "vis").glob("*.png"))
    assert [p.name for p in pictures] == ["0000000000.png", "0000000001.png"]

    # KITTI test submission: 16-bit PNGs named 0000000000.png..., input size, flat zip.
    assert main(["-n", "sem_att", "-e", str(official), "--test", "--test-save", "subm", *base, *TINY]) == 0
    files = sorted((tmp_path / "subm").glob("*.png"))
    assert [p.name for p in files] == ["0000000000.png", "0000000001.png"]
    img = np.asarray(Image.open(files[0]))
    assert img.dtype == np.uint16 and img.shape == (352, 1216) and img.min() >= 1
    assert check_submission(tmp_path / "subm.zip", expected_count=2) == []
