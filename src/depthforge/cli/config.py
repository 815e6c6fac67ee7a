"""``depthforge config show CONFIG``: the resolved, validated config, each key with its type and default.

The sections owned by the model family, the task and the dataset (model.kwargs, task.loss, task.options,
data.options) are shown through their owners' own option types.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="show the resolved config with types and defaults", description=__doc__)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="print the resolved, validated config")
    show.add_argument("config", nargs="?", help="YAML config (may inherit with _base_) or a reference .py config "
                                                 "(PatchRefiner's dialect); empty: the defaults")
    show.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE", help="dotted overrides")


def _lines(obj: Any, indent: int) -> list[str]:
    import dataclasses

    import yaml

    from depthforge.config.loader import _type_name, to_dict

    pad = "  " * indent
    out: list[str] = []
    hints = _hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out.append(f"{pad}{f.name}:")
            out += _lines(value, indent + 1)
            continue
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)  # type: ignore[misc]
        shown = yaml.safe_dump(to_dict(value), default_flow_style=True, width=10_000).strip().removesuffix("...")
        note = f"{_type_name(hints.get(f.name, f.type))}, default {to_dict(default)!r}"
        out.append(f"{pad}{f.name}: {shown.strip()}  # {note}")
    return out


def _hints(cls: type) -> dict[str, Any]:
    from typing import get_type_hints

    try:
        return get_type_hints(cls)
    except Exception:  # noqa: BLE001 - a hint that cannot be resolved is shown as written
        return {}


def _owned(cfg: Any) -> list[tuple[str, Any]]:
    """(section name, validated dataclass) of each owned section that has an owner here."""
    from depthforge.data.registry import dataset_options
    from depthforge.registry import model_contract
    from depthforge.tasks import get_task

    sections: list[tuple[str, Any]] = []
    task_name = cfg.task.name or (model_contract(cfg.model.name).task if cfg.model.name else "")
    if task_name:
        loss, options, _ = get_task(task_name).parse(cfg, None)
        sections += [("task.loss", loss), ("task.options", options)]
    if cfg.data.dataset:
        sections.append(("data.options", dataset_options(cfg.data.dataset, cfg.data.options)))
    return sections


def run(args: argparse.Namespace) -> int:
    from depthforge.config import load_config

    if args.config and str(args.config).endswith(".py"):  # a reference config (PatchRefiner's dialect)
        from depthforge.cli.patchrefiner_config import load_reference_config

        cfg, _ = load_reference_config(args.config, args.cfg_options)
    else:
        cfg = load_config(args.config, args.cfg_options)
    print(f"# resolved config{f' of {args.config}' if args.config else ' (defaults)'}")
    print("\n".join(_lines(cfg, 0)))
    for name, section in _owned(cfg):
        print(f"# {name}, as {type(section).__name__} validates it")
        print(f"{name}:")
        print("\n".join(_lines(section, 1)))
    return 0
