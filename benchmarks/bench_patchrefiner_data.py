"""Throughput of the PatchRefiner training datasets: the fast path vs whole-frame augmentation.

Writes a few frames at the real sizes in the exact on-disk formats under a temporary folder
(UnrealStereo4K 2160x3840: ``.raw`` BGR dump, disparity ``.npy``, two ``Extrinsics`` files; CityScapes
1024x2048: image, 16-bit disparity, camera JSON, skyArea mask), then measures samples/s of the ``train``
items in the main process with the default augmentation (rotation, colour, flip, random crop), once with
the default fast path and once with ``whole_frame=True`` (the reference's cost model). The first item of
each pair of runs is also compared key by key: the two paths must give identical items.

    python benchmarks/bench_patchrefiner_data.py [--samples 10] [--frames 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from depthforge.data.cityscapes import CityscapesOptions, build_cityscapes
from depthforge.data.u4k import U4KOptions, build_u4k
from depthforge.io import (
    write_camera,
    write_disparity_npy,
    write_disparity_png,
    write_extrinsics,
    write_raw_image,
    write_rgb_png,
    write_u8_png,
)

U4K_SHAPE = (2160, 3840)
CS_SHAPE = (1024, 2048)


def _photo_like(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Smooth colour image with mild noise."""
    small = rng.integers(0, 256, (shape[0] // 32 + 1, shape[1] // 32 + 1, 3), dtype=np.uint8)
    big = cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    return np.clip(big.astype(np.int16) + rng.integers(-6, 7, big.shape), 0, 255).astype(np.uint8)


def _disparity(rng: np.random.Generator, shape: tuple[int, int], high: float) -> np.ndarray:
    rows = np.linspace(0.5, high, shape[0], dtype=np.float32)[:, None]
    disp = rows + rng.random(shape, dtype=np.float32)
    disp[: shape[0] // 5] = 0.0  # a sky band: disparity 0
    return disp


def write_u4k_frames(root: Path, frames: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    h, w = U4K_SHAPE
    k = np.array([[w / 2.0, 0, w / 2.0], [0, w / 2.0, h / 2.0], [0, 0, 1]])
    lines = []
    for f in range(frames):
        stem = f"{f:05d}"
        write_raw_image(root / "00000" / "Image0" / f"{stem}.raw", _photo_like(rng, U4K_SHAPE))
        write_disparity_npy(root / "00000" / "Disp0" / f"{stem}.npy", _disparity(rng, U4K_SHAPE, 300.0))
        for view in (0, 1):
            pose = np.concatenate([np.eye(3), [[-0.2 * view], [0], [0]]], axis=1)
            write_extrinsics(root / "00000" / f"Extrinsics{view}" / f"{stem}.txt", k, pose)
        lines.append(f"00000/Image0/{stem}.png 00000/Image1/{stem}.png 00000/Disp0/{stem}.npy "
                     f"00000/Disp1/{stem}.npy")
    (root / "splits").mkdir(parents=True, exist_ok=True)
    (root / "splits" / "train.txt").write_text("".join(line + "\n" for line in lines))


def write_cityscapes_frames(root: Path, frames: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    camera = {"extrinsic": {"baseline": 0.209313}, "intrinsic": {"fx": 2262.52, "fy": 2265.3, "u0": 1096.98,
                                                                  "v0": 513.137}}
    lines = []
    for f in range(frames):
        rel = f"train/aachen/aachen_{f:06d}_000019"
        write_rgb_png(root / "leftImg8bit" / f"{rel}_leftImg8bit.png", _photo_like(rng, CS_SHAPE), 1)
        write_disparity_png(root / "disparity" / f"{rel}_disparity.png", _disparity(rng, CS_SHAPE, 100.0), 1)
        write_camera(root / "camera" / f"{rel}_camera.json", camera)
        sky = np.zeros(CS_SHAPE, np.uint8)
        sky[: CS_SHAPE[0] // 5] = 255
        write_u8_png(root / "skyArea" / f"{rel}_skyArea.png", sky, 1)
        lines.append(f"leftImg8bit/{rel}_leftImg8bit.png disparity/{rel}_disparity.png")
    (root / "train.txt").write_text("".join(line + "\n" for line in lines))


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        torch.equal(a[k], b[k]) if isinstance(a[k], torch.Tensor) else a[k] == b[k] for k in a)


def _rate(dataset, samples: int) -> float:
    dataset[(0, 12345)]  # warm the page cache and lazy imports
    start = time.perf_counter()
    for i in range(samples):
        dataset[(i % len(dataset), 1000 + i)]
    return samples / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10, help="timed items per pipeline")
    parser.add_argument("--frames", type=int, default=3, help="frames written per data set")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        u4k_root, cs_root = Path(tmp) / "u4k", Path(tmp) / "cityscapes"
        write_u4k_frames(u4k_root, args.frames)
        write_cityscapes_frames(cs_root, args.frames)
        u4k = U4KOptions(root=str(u4k_root))
        cs = CityscapesOptions(root=str(cs_root))
        runs = {
            "u4k": (lambda o: build_u4k(o, "train", seed=0, max_samples=None), u4k, U4K_SHAPE),
            "cityscapes": (lambda o: build_cityscapes(o, "train", seed=0, max_samples=None), cs, CS_SHAPE),
        }
        print(f"PatchRefiner train items, {args.samples} timed samples each, workers 0")
        print(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch thread(s)\n")
        print(f"| {'dataset':<10} | {'frame':>9} | {'pipeline':<12} | {'samples/s':>9} | {'ms/sample':>9} | "
              f"{'speed-up':>8} | {'identical':>9} |")
        print(f"|{'-' * 12}|{'-' * 11}|{'-' * 14}|{'-' * 11}|{'-' * 11}|{'-' * 10}|{'-' * 11}|")
        for name, (build, options, shape) in runs.items():
            fast, slow = build(options), build(dataclasses.replace(options, whole_frame=True))
            same = all(_same(fast[(i, 7 + i)], slow[(i, 7 + i)]) for i in range(len(fast)))
            rate_slow = _rate(slow, args.samples)
            rate_fast = _rate(fast, args.samples)
            for label, rate, gain in (("whole_frame", rate_slow, ""), ("fast", rate_fast,
                                                                       f"{rate_fast / rate_slow:.1f}x")):
                print(f"| {name:<10} | {shape[0]}x{shape[1]:<4} | {label:<12} | {rate:9.2f} | {1000 / rate:9.1f} | "
                      f"{gain:>8} | {same!s:>9} |")


if __name__ == "__main__":
    main()
