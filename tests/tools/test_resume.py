"""``tools/train.py --resume`` continues exactly: a run killed with SIGKILL inside its second epoch and resumed
ends with the weights, the AdamW state and the OneCycle position of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
CONFIG = "configs/patchrefiner_zoedepth/pr_u4k_tiny.py"
STEPS_PER_EPOCH = 4  # 4 samples, batch 1
COMMON = ["--work-dir", "work_dir", "--debug", "--cfg-options", "model.config.pretrain_coarse_model=None",
          "train_cfg.max_epochs=3", "train_cfg.save_checkpoint_interval=3", "train_cfg.val_interval=1",
          "train_dataloader.batch_size=1", "depthforge.data.max_train_samples=4", "depthforge.data.max_val_samples=1",
          "depthforge.checkpoint.every_n_train_steps=1"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}


def _train(ws: Path, name: str, *extra: str) -> None:
    res = subprocess.run([sys.executable, "tools/train.py", CONFIG, "--log-name", name, *extra, *COMMON],
                         cwd=ws, env=_env(), capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-3000:]


@pytest.mark.slow
def test_kill_9_then_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    for name in ("configs", "tools"):
        (tmp_path / name).symlink_to(ROOT / name)
    subprocess.run([sys.executable, "-m", "depthforge", "synth", "u4k", str(tmp_path / "data/u4k"), "--no-progress"],
                   check=True, capture_output=True)
    _train(tmp_path, "whole")

    last = tmp_path / "work_dir/cut/checkpoints/last.ckpt"
    proc = subprocess.Popen([sys.executable, "tools/train.py", CONFIG, "--log-name", "cut", *COMMON], cwd=tmp_path,
                            env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed_at = None
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if last.exists():
            try:
                step = torch.load(last, map_location="cpu", weights_only=True)["global_step"]
            except (EOFError, RuntimeError):  # never a partial file, but it may be replaced while we read
                continue
            if step > STEPS_PER_EPOCH and step % STEPS_PER_EPOCH:
                proc.send_signal(signal.SIGKILL)
                killed_at = step
                break
        time.sleep(0.02)
    proc.wait()
    assert killed_at is not None, "the run ended before it could be killed inside its second epoch"
    assert not (tmp_path / "work_dir/cut/checkpoint_03.pth").exists()
    _train(tmp_path, "cut", "--resume")

    whole = torch.load(tmp_path / "work_dir/whole/checkpoint_03.pth", map_location="cpu", weights_only=True)
    cut = torch.load(tmp_path / "work_dir/cut/checkpoint_03.pth", map_location="cpu", weights_only=True)
    assert whole["schedule_state_dict"] == cut["schedule_state_dict"]  # OneCycle's position and learning rates
    assert whole["schedule_state_dict"]["last_epoch"] == 3 * STEPS_PER_EPOCH
    for key, value in whole["model_state_dict"].items():
        torch.testing.assert_close(cut["model_state_dict"][key], value, rtol=0, atol=1e-6)
    for a, b in zip(whole["optim_state_dict"]["state"].values(), cut["optim_state_dict"]["state"].values()):
        torch.testing.assert_close(b["exp_avg_sq"], a["exp_avg_sq"], rtol=1e-5, atol=1e-12)
    assert [g["betas"] for g in whole["optim_state_dict"]["param_groups"]] == \
        [g["betas"] for g in cut["optim_state_dict"]["param_groups"]]  # beta1 cycled by OneCycle
