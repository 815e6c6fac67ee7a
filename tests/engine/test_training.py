from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from depthforge.config import build_config
from depthforge.tasks.completion import CSV_COLUMNS
from depthforge.engine.runner import build_module, train

from .conftest import tiny_config, write_config

CLI = [sys.executable, "-m", "depthforge"]


def _weights(ckpt: Path) -> dict[str, torch.Tensor]:
    state = torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]
    return {k: v for k, v in state.items() if v.is_floating_point()}


def _assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], atol: float) -> None:
    assert a.keys() == b.keys()
    worst = max((x - b[k]).abs().max().item() for k, x in a.items())
    assert worst <= atol, f"weights differ by up to {worst}"


def test_run_writes_reference_logs_and_checkpoints(kitti_synth, tmp_path: Path) -> None:
    cfg = build_config(tiny_config(kitti_synth, tmp_path, trainer={"epochs": 2}))
    run_dir = train(cfg)
    assert (run_dir / "config.yaml").is_file()
    for name in ("train.csv", "val.csv"):
        with (run_dir / name).open() as fh:
            rows = list(csv.DictReader(fh))
        assert tuple(rows[0].keys()) == CSV_COLUMNS
        assert [int(r["epoch"]) for r in rows] == [0, 1]
        assert all(r["photo"] == "0" for r in rows)
    best = (run_dir / "best.txt").read_text().splitlines()
    assert best[0] == "rank_metric=rmse" and best[1].startswith("epoch=")
    # The reference keeps only the last epoch's checkpoint, plus the best one.
    assert not (run_dir / "checkpoint-0.pth.tar").exists()
    ref = torch.load(run_dir / "checkpoint-1.pth.tar", weights_only=True)  # no pickled objects
    assert set(ref) == {"epoch", "model", "best_result", "optimizer", "args"} and ref["epoch"] == 1
    assert (run_dir / "model_best.pth.tar").is_file() and (run_dir / "comparison_best.png").is_file()
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert not list(run_dir.rglob("*.tmp"))  # atomic writes leave nothing behind


def test_load_from_initialises_weights_only(kitti_synth, tmp_path: Path) -> None:
    first = train(build_config(tiny_config(kitti_synth, tmp_path, trainer={"epochs": 1})))
    ckpt = first / "checkpoints" / "last.ckpt"
    cfg = build_config(tiny_config(kitti_synth, tmp_path, run={"name": "second", "load_from": str(ckpt)}))
    module = build_module(cfg)
    trained = _weights(ckpt)
    mine = {f"model.{k}": v for k, v in module.model.state_dict().items() if v.is_floating_point()}
    _assert_same_weights(trained, mine, atol=0.0)


@pytest.mark.parametrize("freeze_bn_stats", [False, True])
def test_frozen_backbone_and_bn_mode(kitti_synth, tmp_path: Path, freeze_bn_stats: bool) -> None:
    cfg = build_config(tiny_config(
        kitti_synth, tmp_path, model={"freeze": ["backbone."], "freeze_bn_stats": freeze_bn_stats},
        trainer={"epochs": 1}, run={"name": f"frozen{freeze_bn_stats}"}))
    torch.manual_seed(0)
    module = build_module(cfg)
    before = {k: v.clone() for k, v in module.model.state_dict().items()}
    from depthforge.engine.datamodule import EngineDataModule
    from depthforge.engine.runner import build_trainer

    trainer = build_trainer(cfg, module, tmp_path / "r")
    trainer.fit(module, datamodule=EngineDataModule(cfg))
    after = module.model.state_dict()
    conv = "backbone.rgb_conv_init.0.weight"
    stat = "backbone.rgb_conv_init.1.running_mean"
    head = "kernel_conf_layer.0.weight"
    assert torch.equal(before[conv], after[conv])  # frozen weights stay
    assert not torch.equal(before[head], after[head])  # the head trains
    # The reference keeps updating the frozen backbone's BN statistics; the option stops that.
    assert torch.equal(before[stat], after[stat]) is freeze_bn_stats


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


@pytest.mark.slow
def test_kill_9_mid_epoch_then_resume_equals_uninterrupted(kitti_synth, tmp_path: Path) -> None:
    common = {"data": {"batch_size": 1}, "trainer": {"epochs": 3},
              "checkpoint": {"every_n_train_steps": 1}}
    steps_per_epoch = kitti_synth.n_train  # batch 1
    ref_cfg = write_config(tmp_path / "ref.yaml", tiny_config(kitti_synth, tmp_path, run={"name": "ref"}, **common))
    subprocess.run([*CLI, "train", str(ref_cfg)], check=True, env=_env(), capture_output=True)
    reference = _weights(tmp_path / "runs" / "ref" / "checkpoints" / "last.ckpt")

    cfg = write_config(tmp_path / "crash.yaml", tiny_config(kitti_synth, tmp_path, run={"name": "crash"}, **common))
    last = tmp_path / "runs" / "crash" / "checkpoints" / "last.ckpt"
    proc = subprocess.Popen([*CLI, "train", str(cfg)], env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    killed_at = None
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if last.exists():
            step = torch.load(last, map_location="cpu", weights_only=True)["global_step"]
            if step > steps_per_epoch and step % steps_per_epoch:  # inside the second epoch
                proc.send_signal(signal.SIGKILL)
                killed_at = step
                break
        time.sleep(0.05)
    proc.wait()
    assert killed_at is not None, "the run ended before it could be killed mid-epoch"
    assert proc.returncode == -signal.SIGKILL
    subprocess.run([*CLI, "train", str(cfg), "--resume", str(last)], check=True, env=_env(), capture_output=True)
    resumed = torch.load(last, map_location="cpu", weights_only=True)
    assert resumed["global_step"] == 3 * steps_per_epoch
    _assert_same_weights(reference, _weights(last), atol=1e-6)

    # Shipped defaults (no step interval, loader workers as configured by default): last.ckpt exists after
    # every epoch, so kill -9 in the second epoch and Ctrl-C (which writes last.ckpt mid-epoch) both resume.
    for name, sig in (("kill9", signal.SIGKILL), ("ctrlc", signal.SIGINT)):
        run = tiny_config(kitti_synth, tmp_path, run={"name": name}, data={"batch_size": 1, "workers": 4,
                                                                             "val_workers": 2},
                          trainer={"epochs": 3})
        cfg = write_config(tmp_path / f"{name}.yaml", run)
        last = tmp_path / "runs" / name / "checkpoints" / "last.ckpt"
        proc = subprocess.Popen([*CLI, "train", str(cfg)], env=_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None and not last.exists():
            time.sleep(0.05)
        assert last.exists() and proc.poll() is None, "no last.ckpt after the first epoch of a running run"
        proc.send_signal(sig)
        proc.wait()
        assert proc.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 130)
        step = torch.load(last, map_location="cpu", weights_only=True)["global_step"]
        assert steps_per_epoch <= step < 3 * steps_per_epoch  # stopped inside the run, not after it
        subprocess.run([*CLI, "train", str(cfg), "--resume", str(last)], check=True, env=_env(),
                       capture_output=True)
        assert torch.load(last, map_location="cpu", weights_only=True)["global_step"] == 3 * steps_per_epoch
        _assert_same_weights(reference, _weights(last), atol=1e-6)


@pytest.mark.slow
def test_two_gloo_processes_equal_one_process_on_the_combined_batch(kitti_synth, tmp_path: Path) -> None:
    # float64: SemAttNet's raw 0..255 inputs and saturated softmax amplify float32 rounding (a
    # different reduction order changes some float32 gradients by several percent), which would
    # hide a real mismatch. In float64 both runs agree to ~1e-12.
    common = {"scheduler": {"name": "none"}, "optim": {"name": "sgd", "lr": 1.0e-3, "momentum": 0.9}}
    one = write_config(tmp_path / "one.yaml", tiny_config(
        kitti_synth, tmp_path, run={"name": "one"}, data={"batch_size": 2},
        trainer={"epochs": 1, "precision": "64-true"}, **common))
    subprocess.run([*CLI, "train", str(one)], check=True, env=_env(), capture_output=True)
    two = write_config(tmp_path / "two.yaml", tiny_config(
        kitti_synth, tmp_path, run={"name": "two"}, data={"batch_size": 1},
        trainer={"epochs": 1, "devices": "auto", "precision": "64-true"}, **common))
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                f"--master_port={_free_port()}", "-m", "depthforge", "train", str(two)]
    res = subprocess.run(launcher, env=_env(), capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    a = _weights(tmp_path / "runs" / "one" / "checkpoints" / "last.ckpt")
    b = _weights(tmp_path / "runs" / "two" / "checkpoints" / "last.ckpt")
    _assert_same_weights(a, b, atol=1e-9)


def test_a_run_folder_is_never_reused(kitti_synth, tmp_path: Path) -> None:
    from depthforge.errors import ConfigError

    cfg = build_config(tiny_config(kitti_synth, tmp_path, run={"name": "taken"}))
    (tmp_path / "runs" / "taken").mkdir(parents=True)
    (tmp_path / "runs" / "taken" / "config.yaml").write_text("{}\n")
    with pytest.raises(ConfigError, match=r"taken: holds an earlier run; continue it with --resume"):
        train(cfg)


def test_resume_uses_the_run_config_and_refuses_silent_changes(kitti_synth, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from depthforge.cli import main as cli_main

    run_dir = tmp_path / "runs" / "tiny"
    (run_dir / "checkpoints").mkdir(parents=True)
    cfg = build_config(tiny_config(kitti_synth, tmp_path))
    from depthforge.config import dump_yaml

    dump_yaml(cfg, run_dir / "config.yaml")
    ckpt = str(run_dir / "checkpoints" / "last.ckpt")  # never reached: the config check comes first
    code = cli_main(["train", "--resume", ckpt, "--cfg-options", "data.batch_size=4"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "data.batch_size: run 2, now 4" in err and "--override-run" in err

    from depthforge.cli.train import _resumed_config, add_parser
    import argparse

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["train", "--resume", ckpt])
    resumed = _resumed_config(args, {"run": {"resume": ckpt}})
    assert resumed.data.batch_size == 2 and resumed.run.resume == ckpt and resumed.model == cfg.model
    args = parser.parse_args(["train", "--resume", ckpt, "--override-run"])
    assert _resumed_config(args, {"data": {"batch_size": 4}, "run": {"resume": ckpt}}).data.batch_size == 4


def test_progress_bar_counts_epochs_like_the_run(kitti_synth, tmp_path: Path,
                                                 capfd: pytest.CaptureFixture[str]) -> None:
    # a later stage (epoch_offset 5) labels its epochs 5 and 6, never with the stage-local 0 and 1
    train(build_config(tiny_config(kitti_synth, tmp_path, trainer={"epochs": 2, "progress_bar": True},
                                   run={"epoch_offset": 5})))
    captured = capfd.readouterr()
    shown = captured.out + captured.err  # Lightning's bars write to stdout
    assert "Epoch 5:" in shown and "Epoch 6:" in shown
    assert "Epoch 0:" not in shown and "Epoch 1:" not in shown
