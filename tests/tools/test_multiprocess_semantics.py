"""PatchRefiner's multi-process semantics: each process computes SILog on its own batch and DDP averages the
gradients. So two gloo processes with batch b each (one node, or two "nodes" meeting through a c10d
rendezvous) must end with the weights of one process that accumulates two micro-batches of b.

b = 1: the keyed sampler gives rank r the positions r, r + 2, ..., so one process reading the same order
with accumulation sees the same two samples per optimiser step (with b > 1 the ranks' batches interleave and
the per-batch SILog pools different pixels).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
CONFIG = "configs/patchrefiner_zoedepth/pr_u4k_tiny.py"
# Short and exact: 2 epochs, float64 (a different reduction order then changes nothing visible), validation
# on one image, the coarse model randomly initialised (no previous stage needed).
COMMON = ["--seed", "3", "--debug", "--cfg-options", "model.config.pretrain_coarse_model=None",
          "train_cfg.max_epochs=2", "train_cfg.val_interval=1", "train_cfg.save_checkpoint_interval=2",
          "depthforge.trainer.precision=64-true", "depthforge.data.batch_size=1",
          "depthforge.data.max_val_samples=1", "train_dataloader.batch_size=1"]


def _port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHON": sys.executable, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", **extra}


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoint_02.pth", map_location="cpu", weights_only=True)["model_state_dict"]


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    worst = max(float((a[k].double() - b[k].double()).abs().max()) for k in a)
    assert worst < 1e-9, f"weights differ by up to {worst}"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("ws")
    for name in ("configs", "tools"):
        (ws / name).symlink_to(ROOT / name)
    subprocess.run([sys.executable, "-m", "depthforge", "synth", "u4k", str(ws / "data/u4k"), "--no-progress"],
                   check=True, capture_output=True)
    return ws


@pytest.fixture(scope="module")
def one_process(workspace: Path) -> dict[str, torch.Tensor]:
    res = subprocess.run([sys.executable, "tools/train.py", CONFIG, "--work-dir", "work_dir", "--log-name", "one",
                          *COMMON, "depthforge.trainer.accumulate_grad_batches=2"],
                         cwd=workspace, env=_env(), capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    return _weights(workspace / "work_dir/one")


@pytest.mark.slow
def test_two_gloo_processes_equal_one_process_accumulating_two_micro_batches(
        workspace: Path, one_process: dict[str, torch.Tensor]) -> None:
    res = subprocess.run(["bash", "tools/dist_train.sh", CONFIG, "2", "--work-dir", "work_dir", "--log-name", "two",
                          *COMMON], cwd=workspace, env=_env(MASTER_PORT=_port()), capture_output=True, text=True, check=False,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    _same(one_process, _weights(workspace / "work_dir/two"))


@pytest.mark.slow
def test_two_nodes_with_a_c10d_rendezvous_equal_one_process(workspace: Path,
                                                            one_process: dict[str, torch.Tensor]) -> None:
    env = _env(NNODES="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=_port(), RDZV_ID="two-nodes")
    command = ["bash", "tools/dist_train.sh", CONFIG, "1", "--work-dir", "work_dir", "--log-name", "nodes", *COMMON]
    nodes = [subprocess.Popen(command, cwd=workspace, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [node.communicate(timeout=600) for node in nodes]
    for node, (_, err) in zip(nodes, outs):
        assert node.returncode == 0, err[-3000:]
    _same(one_process, _weights(workspace / "work_dir/nodes"))
