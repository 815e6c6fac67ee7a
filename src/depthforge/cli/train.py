"""``depthforge train CONFIG``: train any configured model."""

from __future__ import annotations

import argparse

from depthforge.config import load_config, merge, parse_overrides


def add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="YAML config (may inherit with _base_)")
    p.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                   help="dotted overrides, e.g. data.batch_size=4 optim.lr=1e-3")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model from a config", description=__doc__)
    add_config_args(p)
    p.add_argument("--resume", metavar="CKPT",
                   help="continue a run exactly (weights, optimizer, scheduler, epoch, data position, RNG)")
    p.add_argument("--load-from", metavar="CKPT", help="initialise weights only and start a new run")
    p.add_argument("--work-dir", help="folder holding run folders (run.work_dir)")
    p.add_argument("--name", help="run name (run.name)")


def run(args: argparse.Namespace) -> int:
    from depthforge.engine.runner import train

    # Paths go in as strings, not through YAML parsing of the override syntax.
    flags = {"resume": args.resume, "load_from": args.load_from, "work_dir": args.work_dir, "name": args.name}
    run_over = {k: v for k, v in flags.items() if v is not None}
    cfg = load_config(args.config, merge(parse_overrides(args.cfg_options), {"run": run_over}))
    run_dir = train(cfg)
    print(f"run folder: {run_dir}")
    return 0
