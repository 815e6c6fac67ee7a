"""A full-size file in the layout of the released ``model_best_backup.pth.tar``, built from the
reference state_dict key list with the same pickled extras, loads through every entry point."""

from __future__ import annotations

import argparse
import gc
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from depthforge import create_model
from depthforge.checkpoint import load_checkpoint, read_checkpoint
from depthforge.cli import main as depthforge_main
from depthforge.cli.reference import main as reference_main
from depthforge.synth import write_kitti

KEYS = Path(__file__).resolve().parents[1] / "fixtures" / "semattnet_state_dict_keys.txt"


def reference_state_dict(model: str) -> dict[str, torch.Tensor]:
    """Tensors of the listed shapes and dtypes for one model section of the key list."""
    state: dict[str, torch.Tensor] = {}
    section = None
    g = torch.Generator().manual_seed(0)
    for line in KEYS.read_text().splitlines():
        if line.startswith("## MODEL"):
            section = line.split()[2]
            continue
        if section != model or not line or line.startswith("#"):
            continue
        key, shape, dtype, _ = line.split("\t")
        dims = tuple(int(s) for s in shape.strip("()").split(",") if s.strip())
        if dtype == "int64":
            state[key] = torch.zeros(dims, dtype=torch.int64)
        elif key.endswith("running_var"):
            state[key] = torch.ones(dims)
        else:
            state[key] = torch.randn(dims, generator=g) * 0.01
    return state


@pytest.fixture(scope="module")
def official(tmp_path_factory: pytest.TempPathFactory) -> Path:
    metrics = types.ModuleType("metrics")

    class Result:
        pass

    Result.__module__, Result.__qualname__ = "metrics", "Result"
    metrics.Result = Result  # type: ignore[attr-defined]
    sys.modules["metrics"] = metrics
    path = tmp_path_factory.mktemp("official") / "model_best_backup.pth.tar"
    try:
        best = Result()
        best.rmse, best.mae = 709.41, 205.49
        args = argparse.Namespace(network_model="sem_att", lr=0.025298, batch_size=16)
        torch.save({"epoch": 94, "model": reference_state_dict("sem_att"), "best_result": best,
                    "optimizer": {"state": {}, "param_groups": []}, "args": args}, path)
    finally:
        del sys.modules["metrics"]
    gc.collect()
    return path


@pytest.mark.slow
def test_official_layout_loads_everywhere(official: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ckpt = read_checkpoint(official)
    assert ckpt["epoch"] == 94 and ckpt["best_result"].rmse == pytest.approx(709.41)
    model = create_model("semattnet")
    info = load_checkpoint(model, official)
    assert info["layout"] == "sem_att" and info["loaded"] == 734
    assert torch.equal(model.state_dict()["kernel_conf_layer.0.weight"], ckpt["model"]["kernel_conf_layer.0.weight"])
    del model, ckpt
    gc.collect()

    monkeypatch.chdir(tmp_path)
    data = write_kitti(tmp_path / "data", drives=1, frames=1, val_drives=1, n_val_select=1, n_test=1, progress=False)
    flags = ["--data-folder", str(data.depth_root), "--data-folder-rgb", str(data.rgb_root),
             "--data-semantic", str(data.semantic_root), "--cpu", "--cfg-options", "data.val_workers=0"]
    # main.py -e (evaluation), -e --test (submission) and --resume (weights + epoch counter).
    assert reference_main(["-n", "sem_att", "-e", str(official), *flags]) == 0
    assert reference_main(["-n", "sem_att", "-e", str(official), "--test", "--test-save", "subm", *flags]) == 0
    assert len(list((tmp_path / "subm").glob("*.png"))) == 1
    assert reference_main(["-n", "sem_att", "--resume", str(official), "--epochs", "95", *flags,
                           "logging.tensorboard=false", "trainer.progress_bar=false"]) == 0

    # depthforge predict on an image of another size.
    rng = np.random.default_rng(0)
    for name in ("rgb", "sem"):
        Image.fromarray(rng.integers(0, 255, (70, 100, 3), dtype=np.uint8)).save(tmp_path / f"{name}.png")
    sparse = np.where(rng.random((70, 100)) < 0.05, rng.uniform(2, 60, (70, 100)), 0.0)
    Image.fromarray((sparse * 256).astype(np.uint16)).save(tmp_path / "sparse.png")
    assert depthforge_main(["predict", "--ckpt", str(official), "--rgb", "rgb.png", "--semantic", "sem.png",
                            "--sparse", "sparse.png", "--out", "pred"]) == 0
    assert np.load(tmp_path / "pred" / "rgb.npy").shape == (70, 100)
