"""``depthforge predict`` on user data of an arbitrary size, outside the KITTI tree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from depthforge import create_model
from depthforge.checkpoint import save_checkpoint
from depthforge.cli import main
from depthforge.inference.completion import CompletionPredictor


def _inputs(folder: Path, stem: str, h: int, w: int, rng: np.random.Generator) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("rgb", "sem", "sparse"):
        (folder / sub).mkdir(exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(folder / "rgb" / f"{stem}.png")
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(folder / "sem" / f"{stem}.png")
    sparse = np.where(rng.random((h, w)) < 0.05, rng.uniform(2, 60, (h, w)), 0.0)
    Image.fromarray((sparse * 256).astype(np.uint16)).save(folder / "sparse" / f"{stem}.png")


@pytest.fixture
def ckpt(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = create_model("semattnet_bb", width_mult=0.0625)
    path = tmp_path / "bb.pth.tar"
    save_checkpoint({"epoch": 3, "model": model.state_dict()}, path)
    return path


def test_predict_folder_at_any_size(tmp_path: Path, ckpt: Path) -> None:
    rng = np.random.default_rng(0)
    _inputs(tmp_path / "in", "a", 100, 150, rng)  # not a multiple of 32
    _inputs(tmp_path / "in", "b", 64, 96, rng)
    args = ["predict", "--ckpt", str(ckpt), "--rgb", str(tmp_path / "in/rgb"), "--sparse",
            str(tmp_path / "in/sparse"), "--semantic", str(tmp_path / "in/sem"), "--out", str(tmp_path / "out")]
    assert main(args) == 0
    png = np.asarray(Image.open(tmp_path / "out" / "a.png"))
    npy = np.load(tmp_path / "out" / "a.npy")
    assert png.dtype == np.uint16 and png.shape == (100, 150) and npy.shape == (100, 150)
    assert np.asarray(Image.open(tmp_path / "out" / "a_color.png")).shape == (100, 150, 3)
    assert np.load(tmp_path / "out" / "b.npy").shape == (64, 96)
    # Same numbers as the Python API (padding to a multiple of 32, then cropping back).
    pred = CompletionPredictor.from_checkpoint(ckpt)
    rgb = np.asarray(Image.open(tmp_path / "in/rgb/a.png"))
    sem = np.asarray(Image.open(tmp_path / "in/sem/a.png"))
    sparse = np.asarray(Image.open(tmp_path / "in/sparse/a.png")).astype(np.float32) / 256
    np.testing.assert_allclose(pred.predict(rgb, sem, sparse), npy, atol=1e-5)


def test_predict_reports_missing_pairs(tmp_path: Path, ckpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(1)
    _inputs(tmp_path / "in", "a", 64, 64, rng)
    (tmp_path / "in/sem/a.png").unlink()
    args = ["predict", "--ckpt", str(ckpt), "--rgb", str(tmp_path / "in/rgb"), "--sparse",
            str(tmp_path / "in/sparse"), "--semantic", str(tmp_path / "in/sem"), "--out", str(tmp_path / "out")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "semantic" in err and len(err.splitlines()) == 1
