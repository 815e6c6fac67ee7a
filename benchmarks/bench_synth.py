"""Seconds per synthetic frame: KITTI (stereo RGB + LiDAR + accumulated GT), U4K and CityScapes.

Run: ``python benchmarks/bench_synth.py [--frames N]``; prints a table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from depthforge.synth import write_cityscapes, write_u4k
from depthforge.synth.drive import GT_WINDOW, Drive, simulate_frame
from depthforge.synth.render import render


def _kitti(frames: int) -> tuple[float, float]:
    drive = Drive.create(0, frames + 2 * GT_WINDOW)
    for k in range(2 * GT_WINDOW + 1):  # warm the LiDAR sweep cache the first frame needs
        drive.scan(k)
    t0 = time.perf_counter()
    render(drive.scene, drive.camera(GT_WINDOW, 2))
    one_view = time.perf_counter() - t0
    t0 = time.perf_counter()
    for f in range(GT_WINDOW, GT_WINDOW + frames):
        simulate_frame(drive, f)  # one new sweep per frame, two views, sparse + GT
    return one_view, (time.perf_counter() - t0) / frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=3)
    args = parser.parse_args()
    view, kitti = _kitti(args.frames)
    rows = [("kitti: one 1242x375 view (RGB, depth, semantic)", view),
            ("kitti: frame = 2 views + LiDAR sweep + sparse + GT", kitti)]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_u4k(Path(tmp) / "u4k", scenes=1, frames=args.frames, progress=False)
        rows.append(("u4k: 384x216 stereo pair, written", (time.perf_counter() - t0) / args.frames))
        t0 = time.perf_counter()
        write_cityscapes(Path(tmp) / "cs", cities=1, val_cities=0, frames=args.frames, progress=False)
        rows.append(("cityscapes: 512x256 frame, written", (time.perf_counter() - t0) / args.frames))
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  s/frame")
    for name, sec in rows:
        print(f"{name:<{width}}  {sec:7.3f}")


if __name__ == "__main__":
    main()
