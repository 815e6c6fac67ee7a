"""``depthforge train CONFIG``: train any configured model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from depthforge.config import Config, build_config, load_config, load_yaml, merge, parse_overrides, to_dict
from depthforge.errors import ConfigError


def add_config_args(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("config", nargs=None if required else "?", help="YAML config (may inherit with _base_)")
    p.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                   help="dotted overrides, e.g. data.batch_size=4 optim.lr=1e-3")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model from a config", description=__doc__)
    add_config_args(p, required=False)
    p.add_argument("--resume", metavar="CKPT",
                   help="continue a run exactly (weights, optimizer, scheduler, epoch, data position, RNG) "
                        "with the run's own config; CONFIG may then be left out")
    p.add_argument("--override-run", action="store_true",
                   help="with --resume: let CONFIG / --cfg-options change the run's config")
    p.add_argument("--load-from", metavar="CKPT", help="initialise weights only and start a new run")
    p.add_argument("--work-dir", help="folder holding run folders (run.work_dir)")
    p.add_argument("--name", help="run name (run.name)")


# Keys that may differ between a run and its resumption without changing what is computed.
_RUNTIME_KEYS = ("run.resume", "run.load_from", "data.workers", "data.val_workers", "data.pin_memory",
                 "trainer.progress_bar", "trainer.log_every_n_steps", "logging.")


def _flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(tree, dict):
        return {prefix[:-1]: tree}
    out: dict[str, Any] = {}
    for key, value in tree.items():
        out.update(_flat(value, f"{prefix}{key}."))
    return out


def _resumed_config(args: argparse.Namespace, overrides: dict[str, Any]) -> Config:
    """The run's own resolved config; CONFIG and overrides may only repeat it, unless --override-run."""
    ckpt = Path(args.resume)
    saved_path = ckpt.parent.parent / "config.yaml"  # <run>/checkpoints/<file>
    if ckpt.parent.name != "checkpoints" or not saved_path.is_file():
        if args.config is None:
            raise ConfigError(f"{saved_path}: the run's config is missing; pass CONFIG with --resume")
        return load_config(args.config, overrides)
    saved = build_config(load_yaml(saved_path))
    requested = merge(load_yaml(args.config), overrides) if args.config else merge(to_dict(saved), overrides)
    wanted = build_config(requested)
    changed = config_changes(saved, wanted)
    if changed and not args.override_run:
        raise ConfigError(f"--resume {args.resume}: the command changes the run's config ({changed}); "
                          "drop the change, or pass --override-run to apply it")
    return wanted if changed else build_config(merge(to_dict(saved), {"run": overrides.get("run", {})}))


def config_changes(saved: Config, wanted: Config) -> str:
    """The settings that differ between a run's config and a resumption's ('' when none), for a message."""
    old, new = _flat(to_dict(saved)), _flat(to_dict(wanted))
    changed = [k for k in sorted(set(old) | set(new))
               if old.get(k) != new.get(k) and not k.startswith(_RUNTIME_KEYS)]
    shown = "; ".join(f"{k}: run {old.get(k)!r}, now {new.get(k)!r}" for k in changed[:4])
    return shown + (f" (+{len(changed) - 4} more)" if len(changed) > 4 else "")


def run(args: argparse.Namespace) -> int:
    from depthforge.engine.runner import train

    # Paths go in as strings, not through YAML parsing of the override syntax.
    flags = {"resume": args.resume, "load_from": args.load_from, "work_dir": args.work_dir, "name": args.name}
    run_over = {k: v for k, v in flags.items() if v is not None}
    overrides = merge(parse_overrides(args.cfg_options), {"run": run_over})
    if args.resume:
        cfg = _resumed_config(args, overrides)
    elif args.config is None:
        raise ConfigError("CONFIG is required (it may be left out only with --resume)")
    else:
        cfg = load_config(args.config, overrides)
    run_dir = train(cfg)
    print(f"run folder: {run_dir}")
    return 0
