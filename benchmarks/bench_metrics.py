"""Time each metric family on a synthetic KITTI-sized validation split (352 x 1216).

Frames are generated in small chunks so memory stays bounded; only the metric calls are timed. The
boundary family (Canny + distance transforms) is timed on fewer frames and extrapolated to 1,000
(stated in the table). Usage: ``python benchmarks/bench_metrics.py [--frames 1000] [--boundary-frames 20]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from depthforge.metrics import boundary_metrics, extract_edges, get_boundaries, kitti_completion, monocular

H, W = 352, 1216


def _chunk(rng: np.random.Generator, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """n (pred, gt) pairs: piecewise-planar scene, ~16 % dense GT, prediction with 3 % noise."""
    out = []
    rows = np.linspace(80, 5, H, dtype=np.float32)[:, None]  # ground plane: far at the top
    for _ in range(n):
        dense = np.repeat(rows, W, axis=1)
        for _ in range(6):  # fronto-parallel objects
            y, x = rng.integers(0, H - 60), rng.integers(0, W - 120)
            dense[y:y + rng.integers(30, 60), x:x + rng.integers(60, 120)] = rng.uniform(4, 40)
        gt = np.where(rng.random((H, W)) < 0.16, dense, 0).astype(np.float32)
        pred = (dense * (1 + 0.03 * rng.standard_normal((H, W)))).astype(np.float32)
        out.append((pred, gt))
    return out


def _time(name: str, fn: Callable[[np.ndarray, np.ndarray], object], frames: int, chunk: int,
          rng: np.random.Generator) -> float:
    total, done = 0.0, 0
    while done < frames:
        pairs = _chunk(rng, min(chunk, frames - done))
        t0 = time.perf_counter()
        for pred, gt in pairs:
            fn(pred, gt)
        total += time.perf_counter() - t0
        done += len(pairs)
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--boundary-frames", type=int, default=20)
    ap.add_argument("--chunk", type=int, default=25)
    args = ap.parse_args()
    rng = np.random.default_rng(0)

    def boundary(pred: np.ndarray, gt: np.ndarray) -> object:
        return boundary_metrics(pred, extract_edges(np.where(gt > 0, gt, 0)), gt > 0)

    families = [
        ("kitti-penet", lambda p, g: kitti_completion(p, g, "penet"), args.frames),
        ("kitti-devkit (with hole filling)", lambda p, g: kitti_completion(p, g, "devkit"), args.frames),
        ("mono-zoe (with SEE)", lambda p, g: monocular(p, g, 1e-3, 80, boundary=get_boundaries(g, 1.0)),
         args.frames),
        ("boundary (cityscapes-pr edge part)", boundary, args.boundary_frames),
    ]
    print(f"{'family':40s} {'frames timed':>12s} {'s / 1000 frames':>16s}")
    for name, fn, n in families:
        secs = _time(name, fn, n, args.chunk, rng)
        note = "" if n == 1000 else f"  (extrapolated from {n})"
        print(f"{name:40s} {n:12d} {secs * 1000 / n:16.1f}{note}")


if __name__ == "__main__":
    main()
