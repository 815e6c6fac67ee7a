"""Named metric protocols, so every reported number states how it was computed."""

from __future__ import annotations

from dataclasses import dataclass

from depthforge.errors import ConfigError
from depthforge.metrics.boundary import BOUNDARY_KEYS
from depthforge.metrics.cityscapes import CITYSCAPES_KEYS
from depthforge.metrics.kitti import KITTI_KEYS
from depthforge.metrics.mono import MONO_KEYS


@dataclass(frozen=True)
class Protocol:
    """A protocol name, the keys of its table in paper order, their units and its averaging rule."""

    name: str
    keys: tuple[str, ...]
    units: str
    nanmean: bool
    reference: str


PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol("kitti-penet", KITTI_KEYS, "mm, mm^2, 1/km; silog x100; gt > 0.1 m", False,
                 "SemAttNet/PENet metrics.py Result.evaluate"),
        Protocol("kitti-devkit", KITTI_KEYS, "mm, mm^2, 1/km; silog x100 (devkit_* keys: m, 1/m, no x100)", False,
                 "KITTI depth devkit evaluate_depth.cpp with interpolateBackground"),
        Protocol("mono-zoe", MONO_KEYS, "m; silog x100; sq_rel = mean (g-p)^2/g", True,
                 "PatchRefiner estimator/utils/metric.py compute_metrics"),
        Protocol("cityscapes-pr", CITYSCAPES_KEYS, "m; EdgeAcc/EdgeComp in px", True,
                 "PatchRefiner cityscapes_dataset.py get_metrics"),
        Protocol("mdec", ("EdgeAcc", "EdgeComp"), "px", False,
                 "MDEC monodepth_benchmark metrics_ibims edge part"),
        Protocol("depthpro-boundary", ("boundary_f1", "boundary_precision", "boundary_recall"), "unitless", False,
                 "apple/ml-depth-pro eval/boundary_metrics.py SI_boundary_F1"),
    )
}

__all__ = ["BOUNDARY_KEYS", "PROTOCOLS", "Protocol", "get_protocol"]


def get_protocol(name: str) -> Protocol:
    """Look up a protocol by name; unknown names raise a ConfigError listing the known ones."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise ConfigError(f"unknown metric protocol {name!r}; known: {', '.join(PROTOCOLS)}") from None
