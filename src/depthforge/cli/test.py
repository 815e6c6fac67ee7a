"""``depthforge test CONFIG --ckpt PATH``: validation metrics, or the KITTI test submission."""

from __future__ import annotations

import argparse
from pathlib import Path

from depthforge.cli.train import add_config_args
from depthforge.config import load_config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("test", help="evaluate a checkpoint or write the KITTI submission", description=__doc__)
    add_config_args(p)
    p.add_argument("--ckpt", required=True, help="checkpoint (depthforge, Lightning or official .pth.tar)")
    p.add_argument("--split", choices=["val", "test"], default="val",
                   help="val: metrics on the validation split; test: submission PNGs + zip")
    p.add_argument("--out", default=None, help="submission folder (test) or visualisation folder (val)")


def run(args: argparse.Namespace) -> int:
    from depthforge.io import prepare_output_dir
    from depthforge.engine.evaluation import evaluate, load_model, write_test_submission

    cfg = load_config(args.config, args.cfg_options)
    out_dir = Path(args.out or "test_results") if args.split == "test" else (Path(args.out) if args.out else None)
    if out_dir is not None:
        prepare_output_dir(out_dir, "submission folder" if args.split == "test" else "visualisation folder")
    model = load_model(cfg, args.ckpt)
    if args.split == "test":
        assert out_dir is not None
        out = write_test_submission(cfg, model, out_dir)
        print(f"submission written: {out}")
        return 0
    scores = evaluate(cfg, model, val_results=out_dir)
    print(f"protocol: {scores.protocol.name}")
    print(scores.table({Path(args.ckpt).name: scores.compute()}))
    return 0
