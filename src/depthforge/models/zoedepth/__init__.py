"""ZoeDepth-N (MiDaS v3.1 DPT-BEiT-L/16-384 core + metric bins head): model, head, checkpoint layouts."""

from depthforge.models.zoedepth.checkpoint import checkpoint_filter, describe_state_dict
from depthforge.models.zoedepth.model import FEATURE_KEYS, ZoeDepth, default_taps, zoedepth_n

__all__ = [
    "FEATURE_KEYS", "ZoeDepth", "checkpoint_filter", "default_taps", "describe_state_dict", "zoedepth_n",
]
