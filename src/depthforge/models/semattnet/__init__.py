"""SemAttNet (Nazir et al., IEEE Access 2022) depth completion: backbone, CSPN++ head, checkpoint layouts."""

from depthforge.models.semattnet.checkpoint import checkpoint_filter, describe_state_dict
from depthforge.models.semattnet.model import (
    SemAttNet,
    SemAttNetBackbone,
    semattnet,
    semattnet_bb,
    validate_inputs,
)

__all__ = [
    "SemAttNet",
    "SemAttNetBackbone",
    "checkpoint_filter",
    "describe_state_dict",
    "semattnet",
    "semattnet_bb",
    "validate_inputs",
]
