"""Registered datasets by name. Importing this module imports no dataset code.

Each entry names, as ``"module:attr"``, the dataset's options dataclass and its builder
``build(options, split, *, seed, max_samples) -> Dataset``; both are imported on first use. Options
have ``crop_size`` (the training crop) and datasets ``crop_size`` (the size items are cropped to, or
None).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from depthforge.errors import ConfigError

if TYPE_CHECKING:
    import torch.utils.data

SPLITS = ("train", "val", "test")
_WHERE = "config.data.options"  # where a dataset's options sit in a run config, for the messages


class _Entry(NamedTuple):
    options: str
    build: str


_DATASETS: dict[str, _Entry] = {
    "kitti": _Entry("depthforge.data.kitti:KittiOptions", "depthforge.data.kitti:build_kitti"),
    "u4k": _Entry("depthforge.data.u4k:U4KOptions", "depthforge.data.u4k:build_u4k"),
    "cityscapes": _Entry("depthforge.data.cityscapes:CityscapesOptions", "depthforge.data.cityscapes:build_cityscapes"),
}


def list_datasets() -> list[str]:
    """Names of the registered datasets, sorted."""
    return sorted(_DATASETS)


def _entry(name: str) -> _Entry:
    if name not in _DATASETS:
        close = difflib.get_close_matches(str(name), list(_DATASETS), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(f"unknown dataset '{name}'{hint} (registered: {', '.join(list_datasets())})")
    return _DATASETS[name]


def _load(ref: str) -> Any:
    module, attr = ref.split(":")
    return getattr(importlib.import_module(module), attr)


def dataset_options(name: str, options: Mapping[str, Any]) -> Any:
    """Validate a dataset's options dict into its own options dataclass.

    Unknown keys, wrong types and an unknown dataset name raise :class:`ConfigError` (with a
    did-you-mean hint where a close name exists).
    """
    cls = _load(_entry(name).options)
    if not isinstance(options, Mapping):
        raise ConfigError(f"{_WHERE}: expected a mapping, got {options!r}")
    from depthforge.config.loader import from_dict

    return from_dict(cls, options, _WHERE)


def build_dataset(name: str, options: Any, split: str, *, seed: int,
                  max_samples: int | None) -> torch.utils.data.Dataset:
    """The ``name`` dataset of one split: ``train``, ``val`` or ``test``.

    ``options`` is what :func:`dataset_options` returned for ``name`` (a plain mapping is validated first).
    The dataset has ``crop_size``: the (H, W) its items are cropped to, or None.
    """
    entry = _entry(name)
    if split not in SPLITS:
        raise ConfigError(f"unknown split '{split}' (expected one of {', '.join(SPLITS)})")
    if isinstance(options, Mapping):
        options = dataset_options(name, options)
    cls = _load(entry.options)
    if not isinstance(options, cls):
        raise ConfigError(f"dataset '{name}' needs {cls.__name__} options, got {type(options).__name__}")
    return _load(entry.build)(options, split, seed=seed, max_samples=max_samples)
