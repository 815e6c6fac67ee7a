"""The SemAttNet reference command line (``python main.py ...``), on depthforge's engine.

It names SemAttNet's stage recipe (the backbone prefix that stage 2 freezes and stage 3 trains at lr/10)
through the family's own constant, and asks the family which variant a checkpoint holds.

Every flag of the reference training branch is accepted with its default. ``main.py`` only
translates flags into a :class:`~depthforge.config.Config` and calls the same engine as
``depthforge train`` / ``depthforge test``. Where the reference misbehaves we fix it; each such
place is listed in ``docs/reference_cli.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from pathlib import Path
from typing import Any

from depthforge.config import Config, build_config, merge, parse_overrides
from depthforge.errors import ConfigError
from depthforge.metrics.kitti import KITTI_KEYS as METRIC_NAMES
from depthforge.models.semattnet.checkpoint import BACKBONE_PREFIX
from depthforge.models.semattnet.model import BRANCH_DEPTHS


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="main.py", description="SemAttNet (reference command line)")
    p.add_argument("-n", "--network-model", default="bb", choices=["bb", "sem_att"],
                   help="bb: three-branch backbone; sem_att: backbone + dilated CSPN++ head")
    p.add_argument("-c", "--criterion", default="l2", choices=["l2", "l1"], help="masked L2 or L1 loss")
    p.add_argument("--workers", type=int, default=4, help="training data-loader workers")
    p.add_argument("--epochs", type=int, default=200, help="train epochs range(start_epoch, epochs)")
    p.add_argument("--start-epoch", type=int, default=0, help="first epoch number (set from --resume)")
    p.add_argument("--start-epoch-bias", type=int, default=0,
                   help="added to the stage epoch that drives the deep-supervision schedule")
    p.add_argument("-b", "--batch-size", type=int, default=1, help="training mini-batch size")
    p.add_argument("-pat", "--patience", type=int, default=4, help="ReduceLROnPlateau patience (epochs)")
    p.add_argument("--lr", "--learning-rate", type=float, default=1.2727e-3, help="initial learning rate")
    p.add_argument("--weight-decay", "--wd", type=float, default=1e-6, help="Adam (coupled L2) weight decay")
    p.add_argument("-p", "--print-freq", type=int, default=10, help="progress print period (iterations)")
    p.add_argument("--resume", default="", help="checkpoint: weights + epoch counter, fresh optimizer/scheduler")
    p.add_argument("--data-folder", default="", help="kitti_depth/depth folder")
    p.add_argument("--data-folder-rgb", default="", help="kitti_raw folder")
    p.add_argument("--data-semantic", default="", help="semantic maps folder")
    p.add_argument("--test-save", default="test_results/", help="folder for KITTI submission PNGs")
    p.add_argument("-i", "--input", default="rgbd", help="input modalities; only rgbd (+ semantic) exists")
    p.add_argument("--val", default="select", choices=["select", "full"], help="validation split")
    p.add_argument("--jitter", type=float, default=0.1, help="colour jitter strength")
    p.add_argument("--rank-metric", default="rmse", choices=METRIC_NAMES, help="metric that picks the best model")
    p.add_argument("-e", "--evaluate", default="", help="evaluate this checkpoint and exit")
    p.add_argument("-f", "--freeze-backbone", action="store_true", help="sem_att: freeze the backbone")
    p.add_argument("--s_p", default="", help="sub-folder under training_logs/")
    p.add_argument("--val_results", default="", help="folder for one visualisation per validation image")
    p.add_argument("--test", action="store_true", help="with -e: write the KITTI test submission")
    p.add_argument("--cpu", action="store_true", help="run on the CPU")
    p.add_argument("--not-random-crop", action="store_true", help="disable the training random crop")
    p.add_argument("-he", "--random-crop-height", type=int, default=320, help="training crop height")
    p.add_argument("-w", "--random-crop-width", type=int, default=1216, help="training crop width")
    p.add_argument("-d", "--dilation-rate", type=int, default=2, choices=[1, 2, 4],
                   help="CSPN dilation; only 2 exists in the released model")
    # depthforge additions
    p.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                   help="extra depthforge config overrides, e.g. model.kwargs.width_mult=0.25")
    return p


def _check(args: argparse.Namespace) -> None:
    if args.input != "rgbd":
        raise ConfigError(f"--input {args.input}: only 'rgbd' exists (the model always reads the image, sparse depth and semantic map)")
    if args.dilation_rate != 2:
        raise ConfigError(f"--dilation-rate {args.dilation_rate}: the head only supports dilation 2")
    if args.freeze_backbone and args.network_model != "sem_att":
        raise ConfigError("-f/--freeze-backbone only applies to -n sem_att")
    if args.test and not args.evaluate:
        raise ConfigError("--test needs -e CHECKPOINT (the reference would silently use random weights)")
    for flag in ("data_folder", "data_folder_rgb", "data_semantic"):
        if not getattr(args, flag) and not (args.evaluate and args.test and flag == "data_folder_rgb"):
            raise ConfigError(f"--{flag.replace('_', '-')} is required")
    if args.batch_size < 1 or args.epochs < 0:
        raise ConfigError("--batch-size must be >= 1 and --epochs >= 0")


def run_folder_name(args: argparse.Namespace, when: _dt.datetime | None = None) -> str:
    """The reference's run-folder name under ``training_logs/<s_p>/``."""
    when = when or _dt.datetime.now()
    return (f"input={args.input}.criterion={args.criterion}.lr={args.lr}.bs={args.batch_size}."
            f"wd={args.weight_decay}.jitter={args.jitter}.time={when:%Y-%m-%d@%H-%M}")


def to_config(args: argparse.Namespace, start_epoch: int = 0) -> Config:
    """Translate reference flags into a depthforge config."""
    sem_att = args.network_model == "sem_att"
    kitti: dict[str, Any] = {
        "data_folder": args.data_folder, "data_folder_rgb": args.data_folder_rgb,
        "data_semantic": args.data_semantic, "val": args.val, "crop_h": args.random_crop_height,
        "crop_w": args.random_crop_width, "random_crop": not args.not_random_crop, "jitter": args.jitter,
    }
    model: dict[str, Any] = {"name": "semattnet" if sem_att else "semattnet_bb"}
    optim: dict[str, Any] = {"name": "adam", "lr": args.lr, "betas": [0.9, 0.99], "weight_decay": args.weight_decay}
    if sem_att and args.freeze_backbone:
        model["freeze"] = [BACKBONE_PREFIX]
    elif sem_att:  # two Adam groups: backbone at lr/10
        optim["param_groups"] = [{"prefix": BACKBONE_PREFIX, "lr_mult": 0.1}]
    loss: dict[str, Any] = {"criterion": args.criterion, "start_epoch_bias": args.start_epoch_bias}
    if not sem_att:
        loss["deep_supervision"] = {"keys": list(BRANCH_DEPTHS)}
    name = run_folder_name(args)
    data_dict: dict[str, Any] = {
        "model": model,
        "task": {"name": "completion", "loss": loss},
        "data": {"dataset": "kitti", "options": kitti, "batch_size": args.batch_size, "workers": args.workers},
        "optim": optim,
        "scheduler": {"name": "plateau", "patience": args.patience, "monitor": f"val/{args.rank_metric}"},
        "trainer": {"epochs": max(args.epochs - start_epoch, 0), "accelerator": "cpu" if args.cpu else "auto",
                    "log_every_n_steps": args.print_freq},
        "checkpoint": {"monitor": f"val/{args.rank_metric}"},
        "eval": {"protocol": "kitti-penet", "val_results": args.val_results or None},
        "run": {"work_dir": str(Path("training_logs") / args.s_p), "name": name, "epoch_offset": start_epoch},
    }
    if args.cfg_options:
        data_dict = merge(data_dict, parse_overrides(args.cfg_options))
    return build_config(data_dict)


def _resume_source(args: argparse.Namespace) -> tuple[int, str | None]:
    """Reference ``--resume``: start epoch = checkpoint epoch + 1; weights only."""
    if not args.resume:
        return args.start_epoch, None
    from depthforge.checkpoint import read_checkpoint

    ckpt = read_checkpoint(args.resume)
    epoch = ckpt.get("epoch") if isinstance(ckpt, dict) else None
    start = int(epoch) + 1 if isinstance(epoch, int) else args.start_epoch
    return start, args.resume


def _check_layout(args: argparse.Namespace, path: str) -> None:
    """Refuse the combinations where the reference silently loads nothing."""
    from depthforge.checkpoint import extract_state_dict, read_checkpoint
    from depthforge.registry import model_from_state_dict

    described = model_from_state_dict(extract_state_dict(read_checkpoint(path)))
    if described is None:
        raise ConfigError(f"{path}: not a SemAttNet checkpoint (neither the bb nor the sem_att layout)")
    is_full = described[0] == "semattnet"
    if args.network_model == "bb" and is_full:
        raise ConfigError(f"{path}: holds a sem_att model; -n bb needs a backbone checkpoint")
    if args.network_model == "sem_att" and args.freeze_backbone and is_full:
        raise ConfigError(f"{path}: -f expects a backbone (-n bb) checkpoint, this one holds a full sem_att model")
    if args.network_model == "sem_att" and not args.freeze_backbone and not is_full and not args.evaluate:
        raise ConfigError(f"{path}: holds a backbone (-n bb) model; start sem_att from it with -f "
                          "(the guide's CSPN++ initialisation), or pass a sem_att checkpoint")


def main(argv: list[str] | None = None) -> int:
    from depthforge.cli import set_up_process

    set_up_process()
    args = build_parser().parse_args(argv)
    try:
        _check(args)
        if args.evaluate:
            return _evaluate(args)
        start_epoch, init = _resume_source(args)
        if init:
            _check_layout(args, init)
        cfg = to_config(args, start_epoch)
        if init:
            cfg.run.load_from = init
        from depthforge.engine.runner import train

        run_dir = train(cfg)
        print(f"training logs: {run_dir}")
        return 0
    except (ConfigError, ValueError, FileNotFoundError) as exc:
        print(f"main.py: error: {exc}", file=sys.stderr)
        return 2


def _evaluate(args: argparse.Namespace) -> int:
    from depthforge.checkpoint import read_checkpoint

    ckpt_path = Path(args.evaluate)
    if not ckpt_path.is_file():
        raise FileNotFoundError(f"{ckpt_path}: no checkpoint found")
    _check_layout(args, str(ckpt_path))
    ckpt = read_checkpoint(ckpt_path)
    epoch = ckpt.get("epoch", 0) if isinstance(ckpt, dict) else 0
    cfg = to_config(args, int(epoch) if isinstance(epoch, int) else 0)
    from depthforge.engine.evaluation import evaluate, load_model, write_test_submission
    from depthforge.io import prepare_output_dir

    out_dir = Path(args.test_save) if args.test else (Path(args.val_results) if args.val_results else None)
    if out_dir is not None:  # before any computation, so that no result is lost
        prepare_output_dir(out_dir, "--test-save folder" if args.test else "--val_results folder")
    model = load_model(cfg, ckpt_path)
    if args.test:
        assert out_dir is not None
        out = write_test_submission(cfg, model, out_dir)
        print(f"submission written: {out}")
        return 0
    scores = evaluate(cfg, model, val_results=out_dir)
    print(scores.table({"checkpoint": scores.compute()}))
    return 0
