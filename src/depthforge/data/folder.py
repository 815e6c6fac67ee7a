"""Paired folders of user data: RGB + sparse depth + semantic map (+ optional ground truth), matched by stem.

KITTI's ``val_selection_cropped`` folders pair too: their file names differ only by the folder's own token
(``image`` / ``velodyne_raw`` / ``groundtruth_depth``), which pairing ignores.

Example: ``rgb/0001.png``, ``sparse/0001.png`` (KITTI 16-bit) or ``sparse/0001.npy`` (metres),
``semantic/0001.png``. Every folder must hold exactly the same set of stems: a missing counterpart, an
extra file, two files with one stem in a folder, or an empty folder is an error naming the file.

For ``depthforge eval``, :func:`folder_gt` lists a folder of ground-truth depth files, matched by stem.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

from depthforge.batch import NAME, SPARSE
from depthforge.data import transforms
from depthforge.data.samples import GTSample, list_files, load_completion_arrays
from depthforge.errors import DataError
from depthforge.io import DEPTH_SUFFIXES, IMAGE_SUFFIXES, PathLike, read_depth


@dataclass(frozen=True)
class FolderSample:
    """One paired sample of a :class:`PairedFolderDataset`."""

    name: str
    image: Path
    semantic: Path
    sparse: Path
    gt: Path | None = None


def index_by_stem(folder: Path, suffixes: tuple[str, ...], what: str, *,
                  key: Callable[[str], str] | None = None, prefer: tuple[str, ...] = ()) -> dict[str, Path]:
    """Files of ``folder`` with one of ``suffixes``, by stem (or by ``key(stem)``).

    Two files sharing a stem are an error, unless both suffixes are in ``prefer``: then the one listed first
    wins (``predict`` writes ``name.npy`` beside ``name.png``; the float file is the unquantised one).
    """
    if not folder.is_dir():
        raise DataError(folder, f"{what} folder is not a directory")
    found: dict[str, Path] = {}
    with os.scandir(folder) as it:
        for entry in sorted(it, key=lambda e: e.name):
            path = Path(entry.path)
            suffix = path.suffix.lower()
            if not entry.is_file() or suffix not in suffixes:
                continue
            stem = key(path.stem) if key is not None else path.stem
            other = found.get(stem)
            if other is not None:
                rank = {s: i for i, s in enumerate(prefer)}
                if suffix in rank and other.suffix.lower() in rank:
                    if rank[suffix] < rank[other.suffix.lower()]:
                        found[stem] = path
                    continue
                raise DataError(path, f"two {what} files share the stem '{stem}' (also {other.name})")
            found[stem] = path
    if not found:
        raise DataError(folder, f"empty {what} folder: no files match {', '.join('*' + s for s in suffixes)}")
    return found


_KITTI_FOLDER_TOKEN = re.compile(r"_(velodyne_raw|groundtruth_depth)_(?=\d{10}_image_0[23]$)")


def pairing_key(stem: str) -> str:
    """The stem files are paired by: KITTI's ``val_selection_cropped`` names each folder's files after the folder
    (``..._sync_velodyne_raw_0000000005_image_02``); those tokens become ``image``, the RGB file's name."""
    return _KITTI_FOLDER_TOKEN.sub("_image_", stem)


def scan_folders(
    rgb_dir: PathLike,
    depth_dir: PathLike,
    semantic_dir: PathLike,
    gt_dir: PathLike | None = None,
) -> list[FolderSample]:
    """Pair the files of the folders by stem (sorted by stem)."""
    rgb = index_by_stem(Path(rgb_dir), IMAGE_SUFFIXES, "RGB", key=pairing_key)
    others = {
        "sparse depth": index_by_stem(Path(depth_dir), DEPTH_SUFFIXES, "sparse depth", key=pairing_key),
        "semantic map": index_by_stem(Path(semantic_dir), IMAGE_SUFFIXES, "semantic map", key=pairing_key),
    }
    if gt_dir is not None:
        others["ground truth"] = index_by_stem(Path(gt_dir), DEPTH_SUFFIXES, "ground truth", key=pairing_key)
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
            image=rgb[stem],
            semantic=others["semantic map"][stem],
            sparse=others["sparse depth"][stem],
            gt=None if gts is None else gts[stem],
        )
        for stem in sorted(rgb)
    ]


class PairedFolderDataset(Dataset):
    """Dataset over :func:`scan_folders`; items in the :mod:`depthforge.batch` schema, as
    :class:`~depthforge.data.kitti.KittiDepthCompletion` yields them.

    ``bottom_crop=(h, w)`` applies the reference val crop; None keeps the full image.
    """

    def __init__(
        self,
        rgb_dir: PathLike,
        depth_dir: PathLike,
        semantic_dir: PathLike,
        gt_dir: PathLike | None = None,
        bottom_crop: tuple[int, int] | None = None,
    ) -> None:
        self.samples = scan_folders(rgb_dir, depth_dir, semantic_dir, gt_dir)
        self.bottom_crop = bottom_crop

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def crop_size(self) -> tuple[int, int] | None:
        """(H, W) every item is cropped to, or None when items keep their files' size."""
        return self.bottom_crop

    def __getitem__(self, index: int) -> dict[str, Any]:
        sample = self.samples[index]
        arrays = load_completion_arrays(sample.image, sample.semantic, sample.sparse, sample.gt, read_depth)
        if self.bottom_crop is not None:
            bh, bw = self.bottom_crop
            h, w = arrays[SPARSE].shape
            if h < bh or w < bw:
                raise DataError(sample.sparse, f"image is {h}x{w}, smaller than the {bh}x{bw} bottom crop")
            arrays = {k: transforms.bottom_crop(a, bh, bw) for k, a in arrays.items()}
        item: dict[str, Any] = {k: transforms.to_tensor(a) for k, a in arrays.items()}
        item[NAME] = sample.name
        return item


def folder_gt(root: PathLike) -> Iterator[GTSample]:
    """Any folder of depth files (.png KITTI 16-bit, .npy, .pfm; metres), each matched by its stem."""
    files = [f for f in list_files(Path(root), "*", "ground-truth") if f.suffix.lower() in DEPTH_SUFFIXES]
    if not files:
        raise DataError(root, f"no depth files ({', '.join(DEPTH_SUFFIXES)})")
    for f in files:
        yield GTSample(f, [f.stem], read_depth(f, strict=False))
