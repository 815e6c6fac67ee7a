"""Evaluation metrics with the exact protocols of the public references.

Protocols: ``kitti-penet`` and ``kitti-devkit`` (:func:`kitti_completion`), ``mono-zoe`` (:func:`monocular`),
``cityscapes-pr`` (:func:`cityscapes`), ``mdec`` (:func:`mdec_edge_metrics`) and ``depthpro-boundary``
(:func:`boundary_f1`). Every function accepts numpy arrays or torch tensors and returns Python floats.
"""

from depthforge.metrics.aggregate import MetricAverager
from depthforge.metrics.boundary import (
    BOUNDARY_KEYS,
    binary_scores,
    boundary_metrics,
    edge_accuracy_completeness,
    mdec_edge_metrics,
)
from depthforge.metrics.cityscapes import CITYSCAPES_KEYS, cityscapes, cityscapes_masks, cityscapes_valid_mask
from depthforge.metrics.depthpro import boundary_f1
from depthforge.metrics.edges import extract_edges, image_edges, seg_edges, square_dilate
from depthforge.metrics.kitti import DEVKIT_KEYS, KITTI_KEYS, devkit_fill, kitti_completion
from depthforge.metrics.mono import MONO_KEYS, get_boundaries, monocular, resize_bilinear, soft_edge_error
from depthforge.metrics.protocols import PROTOCOLS, Protocol, get_protocol
from depthforge.metrics.seam import seam_error

__all__ = [
    "BOUNDARY_KEYS", "CITYSCAPES_KEYS", "DEVKIT_KEYS", "KITTI_KEYS", "MONO_KEYS", "PROTOCOLS",
    "MetricAverager", "Protocol", "binary_scores", "boundary_f1", "boundary_metrics", "cityscapes",
    "cityscapes_masks", "cityscapes_valid_mask", "devkit_fill", "edge_accuracy_completeness", "extract_edges",
    "get_boundaries", "get_protocol", "image_edges", "kitti_completion", "mdec_edge_metrics", "monocular",
    "resize_bilinear", "seam_error", "seg_edges", "soft_edge_error", "square_dilate",
]
