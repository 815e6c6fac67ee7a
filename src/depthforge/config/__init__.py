"""Configuration: YAML with ``_base_`` inheritance, dotted overrides and typed validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from depthforge.config.loader import dump_yaml, from_dict, load_yaml, merge, parse_overrides, to_dict
from depthforge.config.schema import Config, metric_mode

__all__ = [
    "Config",
    "build_config",
    "dump_yaml",
    "from_dict",
    "load_config",
    "load_yaml",
    "merge",
    "metric_mode",
    "parse_overrides",
    "to_dict",
]


def build_config(data: dict[str, Any]) -> Config:
    """Validate a plain dict into a :class:`Config`."""
    return from_dict(Config, data).validate()


def load_config(path: str | Path | None, overrides: list[str] | dict[str, Any] | None = None) -> Config:
    """Load a YAML config (with ``_base_``), apply ``--cfg-options`` style overrides, validate."""
    data = load_yaml(path) if path else {}
    if overrides:
        data = merge(data, parse_overrides(overrides) if isinstance(overrides, list) else overrides)
    return build_config(data)
