"""Time each metric family on a synthetic KITTI-sized validation split (352 x 1216).

Frames are generated in small chunks so memory stays bounded; only the metric calls are timed. The
boundary family (Canny + distance transforms) is timed on fewer frames and extrapolated to 1,000
(stated in the table). Wall-clock and process CPU time are both reported: on a shared machine the CPU
time is the steadier of the two. Usage:
``python benchmarks/bench_metrics.py [--frames 1000] [--boundary-frames 20] [--only boundary]``.
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
          rng: np.random.Generator) -> tuple[float, float]:
    """Wall-clock and process CPU seconds of the metric calls (CPU time is steadier on a shared machine)."""
    wall, cpu, done = 0.0, 0.0, 0
    while done < frames:
        pairs = _chunk(rng, min(chunk, frames - done))
        t0, c0 = time.perf_counter(), time.process_time()
        for pred, gt in pairs:
            fn(pred, gt)
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
        done += len(pairs)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--boundary-frames", type=int, default=20)
    ap.add_argument("--chunk", type=int, default=25)
    ap.add_argument("--only", default="", help="time only the families whose name contains this text")
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
    families = [f for f in families if args.only in f[0]]
    print(f"{'family':40s} {'frames timed':>12s} {'s / 1000 frames':>16s} {'CPU s / 1000':>13s}")
    for name, fn, n in families:
        wall, cpu = _time(name, fn, n, args.chunk, rng)
        note = "" if n == 1000 else f"  (extrapolated from {n})"
        print(f"{name:40s} {n:12d} {wall * 1000 / n:16.1f} {cpu * 1000 / n:13.1f}{note}")


if __name__ == "__main__":
    main()
