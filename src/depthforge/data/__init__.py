"""KITTI depth-completion data: strict readers, path-derived pairing, the reference transforms, datasets."""

from depthforge.data.folder import FolderSample, PairedFolderDataset, scan_folders
from depthforge.data.io import (
    EmptyDepthWarning,
    read_depth,
    read_depth_png,
    read_rgb,
    read_semantic,
)
from depthforge.data.kitti import SPLITS, KittiDepthCompletion, KittiSample, scan_kitti
from depthforge.data.transforms import AugmentParams, KittiTransformConfig

__all__ = [
    "SPLITS",
    "AugmentParams",
    "EmptyDepthWarning",
    "FolderSample",
    "KittiDepthCompletion",
    "KittiSample",
    "KittiTransformConfig",
    "PairedFolderDataset",
    "read_depth",
    "read_depth_png",
    "read_rgb",
    "read_semantic",
    "scan_folders",
    "scan_kitti",
]
