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
    low = CompletionPredictor.from_checkpoint(ckpt, precision="bf16-mixed").predict(rgb, sem, sparse)
    assert low.dtype == np.float32 and low.shape == npy.shape
    assert 0 < np.abs(low - npy).max() < 0.05 * np.abs(npy).max()  # run in 16 bits, and still close


def test_predict_reports_missing_pairs(tmp_path: Path, ckpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(1)
    _inputs(tmp_path / "in", "a", 64, 64, rng)
    (tmp_path / "in/sem/a.png").unlink()
    args = ["predict", "--ckpt", str(ckpt), "--rgb", str(tmp_path / "in/rgb"), "--sparse",
            str(tmp_path / "in/sparse"), "--semantic", str(tmp_path / "in/sem"), "--out", str(tmp_path / "out")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "semantic" in err and len(err.splitlines()) == 1


def test_predict_then_eval_on_kitti_val_selection(tmp_path: Path, ckpt: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """KITTI's val_selection_cropped names each folder's files after the folder; predict pairs them, and eval
    scores predict's own output folder (the .npy beside each .png, previews ignored)."""
    import importlib.util
    import sys

    path = Path(__file__).parents[1] / "data" / "kitti_tree.py"
    spec = importlib.util.spec_from_file_location("_kitti_tree_for_round_trip", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    tree = module.build_kitti(tmp_path / "kitti")
    vs = tree.selection / "val_selection_cropped"
    out = tmp_path / "pred"
    assert main(["predict", "--ckpt", str(ckpt), "--rgb", str(vs / "image"), "--sparse", str(vs / "velodyne_raw"),
                 "--semantic", str(vs / "semantic"), "--out", str(out)]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert any(n.endswith("_image_0000000005_image_02.npy") for n in written)
    assert any(n.endswith("_color.png") for n in written)
    capsys.readouterr()
    assert main(["eval", "--dataset", "kitti", "--pred", str(out), "--gt", str(vs / "groundtruth_depth")]) == 0
    assert "rmse" in capsys.readouterr().out
