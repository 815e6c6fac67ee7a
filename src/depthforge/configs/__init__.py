"""Configs shipped inside the package (the demo's embedded default)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def packaged(name: str) -> Path:
    """Path of a YAML config shipped with depthforge, e.g. ``packaged('demo_semattnet_tiny.yaml')``."""
    return Path(str(files(__name__) / name))
