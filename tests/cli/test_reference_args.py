"""The guide's commands map onto the recipe; broken combinations are refused with clear errors."""

from __future__ import annotations

import shlex

import pytest

from depthforge.cli.reference import build_parser, main, to_config
from depthforge.config import from_dict
from depthforge.tasks.completion import CompletionLoss

DATA = "--data-folder kitti_depth/depth/ --data-folder-rgb kitti_raw/ --data-semantic semantic_maps/"


def cfg_of(cmd: str, start_epoch: int = 0):
    return to_config(build_parser().parse_args(shlex.split(cmd)), start_epoch)


def loss_of(cfg) -> CompletionLoss:
    return from_dict(CompletionLoss, cfg.task.loss)


def test_stage1_backbone_command() -> None:
    cfg = cfg_of(f"-n bb -b 8 {DATA} --patience 4")
    assert cfg.model.name == "semattnet_bb" and cfg.data.batch_size == 8
    assert cfg.scheduler.name == "plateau" and cfg.scheduler.patience == 4 and cfg.scheduler.monitor == "val/rmse"
    assert loss_of(cfg).deep_supervision is not None and loss_of(cfg).deep_supervision.schedule == [(1, 0.2), (3, 0.05)]
    assert cfg.optim.lr == pytest.approx(1.2727e-3) and cfg.optim.weight_decay == pytest.approx(1e-6)
    assert cfg.optim.betas == (0.9, 0.99) and cfg.trainer.epochs == 200
    assert (cfg.data.options["crop_h"], cfg.data.options["crop_w"], cfg.data.options["jitter"]) == (320, 1216, 0.1)
    assert cfg.data.options["data_folder"] == "kitti_depth/depth/"


def test_stage2_freeze_command() -> None:
    cfg = cfg_of(f"-n sem_att -b 8 {DATA} --patience 8 -f", start_epoch=60)
    assert cfg.model.name == "semattnet" and cfg.model.freeze == ["backbone."]
    assert not cfg.model.freeze_bn_stats  # the reference keeps updating BN statistics
    assert cfg.optim.param_groups == [] and loss_of(cfg).deep_supervision is None
    assert cfg.run.epoch_offset == 60 and cfg.trainer.epochs == 140


def test_stage3_full_command() -> None:
    cfg = cfg_of(f"-n sem_att -b 16 --lr 0.025298 {DATA} --patience 3")
    assert cfg.model.freeze == [] and cfg.optim.lr == pytest.approx(0.025298)
    assert [(g.prefix, g.lr_mult) for g in cfg.optim.param_groups] == [("backbone.", 0.1)]
    assert cfg.scheduler.patience == 3 and cfg.data.batch_size == 16


def test_other_reference_flags() -> None:
    cfg = cfg_of(f"-n bb {DATA} --epochs 5 --workers 0 --val full --cpu --jitter 0.2 --rank-metric delta1 "
                 "-he 256 -w 512 --not-random-crop --start-epoch-bias 2 -c l1 --s_p exp --val_results vr")
    assert cfg.trainer.epochs == 5 and cfg.data.workers == 0 and cfg.data.options["val"] == "full"
    assert cfg.trainer.accelerator == "cpu" and cfg.data.options["jitter"] == 0.2
    assert cfg.checkpoint.monitor == "val/delta1" and cfg.scheduler.monitor == "val/delta1"
    assert (cfg.data.options["crop_h"], cfg.data.options["crop_w"], cfg.data.options["random_crop"]) == (256, 512, False)
    assert loss_of(cfg).start_epoch_bias == 2 and loss_of(cfg).criterion == "l1"
    assert cfg.run.work_dir.endswith("exp") and cfg.eval.val_results == "vr"
    assert cfg.run.name.startswith("input=rgbd.criterion=l1.lr=0.0012727.bs=1.wd=1e-06.jitter=0.2.time=")


@pytest.mark.parametrize(("cmd", "message"), [
    (f"-n bb {DATA} -i rgb", "only 'rgbd'"),
    (f"-n sem_att {DATA} -d 4", "dilation 2"),
    (f"-n bb {DATA} -f", "only applies to -n sem_att"),
    (f"-n sem_att {DATA} --test", "--test needs -e"),
    ("-n bb", "--data-folder is required"),
    (f"-n sem_att {DATA} -e missing.pth.tar", "missing.pth.tar"),
])
def test_broken_combinations_are_errors(cmd: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(shlex.split(cmd)) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
