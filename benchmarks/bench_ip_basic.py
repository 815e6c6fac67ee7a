"""Per-frame CPU time of the classic baselines on a KITTI-sized sparse map.

Usage: python benchmarks/bench_ip_basic.py [--repeats 30] [--density 0.05] [--threads N]

Input: 375 x 1242 (KITTI raw frame) float32 map with ``density`` of the pixels holding a random depth in
[1, 85] m below an empty top band, roughly like a projected 64-beam LiDAR scan. Prints a table of median /
mean / min time per frame, to compare with the timings of the IP-Basic paper (Ku et al., CRV 2018).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np

from depthforge.baselines import fill_in_fast, fill_in_multiscale, nearest_fill
from depthforge.baselines.ip_basic import extend_to_top, first_valid_rows

HEIGHT, WIDTH = 375, 1242


def make_frame(density: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    depth = np.zeros((HEIGHT, WIDTH), np.float32)
    hit = rng.random(depth.shape) < density
    depth[hit] = rng.uniform(1.0, 85.0, int(hit.sum()))
    depth[: HEIGHT // 4] = 0.0  # LiDAR sees nothing in the upper part of the image
    return depth


def time_per_frame(fn: Callable[[np.ndarray], object], frame: np.ndarray, repeats: int) -> list[float]:
    fn(frame)  # warm-up: first calls pay for allocation and OpenCV dispatch
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(frame)
        times.append(time.perf_counter() - start)
    return times


def loop_extend_to_top(depth: np.ndarray) -> np.ndarray:
    """The reference's per-column Python loop, for comparison with the vectorised step."""
    top_rows = np.argmax(depth > 0.1, axis=0)
    top_values = depth[top_rows, range(depth.shape[1])]
    for col in range(depth.shape[1]):
        depth[0 : top_rows[col], col] = top_values[col]
    return depth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--density", type=float, default=0.05)
    parser.add_argument("--threads", type=int, default=None, help="cv2.setNumThreads (default: OpenCV's)")
    args = parser.parse_args()
    if args.threads is not None:
        cv2.setNumThreads(args.threads)

    frame = make_frame(args.density)
    cases: dict[str, Callable[[np.ndarray], object]] = {
        "fill_in_fast bilateral (default)": lambda d: fill_in_fast(d),
        "fill_in_fast gaussian": lambda d: fill_in_fast(d, blur_type="gaussian"),
        "fill_in_fast gaussian + extrapolate (paper)": lambda d: fill_in_fast(
            d, extrapolate=True, blur_type="gaussian"
        ),
        "fill_in_fast bilateral + extrapolate": lambda d: fill_in_fast(d, extrapolate=True),
        "fill_in_multiscale bilateral": lambda d: fill_in_multiscale(d),
        "fill_in_multiscale gaussian + extrapolate": lambda d: fill_in_multiscale(
            d, extrapolate=True, blur_type="gaussian"
        ),
        "nearest_fill": nearest_fill,
    }
    print(f"frame {WIDTH}x{HEIGHT}, {int((frame > 0).sum())} points ({args.density:.1%} below the top band), "
          f"{args.repeats} repeats, OpenCV {cv2.__version__} with {cv2.getNumThreads()} thread(s), "
          f"NumPy {np.__version__}, {platform.processor() or platform.machine()}")
    header = f"{'method':<46} {'median ms':>10} {'mean ms':>9} {'min ms':>8} {'FPS':>7}"
    print(header)
    print("-" * len(header))
    for name, fn in cases.items():
        t = time_per_frame(fn, frame, args.repeats)
        med = statistics.median(t)
        mean, best = statistics.fmean(t), min(t)
        print(f"{name:<46} {med * 1e3:>10.2f} {mean * 1e3:>9.2f} {best * 1e3:>8.2f} {1 / med:>7.1f}")

    dense = fill_in_fast(frame)
    steps = {
        "extend-to-top step, vectorised": lambda d: extend_to_top(d.copy(), first_valid_rows(d)),
        "extend-to-top step, per-column loop": lambda d: loop_extend_to_top(d.copy()),
    }
    print()
    for name, fn in steps.items():
        med = statistics.median(time_per_frame(fn, dense, args.repeats))
        print(f"{name:<46} {med * 1e3:>10.3f} ms")


if __name__ == "__main__":
    main()
