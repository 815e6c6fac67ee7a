"""PatchRefiner (ECCV 2024): coarse and fine ZoeDepth-N branches, FusionUnet, RoI-align, tiled inference."""

from depthforge.models.patchrefiner.checkpoint import (
    build_from_pair,
    checkpoint_filter,
    describe_state_dict,
    load_checkpoint_pair,
)
from depthforge.models.patchrefiner.fusion import FusionUnet
from depthforge.models.patchrefiner.model import PROCESS_SHAPE, PatchRefiner, patchrefiner
from depthforge.models.patchrefiner.roi_align import roi_align
from depthforge.models.patchrefiner.tiling import TileConfig, blend_mask, parse_mode

__all__ = [
    "PROCESS_SHAPE",
    "FusionUnet",
    "PatchRefiner",
    "TileConfig",
    "blend_mask",
    "build_from_pair",
    "checkpoint_filter",
    "describe_state_dict",
    "load_checkpoint_pair",
    "parse_mode",
    "patchrefiner",
    "roi_align",
]
