"""The PatchRefiner guide's command sequence, verbatim with ``_tiny`` configs, on synthetic data laid out as the
guide shows (``data/u4k``, ``data/cityscapes``, ``work_dir/...``), with one and with two processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]

TRAIN = [
    "configs/patchfusion_zoedepth/zoedepth_coarse_pretrain_u4k_tiny.py {n} --work-dir ./work_dir/zoedepth/u4k --log-name coarse_pretrain",
    "configs/patchrefiner_zoedepth/pr_u4k_tiny.py {n} --work-dir ./work_dir/zoedepth/u4k --log-name pr --tag pr",
    "configs/patchrefiner_zoedepth/coarse_pretrain_cs_tiny.py {n} --work-dir ./work_dir/zoedepth/cs --log-name coarse_pretrain",
    "configs/patchrefiner_zoedepth/pr_cs_tiny.py {n} --work-dir ./work_dir/zoedepth/cs --log-name pr --tag pr",
    "configs/patchrefiner_zoedepth_online_pesudo/pr_ssi_midas_cs_tiny.py {n} --work-dir ./work_dir/zoedepth/cs --log-name ssi_7e-2 --tag pr --cfg-options model.edge_loss_weight=7e-2",
    "configs/patchrefiner_zoedepth_online_pesudo/pr_ranking_cs_tiny.py {n} --work-dir ./work_dir/zoedepth/cs --log-name ranking --tag pr --cfg-options model.edge_loss_weight=1e-3",
]
CHECKPOINTS = ["u4k/coarse_pretrain/checkpoint_24.pth", "u4k/pr/checkpoint_36.pth", "cs/coarse_pretrain/checkpoint_05.pth",
               "cs/pr/checkpoint_05.pth", "cs/ssi_7e-2/checkpoint_02.pth", "cs/ranking/checkpoint_02.pth"]
TEST = [
    "configs/patchrefiner_zoedepth/pr_u4k_tiny.py {n} --ckp-path work_dir/zoedepth/u4k/pr/checkpoint_36.pth --cai-mode {mode} --work-dir work_dir/zoedepth/u4k/pr/vis_{mode} --save",
]
COARSE_TEST = ("configs/patchfusion_zoedepth/zoedepth_coarse_pretrain_u4k_tiny.py 1 --ckp-path "
               "work_dir/zoedepth/u4k/coarse_pretrain/checkpoint_24.pth --work-dir work_dir/zoedepth/u4k/coarse_vis")
CS_TEST = ("configs/patchrefiner_zoedepth/pr_cs_tiny.py {n} --ckp-path work_dir/zoedepth/cs/ssi_7e-2/checkpoint_02.pth "
           "--image-raw-shape 1024 2048 --patch-split-num 4 4 --cai-mode m1 --work-dir ./work_dir/zoedepth/cs/ssi_7e-2/vis --save")


def _port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def _bash(cwd: Path, script: str, args: str) -> str:
    env = {**os.environ, "PYTHON": sys.executable, "MASTER_PORT": _port(), "PYTHONUNBUFFERED": "1"}
    res = subprocess.run(["bash", f"./tools/{script}", *args.split()], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=900, check=False)
    assert res.returncode == 0, f"{script} {args}\n{res.stdout[-2000:]}\n{res.stderr[-4000:]}"
    return res.stdout


@pytest.fixture(scope="module")
def guide_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("guide_data")
    for kind in ("u4k", "cityscapes"):
        subprocess.run([sys.executable, "-m", "depthforge", "synth", kind, str(data / kind), "--no-progress"],
                       check=True, capture_output=True)
    return data


def _workspace(tmp_path: Path, data: Path) -> Path:
    """A folder laid out like the repository root: configs/, tools/, data/."""
    for name in ("configs", "tools"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "data").symlink_to(data)
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("processes", [1, 2])
def test_guide_sequence_with_tiny_configs(guide_data: Path, tmp_path: Path, processes: int) -> None:
    ws = _workspace(tmp_path, guide_data)
    for command in TRAIN:
        _bash(ws, "dist_train.sh", command.format(n=processes))
    for rel in CHECKPOINTS:
        ckpt = torch.load(ws / "work_dir/zoedepth" / rel, map_location="cpu", weights_only=True)
        assert set(ckpt) == {"epoch", "model_state_dict", "optim_state_dict", "schedule_state_dict"}
        assert ckpt["epoch"] + 1 == int(rel[-6:-4])
        keys = list(ckpt["model_state_dict"])
        if "coarse_pretrain" in rel:
            assert "core.core.pretrained.model.cls_token" in keys  # unprefixed ZoeDepth
        else:  # the refiner without the coarse branch (a teacher-student stage saves its student)
            assert not any("coarse_branch." in k for k in keys)
            assert {k.split(".")[0] for k in keys} == {"refiner_fine_branch", "refiner_fusion_model"}
        assert ckpt["schedule_state_dict"]["_anneal_func_type"] == "cos"  # OneCycle's own state
    run = ws / "work_dir/zoedepth/cs/ssi_7e-2"
    assert (run / "config.py").is_file() and (run / "config.yaml").is_file()
    assert (run / "csv" / "metrics.csv").is_file() and any((run / "tensorboard").iterdir())
    assert "edge_loss_weight=0.07" in (run / "config.py").read_text().replace(" ", "")
    for mode in ("m1", "m2", "r32"):
        out = _bash(ws, "dist_test.sh", TEST[0].format(n=processes, mode=mode))
        assert "protocol: mono-zoe" in out and "abs_rel" in out and "2 image(s) scored" in out
        vis = ws / f"work_dir/zoedepth/u4k/pr/vis_{mode}"
        assert len(list(vis.glob("*_uint16.png"))) == 2 and len(list(vis.glob("eval_*.log"))) == 1
        assert len(list(vis.glob("eval_*.csv"))) == 1 and len(list(vis.glob("eval_*.json"))) == 1
    out = _bash(ws, "dist_test.sh", CS_TEST.format(n=processes))
    assert "protocol: cityscapes-pr" in out and "f1_score" in out
    if processes == 1:
        out = _bash(ws, "dist_test.sh", COARSE_TEST)
        assert "protocol: mono-zoe" in out and "2 image(s) scored" in out
        _user_images(ws, guide_data)


def _user_images(ws: Path, data: Path) -> None:
    """The guide's command for the user's own images (single process, r32 on a 2x2 tiling)."""
    examples = ws / "examples"
    examples.mkdir()
    for image in sorted(data.glob("cityscapes/leftImg8bit/val/*/*.png"))[:2]:
        (examples / image.name).symlink_to(image)
    res = subprocess.run(
        [sys.executable, "tools/test.py", "configs/patchrefiner_zoedepth/pr_u4k_tiny.py", "--ckp-path",
         "work_dir/zoedepth/u4k/pr/checkpoint_36.pth", "--cai-mode", "r32", "--cfg-options",
         "general_dataloader.dataset.rgb_image_dir='./examples/'", "--save", "--work-dir", "work_dir/predictions",
         "--test-type", "general", "--image-raw-shape", "1080", "1920", "--patch-split-num", "2", "2"],
        cwd=ws, capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    from depthforge.io import read_depth_png

    outs = sorted((ws / "work_dir/predictions").glob("*_uint16.png"))
    assert len(outs) == 2 and read_depth_png(outs[0]).shape == (1080, 1920)
