"""PatchRefiner's reference tools (``tools/train.py``, ``tools/test.py``, ``tools/dist_*.sh``) on depthforge's engine.

Every flag of the reference is accepted. A reference config (:mod:`depthforge.cli.patchrefiner_config`)
becomes our typed config and runs through the same engine as ``depthforge train``: one process, ``torchrun``
processes (``tools/dist_train.sh``, GPUs with NCCL or CPU processes with gloo), several nodes, or SLURM.
The deliberate differences from the reference are listed in ``docs/patchrefiner_tools.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from depthforge.errors import ConfigError

log = logging.getLogger("depthforge")

CAI_HELP = "tiling mode: m1 (grid), m2 (grid + shifted grids), r<N> (m2 + N random tiles)"


def _local_rank(args: argparse.Namespace) -> None:
    if args.local_rank is not None and "LOCAL_RANK" not in os.environ:
        os.environ["LOCAL_RANK"] = str(args.local_rank)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="reference config (.py)")
    p.add_argument("--work-dir", help="output root (train: the run goes to WORK_DIR/LOG_NAME)")
    p.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                   help="override reference config keys, e.g. model.edge_loss_weight=7e-2")
    p.add_argument("--launcher", choices=["none", "pytorch", "slurm", "mpi"], default="none",
                   help="pytorch: torchrun / tools/dist_*.sh; slurm: srun")
    p.add_argument("--local-rank", "--local_rank", dest="local_rank", type=int, default=None,
                   help="set by the legacy launcher (LOCAL_RANK wins)")
    p.add_argument("--amp", action="store_true", help="mixed precision (fp16 on GPUs, bf16 on the CPU)")


def _world() -> tuple[int, int, int]:
    """(rank, local world size, world size) of this process (1 process without a launcher)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_WORLD_SIZE", world)), world


def _check_launcher(args: argparse.Namespace) -> None:
    if args.launcher == "mpi":
        raise ConfigError("--launcher mpi is not supported; use tools/dist_train.sh (torchrun) or SLURM")
    if args.launcher == "none" and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise ConfigError("several processes were launched but --launcher is none; add --launcher pytorch")


def _set_up_process() -> None:
    """Every command's set-up, and this module's own log lines on stderr."""
    from depthforge.cli import set_up_process

    set_up_process()
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def _check_files(paths: list[str]) -> None:
    """Checkpoints a run needs exist, before minutes go into building a full-size model."""
    for path in paths:
        if not Path(path).is_file():
            raise ConfigError(f"{path}: checkpoint not found")


def _run(main: Any, argv: list[str] | None, prog: str) -> int:
    from depthforge.cli import run_command

    return run_command(lambda: main(argv), prog)


# --- training ---------------------------------------------------------------------------------------------


def train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tools/train.py", description="PatchRefiner training (reference command line)")
    _common(p)
    p.add_argument("--log-name", default="", help="run folder name under --work-dir and W&B run-name prefix")
    p.add_argument("--tag", "--tags", dest="tags", default="", help="comma-separated W&B tags")
    p.add_argument("--debug", action="store_true", help="no W&B")
    p.add_argument("--debug-val", action="store_true", help="with --debug: one validation pass before training")
    p.add_argument("--seed", type=int, default=621, help="seed of Python, NumPy, torch and the data order")
    p.add_argument("--resume", nargs="?", const=True, default=False, metavar="CKPT",
                   help="continue exactly (weights, optimiser, OneCycle, data position, RNG) from CKPT or from "
                        "WORK_DIR/LOG_NAME/checkpoints/last.ckpt")
    return p


def train_settings(args: argparse.Namespace, stamp: str) -> dict[str, Any]:
    """Our settings that the reference's training flags stand for (merged over the translated config)."""
    import torch

    log_name = args.log_name or Path(args.config).stem
    run_dir = Path(args.work_dir or "work_dir") / log_name
    _, local_world, world = _world()
    extra: dict[str, Any] = {
        "run": {"work_dir": str(run_dir.parent), "name": log_name},
        "trainer": {"seed": args.seed},
        "logging": {"wandb": False},
    }  # W&B's project is the config's own ``project`` (translated)
    if world > 1:
        extra["trainer"].update(devices=local_world, num_nodes=max(world // local_world, 1))
    if args.amp:
        extra["trainer"]["precision"] = "16-mixed" if torch.cuda.is_available() else "bf16-mixed"
    if args.debug and args.debug_val:
        extra["trainer"]["num_sanity_val_steps"] = -1
    if args.resume:
        ckpt = run_dir / "checkpoints" / "last.ckpt" if args.resume is True else Path(args.resume)
        if not ckpt.is_file():
            raise ConfigError(f"{ckpt}: no checkpoint to resume from")
        extra["run"]["resume"] = str(ckpt)
    if not args.debug and _wandb_installed():
        # named and tagged as the reference names them; offline unless WANDB_MODE says otherwise
        extra["logging"].update(wandb=True, wandb_name=f"{log_name}_{stamp}",
                                wandb_tags=[t for t in args.tags.split(",") if t])
    return extra


def _wandb_installed() -> bool:
    try:
        import wandb  # noqa: F401
    except ImportError:
        return False
    return True


def _train(argv: list[str] | None) -> int:
    args = train_parser().parse_args(argv)
    _local_rank(args)
    _check_launcher(args)
    _set_up_process()
    from depthforge.cli.patchrefiner_config import load_reference_config
    from depthforge.config import dump_pyconfig

    config = Path(args.config)
    stamp = _dt.datetime.now().strftime("%Y%m%d_%H%M%S")
    extra = train_settings(args, stamp)
    run_dir = Path(extra["run"]["work_dir"]) / extra["run"]["name"]
    rank = _world()[0]
    cfg, ref = load_reference_config(config, args.cfg_options, extra)
    saved = run_dir / "config.yaml"
    if args.resume and saved.is_file():  # the run continues with its own settings, or not at all
        from depthforge.cli.train import config_changes
        from depthforge.config import build_config, load_yaml

        changed = config_changes(build_config(load_yaml(saved)), cfg)
        if changed:
            raise ConfigError(f"--resume: the command changes the run's config ({changed}); run the command "
                              f"that started {run_dir}")
    if not args.resume:
        _check_files([w.path for w in cfg.model.weights])
    if rank == 0:
        if not args.debug and not cfg.logging.wandb:
            log.info("W&B is not installed: logging to TensorBoard and CSV only (pip install wandb)")
        run_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(run_dir / f"{stamp}.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        log.addHandler(handler)
        if not args.resume:
            dump_pyconfig(ref, run_dir / "config.py")
    from depthforge.engine.runner import train

    train(cfg)
    return 0


def train_main(argv: list[str] | None = None) -> int:
    return _run(_train, argv, "tools/train.py")


# --- testing ----------------------------------------------------------------------------------------------


def test_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tools/test.py", description="PatchRefiner evaluation (reference command line)")
    _common(p)
    p.add_argument("--ckp-path", help="checkpoint (.pth, official or ours); default: the config's weights")
    p.add_argument("--cai-mode", default="m1", help=CAI_HELP)
    p.add_argument("--process-num", type=int, default=4, help="tiles per forward (sets the r<N> schedule)")
    p.add_argument("--image-raw-shape", nargs=2, type=int, default=None, metavar=("H", "W"),
                   help="resolution the image is processed at (default: its own size)")
    p.add_argument("--patch-split-num", nargs=2, type=int, default=(4, 4), metavar=("H", "W"),
                   help="tiles per column and per row")
    p.add_argument("--save", action="store_true",
                   help="write NAME.png (colour, as the reference) and NAME_uint16.png (metres x 256)")
    p.add_argument("--gray-scale", action="store_true", help="grey colour map instead of Spectral")
    p.add_argument("--test-type", choices=["normal", "test_in", "test_out", "general"], default="normal",
                   help="normal: val split; test_in / test_out: test splits; general: a folder of images")
    p.add_argument("--tag", default="", help="part of the eval log's name")
    p.add_argument("--seed", type=int, default=5621, help="seed of the r<N> tile draws")
    return p


def _general_images(ref: Mapping[str, Any]) -> list[Path]:
    general = ((ref.get("general_dataloader") or {}).get("dataset") or {})
    folder = general.get("rgb_image_dir")
    if not folder:
        raise ConfigError("--test-type general needs --cfg-options general_dataloader.dataset.rgb_image_dir=FOLDER")
    from depthforge.io import IMAGE_SUFFIXES

    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"{root}: image folder not found (general_dataloader.dataset.rgb_image_dir)")
    images = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise ConfigError(f"{root}: no images ({', '.join(IMAGE_SUFFIXES)})")
    return images


def _samples(cfg: Any, ref: Mapping[str, Any], test_type: str, shard: tuple[int, int]) -> Iterator[dict[str, Any]]:
    """Evaluation items of this process's shard: ``image`` 1x3xHxW, and ``gt`` etc. when the data has them."""
    import torch

    rank, world = shard
    if test_type == "general":
        from depthforge.inference.monocular import read_user_image

        for path in _general_images(ref)[rank::world]:
            image, _ = read_user_image(path)
            yield {"image": torch.from_numpy(image).permute(2, 0, 1)[None].float(), "name": [path.stem]}
        return
    from depthforge.data.registry import build_dataset, dataset_options

    options = dataset_options(cfg.data.dataset, cfg.data.options)
    split = "val"
    if test_type == "test_in":
        split = "test"
    elif test_type == "test_out":
        out = (((ref.get("test_out_dataloader") or {}).get("dataset") or {}).get("split"))
        if not out:
            raise ConfigError("--test-type test_out: the config has no test_out_dataloader.dataset.split")
        import dataclasses

        options = dataclasses.replace(options, test_split=os.path.relpath(out, options.root))
        split = "test"
    dataset = build_dataset(cfg.data.dataset, options, split, seed=cfg.trainer.seed, max_samples=None)
    for index in range(rank, len(dataset), world):  # type: ignore[arg-type]
        item = dataset[index]
        yield {k: v[None] if isinstance(v, torch.Tensor) else [v] for k, v in item.items()}


def build_model(cfg: Any, ckp_path: str | None) -> Any:
    """The evaluated model: the configured one (a semi config's student) with the config's weights, then the
    checkpoint (``model_state_dict`` of the reference's files, or any layout the model's contract maps)."""
    from depthforge.checkpoint import load_checkpoint
    from depthforge.registry import create_model

    name = "patchrefiner" if cfg.model.name == "patchrefiner_semi" else cfg.model.name
    weights = [w.path for w in cfg.model.weights if w.target in ("", "student_model")]
    _check_files(weights + ([ckp_path] if ckp_path else []))
    model = create_model(name, **cfg.model.kwargs)
    for path in weights:
        load_checkpoint(model, path)
    if ckp_path:
        info = load_checkpoint(model, ckp_path)
        log.info("loaded %s (%s layout, %d entries)", ckp_path, info.get("layout"), info.get("loaded", 0))
    return model.eval()


def _resize(x: Any, size: tuple[int, int]) -> Any:
    """The resize of the reference's evaluation (and of ``infer``'s input-resolution output)."""
    import torch.nn.functional as F

    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def _save(out: Path, name: str, canvas: Any, depth: Any, gray: bool) -> None:
    import numpy as np

    from depthforge.io import write_depth_png
    from depthforge.viz import colorize, save_png

    c = canvas.float().cpu().numpy()
    if gray:
        lo, hi = np.percentile(c, 2), np.percentile(c, 95)
        save_png(out / f"{name}.png", colorize(c, vmin=float(lo), vmax=float(hi), cmap="gray_r"))
    else:
        save_png(out / f"{name}.png", colorize(c, vmin=float(c.min()), vmax=float(c.max()), cmap="Spectral"))
    write_depth_png(out / f"{name}_uint16.png", np.clip(depth.float().cpu().numpy(), 0, 65535 / 256), dense=True)


def _test(argv: list[str] | None) -> int:
    args = test_parser().parse_args(argv)
    _local_rank(args)
    _check_launcher(args)
    _set_up_process()
    import torch
    import torch.nn.functional as F
    from tqdm import tqdm

    from depthforge.cli.patchrefiner_config import load_reference_config
    from depthforge.engine.evaluation import Scorer
    from depthforge.io import prepare_output_dir
    from depthforge.models.contract import contract_of
    from depthforge.models.patchrefiner.tiling import parse_mode
    from depthforge.tasks.base import build_task

    try:
        parse_mode(args.cai_mode)
    except ValueError as exc:
        raise ConfigError(f"--cai-mode: {exc}") from None
    cfg, ref = load_reference_config(args.config, args.cfg_options)
    work_dir = Path(args.work_dir or (Path(args.ckp_path).parent if args.ckp_path else "work_dir"))
    prepare_output_dir(work_dir, "work dir")
    rank, _, world = _world()
    distributed = world > 1
    device = torch.device("cpu")
    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if distributed:
        import torch.distributed as dist

        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    model = build_model(cfg, args.ckp_path).to(device)
    task = build_task(cfg, contract_of(model))
    split = tuple(args.patch_split_num)
    scorer = Scorer(task.protocol, keep_rows=True)  # this process's per-image rows
    samples = _samples(cfg, ref, args.test_type, (rank, world))
    with torch.inference_mode():
        for batch in tqdm(samples, desc="test", unit="img", disable=rank != 0):
            image = batch["image"].to(device)
            size = tuple(image.shape[-2:])
            shape = tuple(args.image_raw_shape) if args.image_raw_shape else size
            if shape != size:  # processed at the requested resolution (the reference's bicubic resize)
                image = F.interpolate(image, size=shape, mode="bicubic", align_corners=True)
            infer = getattr(model, "infer", None)
            if infer is not None:
                canvas = infer(image, mode=args.cai_mode, patch_split_num=split, process_num=args.process_num,
                               seed=args.seed, output="process", progress=rank == 0)["depth"]
            else:  # a coarse model sees the whole image at the process shape
                lr_shape = tuple(cfg.data.options.get("process_shape", (384, 512)))
                lr = F.interpolate(image, size=lr_shape, mode="bilinear", align_corners=True)
                canvas = model(lr)["depth"]
            depth = _resize(canvas, shape)
            name = str(batch["name"][0])
            if args.save:
                _save(work_dir, name, canvas[0, 0], depth[0, 0], args.gray_scale)
            if "gt" in batch:
                pred = _resize(depth, tuple(batch["gt"].shape[-2:])) if shape != size else depth
                scorer.add(pred[0].float().cpu(), batch["gt"][0].float(), name,
                           **task.score_extras(batch, 0))
    rows = scorer.rows
    if distributed:
        import torch.distributed as dist

        gathered: list[Any] = [None] * world
        dist.all_gather_object(gathered, rows)
        rows = [r for part in gathered for r in part]
        dist.destroy_process_group()
    if rank != 0:
        return 0
    if args.save:
        print(f"predictions written to {work_dir}")
    if not rows:
        return 0
    print(f"{len(rows)} image(s) scored")
    rows.sort(key=lambda r: r["name"])
    total = Scorer(task.protocol)
    for row in rows:
        total.averager.update({k: v for k, v in row.items() if k != "name"})
    means = total.averager.compute()
    table = total.table({"mean": means})
    print(f"protocol: {task.protocol.name}")
    print(table)
    stamp = _dt.datetime.now().strftime("%Y%m%d_%H%M%S")
    ckp = (args.ckp_path or "config").replace("/", "_").replace(".pth", "")
    stem = f"eval_{Path(args.config).stem}_{args.tag}_{ckp}_{cfg.data.dataset}_{stamp}"
    (work_dir / f"{stem}.log").write_text(f"{args.config} --ckp-path {args.ckp_path} --cai-mode {args.cai_mode}\n"
                                          f"protocol: {task.protocol.name}\n{table}\n")
    _write_rows(work_dir / f"{stem}.csv", rows)
    (work_dir / f"{stem}.json").write_text(json.dumps({"mean": means, "images": rows}, indent=1, default=float))
    print(f"eval log: {work_dir / (stem + '.log')}")
    return 0


def _write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    import csv

    keys = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)


def test_main(argv: list[str] | None = None) -> int:
    return _run(_test, argv, "tools/test.py")


__all__ = ["test_main", "test_parser", "train_main", "train_parser", "train_settings"]
