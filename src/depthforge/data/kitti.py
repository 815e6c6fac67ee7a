"""KITTI depth completion: sample discovery with strict pairing, the PyTorch dataset and its options.

Layout (``data_folder`` = ``kitti_depth/depth``, as the reference training branch expects)::

    data_folder/data_depth_annotated/{train,val}/<drive>/proj_depth/groundtruth/image_0{2,3}/<frame>.png
    data_folder/data_depth_velodyne/{train,val}/<drive>/proj_depth/velodyne_raw/image_0{2,3}/<frame>.png
    data_folder/data_depth_selection/val_selection_cropped/{groundtruth_depth,velodyne_raw,image}/<name>.png
    data_folder/data_depth_selection/test_depth_completion_anonymous/{velodyne_raw,image}/<name>.png
    rgb_folder/<date>/<drive>/image_0X/data/<frame>.png           (kitti_raw; date = drive[:10])
    semantic_folder/<date>/<drive>/image_0X/data/<frame>.png      (same relative path as RGB)

``data_folder`` may also be the ``data_depth_selection`` folder itself (the reference main-branch
layout); that is detected, and only ``val_select`` and ``test`` are then available.

Pairing is by path derivation, never by independently sorted globs:

* ``train`` / ``val_full``: every ground-truth file defines one sample; its sparse, RGB and semantic
  paths are derived from (drive, camera, frame). A missing counterpart is an error, and so is a sparse
  file without ground truth (the two KITTI folders hold the same frames). Extra kitti_raw frames
  (frames 0-4 and the last 5 of a drive have no ground truth) are expected and ignored.
* ``val_select``: every ``groundtruth_depth`` file ``X`` pairs with ``velodyne_raw`` and ``image``
  files named by replacing ``groundtruth_depth`` in ``X``; the semantic map has the image's file name.
* ``test``: every ``velodyne_raw`` file pairs with the ``image`` (and semantic) file of the same name;
  an image without sparse depth is an error.

Semantic maps of ``val_select`` and ``test`` are looked up in the first of these folders that exists
and holds a PNG (the folder, once chosen, must hold every map):

1. ``<semantic_folder>/depth/data_depth_selection/<split dir>/{image,semantic,semantics}``
   (the layout of the semantic-map download), when ``semantic_folder`` is given;
2. ``<selection>/<split dir>/{semantic,semantics}`` inside the depth tree (where the reference code
   looks; both spellings are in use).

For ``depthforge eval``, :func:`kitti_gt` lists a folder of ground-truth PNGs and the prediction names
each accepts.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
from torch.utils.data import Dataset

from depthforge.batch import GT, IMAGE, NAME, SEMANTIC, SPARSE
from depthforge.data import transforms
from depthforge.data.samples import (
    GTSample,
    check_sizes_from_headers,
    keyed_generator,
    list_files,
    load_completion_arrays,
)
from depthforge.data.transforms import KittiTransformConfig
from depthforge.errors import ConfigError, DataError
from depthforge.io import PathLike, read_depth_png

SPLITS = ("train", "val_full", "val_select", "test")
CAMERAS = ("image_02", "image_03")
SELECTION = "data_depth_selection"
VAL_SELECT_DIR = "val_selection_cropped"
TEST_DIR = "test_depth_completion_anonymous"


@dataclass(frozen=True)
class KittiSample:
    """One paired sample. ``gt`` is None for ``test``; drive/camera/frame only for train/val_full."""

    split: str
    name: str
    image: Path
    semantic: Path
    sparse: Path
    gt: Path | None
    drive: str | None = None
    camera: str | None = None
    frame: str | None = None


@dataclass
class _Listing:
    """Cached directory listings: one ``scandir`` per folder instead of one ``stat`` per file."""

    cache: dict[Path, frozenset[str]] = field(default_factory=dict)

    def pngs(self, folder: Path) -> frozenset[str]:
        if folder not in self.cache:
            try:
                with os.scandir(folder) as it:
                    names = frozenset(e.name for e in it if e.name.endswith(".png") and e.is_file())
            except (FileNotFoundError, NotADirectoryError):
                names = frozenset()
            self.cache[folder] = names
        return self.cache[folder]

    def has(self, path: Path) -> bool:
        return path.name in self.pngs(path.parent)


def _subdirs(folder: Path, suffix: str = "") -> list[str]:
    try:
        with os.scandir(folder) as it:
            return sorted(e.name for e in it if e.is_dir() and e.name.endswith(suffix))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _require_dir(path: Path | None, what: str) -> Path:
    if path is None:
        raise DataError(None, f"{what} is required for this split but was not given")
    if not path.is_dir():
        raise DataError(path, f"{what} is not a directory")
    return path


def _missing(path: Path, what: str, sample: str, n_missing: int, n_total: int) -> DataError:
    return DataError(path, f"missing {what} needed by sample {sample} ({n_missing} of {n_total} samples lack one)")


def selection_root(data_folder: Path) -> Path:
    """The ``data_depth_selection`` folder: ``data_folder/data_depth_selection`` or ``data_folder`` itself."""
    nested = data_folder / SELECTION
    if nested.is_dir():
        return nested
    if (data_folder / VAL_SELECT_DIR).is_dir() or (data_folder / TEST_DIR).is_dir():
        return data_folder  # main-branch layout
    raise DataError(
        data_folder,
        f"no {SELECTION} folder here, and this is not one itself (no {VAL_SELECT_DIR} or {TEST_DIR} inside)",
    )


def selection_root_or_none(data_folder: Path) -> Path | None:
    """Like :func:`selection_root`, but None when there is no selection folder."""
    try:
        return selection_root(data_folder)
    except DataError:
        return None


def _scan_drives(data_folder: Path, rgb_root: Path, semantic_root: Path, split: str) -> list[KittiSample]:
    sub = "train" if split == "train" else "val"
    gt_root = data_folder / "data_depth_annotated" / sub
    sparse_root = data_folder / "data_depth_velodyne" / sub
    if not gt_root.is_dir() and selection_root_or_none(data_folder) == data_folder:
        raise DataError(data_folder, f"split '{split}' needs the kitti_depth/depth root, not the {SELECTION} folder")
    pattern = "*_sync/proj_depth/groundtruth/image_0[23]/*.png"
    listing = _Listing()
    keys: list[tuple[str, str, str]] = []
    for drive in _subdirs(gt_root, "_sync"):
        for cam in CAMERAS:
            folder = gt_root / drive / "proj_depth" / "groundtruth" / cam
            keys.extend((drive, cam, name) for name in sorted(listing.pngs(folder)))
    if not keys:
        raise DataError(gt_root, f"empty split '{split}': no ground-truth files match '{pattern}'")

    samples = []
    for drive, cam, name in keys:
        rel = Path(drive[:10]) / drive / cam / "data" / name
        samples.append(
            KittiSample(
                split=split,
                name=f"{drive}_{cam}_{name[:-4]}",
                image=rgb_root / rel,
                semantic=semantic_root / rel,
                sparse=sparse_root / drive / "proj_depth" / "velodyne_raw" / cam / name,
                gt=gt_root / drive / "proj_depth" / "groundtruth" / cam / name,
                drive=drive,
                camera=cam,
                frame=name[:-4],
            )
        )
    for attr, what in (("sparse", "sparse depth"), ("image", "RGB image"), ("semantic", "semantic map")):
        _check_present(samples, attr, what, listing)

    # Sparse files without ground truth mean the two folders disagree: refuse rather than drop them.
    gt_keys = set(keys)
    extra = []
    for drive in _subdirs(sparse_root, "_sync"):
        for cam in CAMERAS:
            folder = sparse_root / drive / "proj_depth" / "velodyne_raw" / cam
            extra.extend(folder / n for n in sorted(listing.pngs(folder)) if (drive, cam, n) not in gt_keys)
    if extra:
        raise DataError(extra[0], f"sparse depth without ground truth ({len(extra)} such files under {sparse_root})")
    return samples


def _check_present(samples: Sequence[KittiSample], attr: str, what: str, listing: _Listing) -> None:
    missing = [s for s in samples if not listing.has(getattr(s, attr))]
    if missing:
        first = missing[0]
        raise _missing(getattr(first, attr), what, first.name, len(missing), len(samples))


def _semantic_dir(split_dir: str, selection: Path, semantic_root: Path | None, listing: _Listing) -> Path:
    candidates = []
    if semantic_root is not None:
        base = semantic_root / "depth" / SELECTION / split_dir
        candidates += [base / "image", base / "semantic", base / "semantics"]
    candidates += [selection / split_dir / "semantic", selection / split_dir / "semantics"]
    for folder in candidates:
        if listing.pngs(folder):
            return folder
    searched = ", ".join(str(c) for c in candidates)
    raise DataError(candidates[0], f"no semantic maps (*.png) found; searched in order: {searched}")


def _scan_val_select(selection: Path, semantic_root: Path | None) -> list[KittiSample]:
    base = selection / VAL_SELECT_DIR
    gt_dir, sparse_dir, image_dir = base / "groundtruth_depth", base / "velodyne_raw", base / "image"
    listing = _Listing()
    gt_names = sorted(listing.pngs(gt_dir))
    if not gt_names:
        raise DataError(gt_dir, "empty split 'val_select': no files match '*.png'")
    sem_dir = _semantic_dir(VAL_SELECT_DIR, selection, semantic_root, listing)
    samples = []
    for name in gt_names:
        if "groundtruth_depth" not in name:
            raise DataError(gt_dir / name, "file name does not contain 'groundtruth_depth'; cannot derive its pair")
        image_name = name.replace("groundtruth_depth", "image")
        sparse_name = name.replace("groundtruth_depth", "velodyne_raw")
        samples.append(
            KittiSample(
                split="val_select",
                name=sparse_name[:-4],
                image=image_dir / image_name,
                semantic=sem_dir / image_name,
                sparse=sparse_dir / sparse_name,
                gt=gt_dir / name,
            )
        )
    for attr, what in (("sparse", "sparse depth"), ("image", "RGB image"), ("semantic", "semantic map")):
        _check_present(samples, attr, what, listing)
    paired = {s.sparse.name for s in samples}
    extra = sorted(n for n in listing.pngs(sparse_dir) if n not in paired)
    if extra:
        raise DataError(sparse_dir / extra[0], f"sparse depth without ground truth ({len(extra)} such files)")
    return samples


def _scan_test(selection: Path, semantic_root: Path | None) -> list[KittiSample]:
    base = selection / TEST_DIR
    sparse_dir, image_dir = base / "velodyne_raw", base / "image"
    listing = _Listing()
    names = sorted(listing.pngs(sparse_dir))
    if not names:
        raise DataError(sparse_dir, "empty split 'test': no files match '*.png'")
    sem_dir = _semantic_dir(TEST_DIR, selection, semantic_root, listing)
    samples = [
        KittiSample(split="test", name=n[:-4], image=image_dir / n, semantic=sem_dir / n, sparse=sparse_dir / n,
                    gt=None)
        for n in names
    ]
    for attr, what in (("image", "RGB image"), ("semantic", "semantic map")):
        _check_present(samples, attr, what, listing)
    extra = sorted(set(listing.pngs(image_dir)) - set(names))
    if extra:
        raise DataError(image_dir / extra[0], f"RGB image without sparse depth ({len(extra)} such files)")
    return samples


def scan_kitti(
    data_folder: PathLike,
    rgb_folder: PathLike | None = None,
    semantic_folder: PathLike | None = None,
    split: str = "train",
) -> list[KittiSample]:
    """Discover and pair the samples of one split (pure: reads directory listings only).

    ``rgb_folder`` (kitti_raw root) and ``semantic_folder`` are required for ``train``/``val_full``;
    for ``val_select``/``test`` RGB comes from the depth tree and ``semantic_folder`` is optional.
    """
    if split not in SPLITS:
        raise DataError(None, f"unknown split '{split}' (expected one of {', '.join(SPLITS)})")
    data = _require_dir(Path(data_folder), "data_folder")
    sem = None if semantic_folder is None else Path(semantic_folder)
    if split in ("train", "val_full"):
        rgb_root = _require_dir(None if rgb_folder is None else Path(rgb_folder), "rgb_folder (the kitti_raw root)")
        sem_root = _require_dir(sem, "semantic_folder (the semantic maps root)")
        return _scan_drives(data, rgb_root, sem_root, split)
    if sem is not None:
        _require_dir(sem, "semantic_folder")
    selection = selection_root(data)
    return _scan_val_select(selection, sem) if split == "val_select" else _scan_test(selection, sem)


def load_arrays(sample: KittiSample) -> dict[str, np.ndarray]:
    """Decode one sample's files (keyed as in :mod:`depthforge.batch`) and check that their sizes agree."""
    return load_completion_arrays(sample.image, sample.semantic, sample.sparse, sample.gt, read_depth_png)


class KittiDepthCompletion(Dataset):
    """KITTI depth completion with the reference transforms and per-sample deterministic augmentation.

    Items are dicts in the :mod:`depthforge.batch` schema: ``image`` (3xHxW float32, 0-255), ``semantic``
    (3xHxW float32, 0-255), ``sparse`` (1xHxW metres), ``gt`` (1xHxW metres; absent for ``test``) and
    ``name``.

    Keys: ``ds[i]`` seeds the augmentation with ``(seed, i)``; ``ds[(i, sample_seed)]`` seeds it with
    ``sample_seed`` (an int or a sequence of ints, e.g. ``(seed, epoch, i)``), so results do not depend
    on the worker, the process or a resume.
    """

    def __init__(
        self,
        data_folder: PathLike,
        rgb_folder: PathLike | None = None,
        semantic_folder: PathLike | None = None,
        split: str = "train",
        transform: KittiTransformConfig | None = None,
        seed: int = 0,
        max_samples: int | None = None,
        augment: bool | None = None,
        samples: Sequence[KittiSample] | None = None,
    ) -> None:
        self.split = split
        self.config = transform or KittiTransformConfig()
        self.seed = int(seed)
        self.augment = split == "train" if augment is None else augment
        found = scan_kitti(data_folder, rgb_folder, semantic_folder, split) if samples is None else list(samples)
        self.samples: list[KittiSample] = found if max_samples is None else found[:max_samples]
        if self.augment and self.config.jitter_hue_roundtrip:
            # Built before DataLoader workers fork so that they share it.
            from depthforge.data.pil_numerics import hsv_roundtrip_table

            hsv_roundtrip_table()

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def crop_size(self) -> tuple[int, int] | None:
        """(H, W) every item is cropped to, or None when items keep their files' size (``test``)."""
        if self.augment:
            return (self.config.crop_h, self.config.crop_w) if self.config.random_crop else self.config.bottom_crop
        return None if self.split == "test" else self.config.bottom_crop

    def generator(self, key: int | tuple[int, Any]) -> tuple[int, np.random.Generator]:
        """Resolve a key into (index, the sample's augmentation generator)."""
        return keyed_generator(key, len(self.samples), self.seed)

    def __getitem__(self, key: int | tuple[int, Any]) -> dict[str, Any]:
        index, rng = self.generator(key)
        sample = self.samples[index]
        arrays = load_arrays(sample)
        if self.split != "test":
            self._check_fits(arrays, sample)
        if self.augment:
            arrays = transforms.train_arrays(arrays, transforms.draw_params(rng, self.config), self.config)
        elif self.split != "test":
            arrays = transforms.val_arrays(arrays, self.config)
        item: dict[str, Any] = {key_: transforms.to_tensor(a) for key_, a in arrays.items()}
        item[NAME] = sample.name
        return item

    def _check_fits(self, arrays: dict[str, np.ndarray], sample: KittiSample) -> None:
        h, w = arrays[SPARSE].shape
        bh, bw = self.config.bottom_crop
        if h < bh or w < bw:
            raise DataError(sample.sparse, f"image is {h}x{w}, smaller than the {bh}x{bw} bottom crop")


@dataclass(frozen=True)
class KittiOptions(KittiTransformConfig):
    """Options of the registered ``kitti`` dataset: the folders, the val split and the transform fields.

    The transform fields (``crop_h``, ``crop_w``, ``random_crop``, ``jitter``, ``hflip``,
    ``jitter_hue_roundtrip``, ``bottom_crop``) are inherited from :class:`KittiTransformConfig`, their
    one definition. Empty folder strings mean "not given".
    """

    data_root: str = ""
    """One root for the three folders below when they are left empty: ``<root>/kitti_depth/depth``,
    ``<root>/kitti_raw`` and ``<root>/semantic_maps``."""
    data_folder: str = ""
    """``kitti_depth/depth`` root holding data_depth_velodyne/annotated/selection."""
    data_folder_rgb: str = ""
    """kitti_raw root (needed by ``train`` and ``val: full``)."""
    data_semantic: str = ""
    """Semantic-maps root."""
    val: Literal["select", "full"] = "select"
    """Validation split: ``val_selection_cropped`` (select) or the val drives (full)."""
    check_sizes: bool = True
    """Compare every sample's image, sparse, ground-truth and semantic sizes from the PNG headers when the
    dataset is built, so that a mismatch is reported before training instead of when its batch comes."""

    @property
    def crop_size(self) -> tuple[int, int]:
        """(H, W) of the training crop: the random crop, or the bottom crop without it."""
        return (self.crop_h, self.crop_w) if self.random_crop else self.bottom_crop

    @property
    def transform(self) -> KittiTransformConfig:
        """The transform fields alone."""
        return KittiTransformConfig(**{f.name: getattr(self, f.name) for f in fields(KittiTransformConfig)})

    def kitti_split(self, split: str) -> str:
        """The KITTI split behind an engine split: train -> train, val -> val_select/val_full, test -> test."""
        names = {"train": "train", "val": "val_select" if self.val == "select" else "val_full", "test": "test"}
        if split not in names:
            raise ConfigError(f"unknown split '{split}' (expected train, val or test)")
        return names[split]


def build_kitti(options: KittiOptions, split: str, *, seed: int, max_samples: int | None) -> KittiDepthCompletion:
    """The dataset of one engine split (``train``, ``val``, ``test``) as ``options`` describe it."""
    if options.data_root:
        root = Path(options.data_root)
        options = dataclasses.replace(
            options, data_folder=options.data_folder or str(root / "kitti_depth" / "depth"),
            data_folder_rgb=options.data_folder_rgb or str(root / "kitti_raw"),
            data_semantic=options.data_semantic or str(root / "semantic_maps"))
    if not options.data_folder:
        raise ConfigError("dataset kitti needs data_folder (the kitti_depth/depth root) or data_root")
    dataset = KittiDepthCompletion(
        options.data_folder,
        options.data_folder_rgb or None,
        options.data_semantic or None,
        split=options.kitti_split(split),
        transform=options.transform,
        seed=seed,
        max_samples=max_samples,
    )
    if options.check_sizes:
        check_sizes_from_headers([{IMAGE: s.image, SEMANTIC: s.semantic, SPARSE: s.sparse, GT: s.gt}
                                  for s in dataset.samples])
    return dataset


def kitti_gt(root: PathLike) -> Iterator[GTSample]:
    """KITTI 16-bit ground-truth PNGs of one folder (e.g. ``val_selection_cropped/groundtruth_depth``), by name.

    A prediction may carry the ground-truth file's stem or that stem with ``groundtruth_depth`` replaced
    by ``image`` (the name of the matching RGB frame of ``val_selection_cropped``).
    """
    for f in list_files(Path(root), "*.png", "KITTI ground-truth"):
        names = [f.stem]
        if "groundtruth_depth" in f.stem:
            names.append(f.stem.replace("groundtruth_depth", "image"))
        yield GTSample(f, names, read_depth_png(f, strict=False))
