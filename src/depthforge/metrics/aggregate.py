"""Per-image metric averaging that a distributed validation loop can reduce.

Every reference protocol scores each image separately and averages over images. ``MetricAverager``
keeps, per key, a float64 tensor of sums and a tensor of counts. With ``nan_policy='omit'`` (``np.nanmean``,
used by ``mono-zoe`` and ``cityscapes-pr``) NaN values are not added and not counted; with
``'propagate'`` (plain mean, ``kitti-*`` protocols) a NaN makes the mean NaN.

DDP use: call ``update`` in each rank's validation step, then either
``torch.distributed.all_reduce`` the two tensors returned by ``state()`` (keys are sorted, so every rank
has the same layout provided all ranks saw the same keys) and ``load_state``, or gather the states and
``merge`` them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import torch

from depthforge.errors import DataError


class MetricAverager:
    """Running per-image mean of metric dicts."""

    def __init__(self, nan_policy: Literal["omit", "propagate"] = "omit") -> None:
        if nan_policy not in ("omit", "propagate"):
            raise DataError("nan_policy", f"expected 'omit' or 'propagate', got {nan_policy!r}")
        self.nan_policy = nan_policy
        self._sums: dict[str, float] = {}
        self._counts: dict[str, int] = {}

    @classmethod
    def for_protocol(cls, protocol: str) -> MetricAverager:
        """The averaging rule the protocol declares (plain mean or nanmean)."""
        from depthforge.metrics.protocols import get_protocol

        return cls(get_protocol(protocol).nan_policy)

    def update(self, metrics: Mapping[str, float], n: int = 1) -> None:
        """Add one image's metrics (``n`` > 1 adds the same values with weight ``n``)."""
        for k, v in metrics.items():
            v = float(v)
            self._sums.setdefault(k, 0.0)
            self._counts.setdefault(k, 0)
            if math.isnan(v) and self.nan_policy == "omit":
                continue
            self._sums[k] += v * n
            self._counts[k] += n

    def compute(self) -> dict[str, float]:
        """Mean per key; NaN for a key that never received a (non-NaN) value."""
        return {k: (self._sums[k] / self._counts[k] if self._counts[k] else float("nan")) for k in self._sums}

    def keys(self) -> list[str]:
        """Sorted metric names (the layout of ``state()``)."""
        return sorted(self._sums)

    def state(self, keys: Sequence[str] | None = None) -> tuple[list[str], torch.Tensor, torch.Tensor]:
        """(keys, sums, counts) as float64 tensors, ready for ``all_reduce(op=SUM)``.

        ``keys`` fixes the layout (absent keys give 0 and 0), so that processes that scored no
        image still contribute tensors of the same shape to a collective reduction.
        """
        keys = self.keys() if keys is None else list(keys)
        sums = torch.tensor([self._sums.get(k, 0.0) for k in keys], dtype=torch.float64)
        counts = torch.tensor([float(self._counts.get(k, 0)) for k in keys], dtype=torch.float64)
        return keys, sums, counts

    def load_state(self, keys: list[str], sums: torch.Tensor, counts: torch.Tensor) -> None:
        """Replace the accumulated values (e.g. with all-reduced tensors)."""
        if not (len(keys) == sums.numel() == counts.numel()):
            raise DataError("state", f"{len(keys)} keys but {sums.numel()} sums and {counts.numel()} counts")
        self._sums = {k: float(s) for k, s in zip(keys, sums.tolist())}
        self._counts = {k: int(round(c)) for k, c in zip(keys, counts.tolist())}

    def merge(self, other: MetricAverager) -> None:
        """Add another averager's sums and counts (same nan policy)."""
        if other.nan_policy != self.nan_policy:
            raise DataError("merge", "cannot merge averagers with different nan policies")
        for k in other._sums:
            self._sums[k] = self._sums.get(k, 0.0) + other._sums[k]
            self._counts[k] = self._counts.get(k, 0) + other._counts[k]

    def reset(self) -> None:
        """Forget everything."""
        self._sums.clear()
        self._counts.clear()

    def __len__(self) -> int:
        return max(self._counts.values(), default=0)
