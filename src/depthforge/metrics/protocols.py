"""Named metric protocols: the single source of each protocol's keys, units, direction, NaN policy,
inputs and table, so that every reported number states how it was computed.

``get_protocol(name).score(pred, gt, **extras)`` scores one image. Training validation, ``depthforge test``,
``depthforge eval`` and the demos all score through it (via :class:`depthforge.engine.evaluation.Scorer`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from depthforge.errors import ConfigError, DataError
from depthforge.metrics._arrays import ArrayLike
from depthforge.metrics.aggregate import MetricAverager
from depthforge.metrics.boundary import BOUNDARY_KEYS
from depthforge.metrics.cityscapes import CITYSCAPES_KEYS
from depthforge.metrics.kitti import KITTI_KEYS
from depthforge.metrics.mono import MONO_KEYS

NanPolicy = Literal["omit", "propagate"]
Scorer = Callable[..., dict[str, float]]

# Larger is better for these keys, in every protocol; everything else is an error (smaller is better).
HIGHER_IS_BETTER = frozenset({
    "delta1", "delta2", "delta3", "a1", "a2", "a3", "precision", "recall", "f1_score", "acc",
    "boundary_f1", "boundary_precision", "boundary_recall",
})


@dataclass(frozen=True)
class Protocol:
    """One evaluation protocol of a public reference."""

    name: str
    keys: tuple[str, ...]
    """Table columns in the order the papers print them."""
    units: Mapping[str, str]
    """Unit of each key that has one (absent: unitless)."""
    nan_policy: NanPolicy
    """How per-image values are averaged: ``omit`` = ``np.nanmean``, ``propagate`` = plain mean."""
    reference: str
    """Where the reference computes it."""
    resizes: bool
    """The prediction is bilinearly resized to the ground truth; otherwise sizes must match."""
    needs: tuple[str, ...] = ()
    """Extra per-image inputs ``score`` requires (``boundary``, ``seg_color``, ``image``, ``gt_edges``)."""
    depth_range: tuple[float, float] | None = None
    """Default (min, max) valid ground-truth depth in metres, for protocols that take one."""
    fn: Scorer | None = field(default=None, repr=False, compare=False)

    def score(self, pred: ArrayLike, gt: ArrayLike, *, depth_range: tuple[float, float] | None = None,
              **extras: Any) -> dict[str, float]:
        """Metrics of one image (Python floats)."""
        missing = [k for k in self.needs if extras.get(k) is None]
        if missing:
            raise DataError(None, f"protocol {self.name} needs {', '.join(missing)} for every image")
        assert self.fn is not None
        return self.fn(pred, gt, depth_range or self.depth_range, extras)

    def direction(self, key: str) -> Literal["min", "max"]:
        return direction(key)

    def averager(self) -> MetricAverager:
        return MetricAverager(self.nan_policy)

    def header(self, key: str) -> str:
        unit = self.units.get(key)
        return f"{key} ({unit})" if unit else key

    def format_table(self, rows: Mapping[str, Mapping[str, float]], keys: tuple[str, ...] | None = None) -> str:
        """A fixed-width table, one row per method, columns in paper order with their units."""
        keys = keys or self.keys
        head = ["method"] + [self.header(k) for k in keys]
        body = [[name] + [_cell(m.get(k, math.nan)) for k in keys] for name, m in rows.items()]
        lines = [head, *body]
        widths = [max(len(r[i]) for r in lines) for i in range(len(head))]
        out = [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in lines]
        out.insert(1, "-+-".join("-" * w for w in widths))
        cells = [m.get(k, math.nan) for m in rows.values() for k in keys]
        if any(math.isinf(v) for v in cells):
            out.append("inf: a prediction of 0 (or below) where the ground truth is valid, in an inverse-depth or "
                       "log metric")
        if any(math.isnan(v) for v in cells):
            out.append("nan: no valid ground-truth pixel, or a metric the protocol does not compute")
        return "\n".join(out)


def _cell(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1e-2 and value != 0 and math.isfinite(value) else f"{value:.3f}"


def direction(key: str) -> Literal["min", "max"]:
    """Whether a metric is maximised or minimised (``val/delta1`` -> max, ``rmse`` -> min)."""
    return "max" if key.rsplit("/", 1)[-1] in HIGHER_IS_BETTER else "min"


# --- scoring functions: (pred, gt, depth_range, extras) -> metrics --------------------------------------------
def _kitti(variant: Literal["penet", "devkit"]) -> Scorer:
    def score(pred: ArrayLike, gt: ArrayLike, _: Any, extras: Mapping[str, Any]) -> dict[str, float]:
        from depthforge.metrics.kitti import kitti_completion

        return kitti_completion(pred, gt, f"kitti-{variant}")

    return score


def _mono(pred: ArrayLike, gt: ArrayLike, rng: tuple[float, float], extras: Mapping[str, Any]) -> dict[str, float]:
    from depthforge.metrics.mono import monocular

    return monocular(pred, gt, rng[0], rng[1], boundary=extras.get("boundary"))


def _cityscapes(pred: ArrayLike, gt: ArrayLike, rng: tuple[float, float],
                extras: Mapping[str, Any]) -> dict[str, float]:
    from depthforge.metrics.cityscapes import cityscapes

    return cityscapes(pred, gt, extras["seg_color"], extras["image"], extras.get("boundary"), rng[0], rng[1])


def _mdec(pred: ArrayLike, gt: ArrayLike, rng: tuple[float, float], extras: Mapping[str, Any]) -> dict[str, float]:
    from depthforge.metrics.boundary import mdec_edge_metrics

    return mdec_edge_metrics(pred, gt, extras["gt_edges"], rng[0], rng[1])


def _depthpro(pred: ArrayLike, gt: ArrayLike, _: Any, extras: Mapping[str, Any]) -> dict[str, float]:
    from depthforge.metrics.depthpro import boundary_f1

    return boundary_f1(pred, gt)


_KITTI_UNITS = {"rmse": "mm", "mae": "mm", "irmse": "1/km", "imae": "1/km", "mse": "mm^2"}
_METRES = {"rmse": "m", "see": "m"}
_PX = {"EdgeAcc": "px", "EdgeComp": "px"}

PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol("kitti-penet", KITTI_KEYS, _KITTI_UNITS, "propagate",
                 "SemAttNet/PENet metrics.py Result.evaluate (gt > 0.1 m; silog x100)", resizes=False,
                 fn=_kitti("penet")),
        Protocol("kitti-devkit", KITTI_KEYS, _KITTI_UNITS, "propagate",
                 "KITTI depth devkit evaluate_depth.cpp with interpolateBackground (devkit_* keys in m, 1/m)",
                 resizes=False, fn=_kitti("devkit")),
        Protocol("mono-zoe", MONO_KEYS, _METRES, "omit",
                 "PatchRefiner estimator/utils/metric.py compute_metrics (silog x100; sq_rel = mean (g-p)^2/g)",
                 resizes=True, depth_range=(1e-3, 80.0), fn=_mono),
        Protocol("cityscapes-pr", CITYSCAPES_KEYS, {**_METRES, **_PX}, "omit",
                 "PatchRefiner cityscapes_dataset.py get_metrics", resizes=True,
                 needs=("seg_color", "image"), depth_range=(1e-3, 250.0), fn=_cityscapes),
        Protocol("mdec", ("EdgeAcc", "EdgeComp"), _PX, "propagate",
                 "MDEC monodepth_benchmark metrics_ibims edge part (median-scaled)", resizes=True,
                 needs=("gt_edges",), depth_range=(1e-3, 100.0), fn=_mdec),
        Protocol("depthpro-boundary", ("boundary_f1", "boundary_precision", "boundary_recall"), {}, "propagate",
                 "apple/ml-depth-pro eval/boundary_metrics.py SI_boundary_F1", resizes=False, fn=_depthpro),
    )
}


def get_protocol(name: str) -> Protocol:
    """Look up a protocol by name; unknown names raise a ConfigError listing the known ones."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, list(PROTOCOLS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown metric protocol {name!r}{hint} (known: {', '.join(PROTOCOLS)})") from None


__all__ = ["BOUNDARY_KEYS", "HIGHER_IS_BETTER", "PROTOCOLS", "Protocol", "direction", "get_protocol"]
