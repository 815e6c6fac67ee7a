"""Classic, learning-free depth-completion baselines (CPU, NumPy/OpenCV)."""

from __future__ import annotations

from depthforge.baselines.ip_basic import fill_in_fast, fill_in_multiscale
from depthforge.baselines.nearest import nearest_fill

__all__ = ["fill_in_fast", "fill_in_multiscale", "nearest_fill"]
