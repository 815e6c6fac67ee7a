"""Datasets: each dataset's folder layout, pairing rules and ``Dataset`` class, and the dataset registry.

File formats live in :mod:`depthforge.io`. Names below are imported on first use, so that importing
:mod:`depthforge.data.registry` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FolderSample": "depthforge.data.folder",
    "PairedFolderDataset": "depthforge.data.folder",
    "folder_gt": "depthforge.data.folder",
    "scan_folders": "depthforge.data.folder",
    "SPLITS": "depthforge.data.kitti",
    "KittiDepthCompletion": "depthforge.data.kitti",
    "KittiOptions": "depthforge.data.kitti",
    "KittiSample": "depthforge.data.kitti",
    "kitti_gt": "depthforge.data.kitti",
    "scan_kitti": "depthforge.data.kitti",
    "AugmentParams": "depthforge.data.transforms",
    "KittiTransformConfig": "depthforge.data.transforms",
    "GTSample": "depthforge.data.samples",
    "cityscapes_gt": "depthforge.data.cityscapes",
    "u4k_gt": "depthforge.data.u4k",
    "build_dataset": "depthforge.data.registry",
    "dataset_options": "depthforge.data.registry",
    "list_datasets": "depthforge.data.registry",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'depthforge.data' has no attribute '{name}'")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later lookups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
