"""Throughput of the KITTI train pipeline: depthforge vs a plain PIL/numpy version of the reference.

Creates ~20 full-size (375x1242) samples in the KITTI layout under a temporary folder, then measures
samples/s of the train transform (jitter, bottom crop, flip, random crop, to tensors) in the main
process and with DataLoader workers, and prints a table.

    python benchmarks/bench_dataloader.py [--samples 20] [--epochs 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image, ImageEnhance
from torch.utils.data import DataLoader, Dataset

from depthforge.data import KittiDepthCompletion, KittiSample, KittiTransformConfig

SHAPE = (375, 1242)
DRIVE = "2011_09_26_drive_0001_sync"


def _photo_like(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Smooth colour image with mild noise: compresses and decodes roughly like a KITTI frame."""
    small = rng.integers(0, 256, (shape[0] // 16 + 1, shape[1] // 16 + 1, 3), dtype=np.uint8)
    big = cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    noise = rng.integers(-6, 7, big.shape)
    return np.clip(big.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def make_data(root: Path, n: int, seed: int = 0) -> tuple[Path, Path, Path]:
    """Write ``n`` train samples (camera image_02) and return (depth root, kitti_raw root, semantic root)."""
    rng = np.random.default_rng(seed)
    depth, raw, sem = root / "kitti_depth" / "depth", root / "kitti_raw", root / "semantic_maps"
    for k in range(n):
        name = f"{5 + k:010d}.png"
        for kind, sub, density in (("annotated", "groundtruth", 0.3), ("velodyne", "velodyne_raw", 0.05)):
            folder = depth / f"data_depth_{kind}" / "train" / DRIVE / "proj_depth" / sub / "image_02"
            folder.mkdir(parents=True, exist_ok=True)
            values = rng.integers(256, 20000, SHAPE, dtype=np.uint16)
            values[rng.random(SHAPE) > density] = 0
            cv2.imwrite(str(folder / name), values)
        for base in (raw, sem):
            folder = base / DRIVE[:10] / DRIVE / "image_02" / "data"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(_photo_like(rng, SHAPE)).save(folder / name)
    return depth, raw, sem


class ReferenceStylePIL(Dataset):
    """The straightforward pipeline the reference uses: PIL decode, ImageEnhance jitter, numpy crops."""

    def __init__(self, samples: list[KittiSample], jitter: float = 0.1) -> None:
        self.samples = samples
        self.jitter = jitter

    def __len__(self) -> int:
        return len(self.samples)

    @staticmethod
    def _depth(path: Path) -> np.ndarray:
        with Image.open(path) as img:
            png = np.array(img, dtype=int)
        assert png.max() > 255
        return np.expand_dims(png.astype(np.float64) / 256.0, -1)

    @staticmethod
    def _bottom_crop(a: np.ndarray) -> np.ndarray:
        h, w = a.shape[:2]
        j = int(round((w - 1216) / 2.0))
        return a[h - 352 :, j : j + 1216]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        s = self.samples[index]
        with Image.open(s.image) as img:
            rgb = np.array(img, dtype="uint8")
        with Image.open(s.semantic) as img:
            semantic = np.array(img.convert("RGB"), dtype="uint8")
        sparse, target = self._depth(s.sparse), self._depth(s.gt)

        rng = np.random.default_rng(index)
        flip = rng.uniform() < 0.5
        lo, hi = max(0.0, 1 - self.jitter), 1 + self.jitter
        factors = [rng.uniform(lo, hi) for _ in range(3)]
        ops = [
            lambda im: ImageEnhance.Brightness(im).enhance(factors[0]),
            lambda im: ImageEnhance.Contrast(im).enhance(factors[1]),
            lambda im: ImageEnhance.Color(im).enhance(factors[2]),
            lambda im: Image.merge("HSV", im.convert("HSV").split()).convert("RGB"),
        ]
        pil = Image.fromarray(rgb)
        for k in rng.permutation(4):
            pil = ops[k](pil)
        rgb = np.array(pil)

        out = {}
        top = int(rng.integers(0, 352 - 320 + 1))
        for key, a in (("image", rgb), ("semantic", semantic), ("sparse", sparse), ("gt", target)):
            a = self._bottom_crop(a)
            if flip:
                a = np.fliplr(a)
            a = a[top : top + 320]
            out[key] = torch.from_numpy(a.transpose(2, 0, 1).copy()).float()
        return out


def _rate(dataset: Dataset, workers: int, epochs: int) -> float:
    """Samples per second over ``epochs`` passes, after one warm-up pass."""
    if workers == 0:
        dataset[0]
        start = time.perf_counter()
        for _ in range(epochs):
            for i in range(len(dataset)):
                dataset[i]
        return epochs * len(dataset) / (time.perf_counter() - start)
    loader = DataLoader(dataset, batch_size=1, num_workers=workers, persistent_workers=True)
    for _ in loader:  # warm-up: starts the workers
        pass
    start = time.perf_counter()
    for _ in range(epochs):
        for _ in loader:
            pass
    return epochs * len(dataset) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        roots = make_data(Path(tmp), args.samples)
        ours = KittiDepthCompletion(*roots, split="train", transform=KittiTransformConfig(), seed=0)
        ours_no_hue = KittiDepthCompletion(
            *roots, split="train", transform=KittiTransformConfig(jitter_hue_roundtrip=False), seed=0
        )
        ref = ReferenceStylePIL(ours.samples)
        rows = []
        for name, ds in (("PIL reference-style", ref), ("depthforge", ours), ("depthforge, no hue step", ours_no_hue)):
            for workers in (0, args.workers):
                rate = _rate(ds, workers, args.epochs)
                rows.append((name, "main process" if workers == 0 else f"{workers} workers", rate))
    print(f"KITTI train pipeline, {args.samples} samples of {SHAPE[0]}x{SHAPE[1]}, {args.epochs} timed epochs")
    print(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch thread(s)\n")
    print(f"| {'pipeline':<24} | {'mode':<12} | {'samples/s':>9} | {'ms/sample':>9} |")
    print(f"|{'-' * 26}|{'-' * 14}|{'-' * 11}|{'-' * 11}|")
    for name, mode, rate in rows:
        print(f"| {name:<24} | {mode:<12} | {rate:9.1f} | {1000 / rate:9.1f} |")


if __name__ == "__main__":
    main()
