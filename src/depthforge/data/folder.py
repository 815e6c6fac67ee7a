"""Paired folders of user data: RGB + sparse depth + semantic map (+ optional ground truth), matched by stem.

Example: ``rgb/0001.png``, ``sparse/0001.png`` (KITTI 16-bit) or ``sparse/0001.npy`` (metres),
``semantic/0001.png``. Every folder must hold exactly the same set of stems: a missing counterpart, an
extra file, two files with one stem in a folder, or an empty folder is an error naming the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from depthforge.data import io, transforms
from depthforge.data.io import PathLikeStr
from depthforge.data.kitti import check_same_size
from depthforge.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
DEPTH_SUFFIXES = (".png", ".npy", ".pfm")


@dataclass(frozen=True)
class FolderSample:
    """One paired sample of a :class:`PairedFolderDataset`."""

    name: str
    rgb: Path
    semantic: Path
    d: Path
    gt: Path | None = None


def _by_stem(folder: Path, suffixes: tuple[str, ...], what: str) -> dict[str, Path]:
    if not folder.is_dir():
        raise DataError(folder, f"{what} folder is not a directory")
    found: dict[str, Path] = {}
    with os.scandir(folder) as it:
        for entry in sorted(it, key=lambda e: e.name):
            path = Path(entry.path)
            if not entry.is_file() or path.suffix.lower() not in suffixes:
                continue
            if path.stem in found:
                raise DataError(path, f"two {what} files share the stem '{path.stem}' (also {found[path.stem].name})")
            found[path.stem] = path
    if not found:
        raise DataError(folder, f"empty {what} folder: no files match {', '.join('*' + s for s in suffixes)}")
    return found


def scan_folders(
    rgb_dir: PathLikeStr,
    depth_dir: PathLikeStr,
    semantic_dir: PathLikeStr,
    gt_dir: PathLikeStr | None = None,
) -> list[FolderSample]:
    """Pair the files of the folders by stem (sorted by stem)."""
    rgb = _by_stem(Path(rgb_dir), IMAGE_SUFFIXES, "RGB")
    others = {
        "sparse depth": _by_stem(Path(depth_dir), DEPTH_SUFFIXES, "sparse depth"),
        "semantic map": _by_stem(Path(semantic_dir), IMAGE_SUFFIXES, "semantic map"),
    }
    if gt_dir is not None:
        others["ground truth"] = _by_stem(Path(gt_dir), DEPTH_SUFFIXES, "ground truth")
    folders = {"sparse depth": depth_dir, "semantic map": semantic_dir, "ground truth": gt_dir}
    for what, files in others.items():
        missing = sorted(set(rgb) - set(files))
        if missing:
            raise DataError(
                Path(folders[what]) / f"{missing[0]}.*",  # type: ignore[arg-type]
                f"missing {what} for RGB image {rgb[missing[0]].name} ({len(missing)} missing)",
            )
        extra = sorted(set(files) - set(rgb))
        if extra:
            raise DataError(files[extra[0]], f"{what} without an RGB image ({len(extra)} such files)")
    gts = others.get("ground truth")
    return [
        FolderSample(
            name=stem,
            rgb=rgb[stem],
            semantic=others["semantic map"][stem],
            d=others["sparse depth"][stem],
            gt=None if gts is None else gts[stem],
        )
        for stem in sorted(rgb)
    ]


class PairedFolderDataset(Dataset):
    """Dataset over :func:`scan_folders`; items as :class:`~depthforge.data.kitti.KittiDepthCompletion`.

    ``bottom_crop=(h, w)`` applies the reference val crop; None keeps the full image.
    """

    def __init__(
        self,
        rgb_dir: PathLikeStr,
        depth_dir: PathLikeStr,
        semantic_dir: PathLikeStr,
        gt_dir: PathLikeStr | None = None,
        bottom_crop: tuple[int, int] | None = None,
    ) -> None:
        self.samples = scan_folders(rgb_dir, depth_dir, semantic_dir, gt_dir)
        self.bottom_crop = bottom_crop

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        sample = self.samples[index]
        arrays: dict[str, np.ndarray] = {
            "rgb": io.read_rgb(sample.rgb),
            "semantic": io.read_semantic(sample.semantic),
            "d": io.read_depth(sample.d),
        }
        paths = {"rgb": sample.rgb, "semantic": sample.semantic, "d": sample.d}
        if sample.gt is not None:
            arrays["gt"] = io.read_depth(sample.gt)
            paths["gt"] = sample.gt
        check_same_size(arrays, paths)
        if self.bottom_crop is not None:
            bh, bw = self.bottom_crop
            h, w = arrays["d"].shape
            if h < bh or w < bw:
                raise DataError(sample.d, f"image is {h}x{w}, smaller than the {bh}x{bw} bottom crop")
            arrays = {k: transforms.bottom_crop(a, bh, bw) for k, a in arrays.items()}
        item: dict[str, Any] = {k: transforms.to_tensor(a) for k, a in arrays.items()}
        item["name"] = sample.name
        return item
