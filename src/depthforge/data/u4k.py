"""UnrealStereo4K: folder layout, split files, the per-frame depth factor and the ground-truth listing.

Layout (``root``; file formats in :mod:`depthforge.io.u4k`)::

    root/<scene>/Image0/<frame>.png   (and .raw)   left image
    root/<scene>/Image1/<frame>.png   (and .raw)   right image
    root/<scene>/Disp0/<frame>.npy                 left disparity (pixels)
    root/<scene>/Disp1/<frame>.npy                 right disparity
    root/<scene>/Extrinsics0/<frame>.txt           left camera (focal length, pose)
    root/<scene>/Extrinsics1/<frame>.txt           right camera
    root/splits/{train,val,test,test_out}.txt      4 root-relative paths per line:
                                                   Image0 Image1 Disp0 Disp1

A sample is one left frame. Its scene and frame come from its ``Disp0`` path; the extrinsics are found
beside it (``<scene>/Extrinsics{0,1}/<frame>.txt``). Depth of the left view is ``factor / disparity``
with factor = focal length of ``Extrinsics0`` x |t_x of ``Extrinsics0`` - t_x of ``Extrinsics1``|.

:class:`U4KPatchDataset` (registered as ``u4k``) yields PatchRefiner's training and evaluation items. Its
training items are computed from the pixels they need only: the ``.raw`` image and the disparity are
memory-mapped, and PIL's rotation, the colour step and the align-corners resize are evaluated at the crop
and at the source pixels the 384x512 resize reads. The items equal those of the whole-frame pipeline
(``whole_frame: true``, the reference's order of operations) bit for bit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from depthforge.batch import GT, IMAGE, IMAGE_LR, NAME
from depthforge.data.patch_pipeline import (
    KeyedDataset,
    PatchRefinerDataOptions,
    draw_patch,
    fast_train_item,
    resize_bilinear,
    split_path,
    to_unit_float,
    whole_frame_train_item,
)
from depthforge.data.samples import GTSample, split_rows
from depthforge.errors import ConfigError, DataError
from depthforge.io import PathLike, disparity_to_depth, read_disparity_npy, read_extrinsics, read_rgb

SPLITS = ("train", "val", "test", "test_out")


@dataclass(frozen=True)
class U4KSample:
    """One left frame and the files that belong to it."""

    scene: str
    frame: str
    image0: Path
    image1: Path
    disp0: Path
    disp1: Path

    @property
    def name(self) -> str:
        """``<scene>_Image0_<frame>``: the stem a prediction for this frame carries."""
        return f"{self.scene}_Image0_{self.frame}"

    def extrinsics(self, view: int) -> Path:
        """The ``Extrinsics`` file of view 0 (left) or 1 (right)."""
        return self.disp0.parent.parent / f"Extrinsics{view}" / f"{self.frame}.txt"


def sample_of(disp0: Path, image0: Path | None = None, image1: Path | None = None,
              disp1: Path | None = None) -> U4KSample:
    """The sample of a ``Disp0`` file; files not given are derived from the scene folder."""
    scene_dir, frame = disp0.parent.parent, disp0.stem
    return U4KSample(
        scene=scene_dir.name,
        frame=frame,
        image0=image0 or scene_dir / "Image0" / f"{frame}.png",
        image1=image1 or scene_dir / "Image1" / f"{frame}.png",
        disp0=disp0,
        disp1=disp1 or scene_dir / "Disp1" / f"{frame}.npy",
    )


def split_file(root: PathLike, split: str) -> Path:
    """``root/splits/<split>.txt`` for a split name of :data:`SPLITS`."""
    if split not in SPLITS:
        raise DataError(None, f"unknown UnrealStereo4K split '{split}' (expected one of {', '.join(SPLITS)})")
    return Path(root) / "splits" / f"{split}.txt"


def read_split(root: PathLike, path: PathLike) -> list[U4KSample]:
    """The samples a split file lists, sorted by their ``Disp0`` path (files are not checked here)."""
    r = Path(root)
    samples = []
    for parts in split_rows(Path(path), 4, "Image0 Image1 Disp0 Disp1"):
        image0, image1, disp0, disp1 = (r / part for part in parts)
        samples.append(sample_of(disp0, image0, image1, disp1))
    return sorted(samples, key=lambda s: s.disp0)


def scan_u4k(root: PathLike) -> list[U4KSample]:
    """Every ``<scene>/Disp0/*.npy`` under ``root``, sorted by path."""
    r = Path(root)
    disps = sorted(r.glob("*/Disp0/*.npy"))
    if not disps:
        raise DataError(r, "no UnrealStereo4K disparity files matching '*/Disp0/*.npy'")
    return [sample_of(d) for d in disps]


def stereo_factor(sample: U4KSample) -> float:
    """focal x baseline of a frame's left view, from its two ``Extrinsics`` files."""
    left, right = read_extrinsics(sample.extrinsics(0)), read_extrinsics(sample.extrinsics(1))
    return left.focal * abs(left.tx - right.tx)


def u4k_gt(root: PathLike, split: PathLike | None = None) -> Iterator[GTSample]:
    """Ground truth for ``depthforge eval``: left-view depth of every sample (of the split file, if given).

    The SEE boundary extra is ``get_boundaries(disparity, th=1)``. Accepted prediction stems:
    ``<scene>_Image0_<frame>``, and the same with its first character dropped (the reference's names).
    """
    from depthforge.metrics.mono import get_boundaries  # metrics are only needed when scoring

    samples = scan_u4k(root) if split is None else read_split(root, split)
    for s in samples:
        if not s.disp0.is_file():
            raise DataError(s.disp0, "disparity file listed in the split does not exist")
        disp = read_disparity_npy(s.disp0)
        depth = disparity_to_depth(disp, stereo_factor(s))  # disparity 0 -> inf, excluded by the range mask
        yield GTSample(s.disp0, [s.name, s.name[1:]], depth, {"boundary": get_boundaries(disp, th=1.0)})


# --------------------------------------------------------------------------------------------------
# PatchRefiner training and inference items.
#
# The helpers below are shared with :mod:`depthforge.data.cityscapes`: one random-draw schedule, the
# exact numerics of PIL's rotation evaluated at chosen pixels only, the colour augmentation and the
# align-corners resize evaluated from the source pixels it reads.

def _open_disparity(path: Path) -> np.ndarray:
    """The disparity ``.npy`` memory-mapped (read-only); only the rows and pixels used are read."""
    try:
        disp = np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise DataError(path, "disparity file not found") from None
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise DataError(path, f"unreadable .npy file ({type(exc).__name__}: {first[:120]})") from None
    if disp.ndim != 2:
        raise DataError(path, f"disparity array has shape {disp.shape}, expected HxW")
    return disp


def _check_raw_size(path: Path, raw_hw: tuple[int, int], disp: Path) -> None:
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        raise DataError(path, "image file not found") from None
    expected = raw_hw[0] * raw_hw[1] * 3
    if size != expected:
        raise DataError(path, f".raw image has {size} bytes, expected {expected} for {raw_hw[0]}x{raw_hw[1]}x3 "
                        f"(the size of {disp.name}); truncated or wrong size")


@dataclass(frozen=True)
class U4KOptions(PatchRefinerDataOptions):
    """Options of the registered ``u4k`` dataset (PatchRefiner's UnrealStereo4K loader).

    Split paths are relative to ``root`` unless absolute; the test split may also be ``splits/test_out.txt``.
    """

    root: str = "data/u4k"
    """UnrealStereo4K root (scene folders and ``splits``)."""
    train_split: str = "splits/train.txt"
    """Split file of ``train``."""
    val_split: str = "splits/val.txt"
    """Split file of ``val``."""
    test_split: str = "splits/test.txt"
    """Split file of ``test`` (the reference's test_in; ``splits/test_out.txt`` for test_out)."""
    image_format: Literal["raw", "png"] = "raw"
    """Read ``Image0/*.raw`` (BGR dump, the reference's choice) or ``Image0/*.png``."""


class U4KPatchDataset(KeyedDataset):
    """UnrealStereo4K items as PatchRefiner trains (``mode='train'``) and evaluates (``mode='infer'``) on them.

    Train, ``sample: crop``: ``image`` (3 x process shape, the crop resized), ``image_lr`` (3 x process
    shape, the whole image resized), ``gt`` (1 x crop, depth in metres at raw resolution; 0 where the
    rotation left the frame, inf where disparity is 0), ``boxes`` (float32 (4,)) and ``name``.
    Train, ``sample: whole``: ``image`` (the whole image resized), ``gt`` (1 x H x W) and ``name``.
    Infer: ``image`` (3 x H x W in [0, 1]), ``image_lr``, ``gt`` (1 x H x W), ``boundary`` (bool 1 x H x W)
    and ``name``.

    Every file a split lists is checked when the dataset is built (existence, ``.raw`` size against the
    disparity's), and each frame's depth factor is read once.
    """

    def __init__(self, root: PathLike, split_file: PathLike, mode: Literal["train", "infer"] = "train",
                 options: U4KOptions | None = None, seed: int = 0, max_samples: int | None = None) -> None:
        self.options = options or U4KOptions()
        self.mode = mode
        self.seed = int(seed)
        found = sorted(read_split(root, split_file), key=lambda s: self._image_path(s))
        self.samples: list[U4KSample] = found if max_samples is None else found[:max_samples]
        self.factors: list[float] = []
        self.raw_shape: tuple[int, int] | None = None
        for s in self.samples:
            self._check_sample(s, Path(split_file))
        self.crop_hw = self.options.crop_for(self.raw_shape, self.samples[0].disp0) if self.raw_shape else (0, 0)

    def _image_path(self, s: U4KSample) -> Path:
        return s.image0.with_suffix(".raw") if self.options.image_format == "raw" else s.image0

    def _check_sample(self, s: U4KSample, split_file: Path) -> None:
        image = self._image_path(s)
        for path, what in ((image, "image"), (s.disp0, "disparity file"), (s.extrinsics(0), "Extrinsics0 file"),
                           (s.extrinsics(1), "Extrinsics1 file")):
            if not path.is_file():
                raise DataError(path, f"{what} of frame {s.name} (listed in {split_file.name}) does not exist")
        shape = tuple(int(v) for v in _open_disparity(s.disp0).shape)
        if self.raw_shape is None:
            self.raw_shape = (shape[0], shape[1])
        elif shape != self.raw_shape:
            raise DataError(s.disp0, f"frame is {shape[0]}x{shape[1]}, the split's first frame "
                            f"{self.raw_shape[0]}x{self.raw_shape[1]}; frames of one split must share a size")
        if self.options.image_format == "raw":
            _check_raw_size(image, self.raw_shape, s.disp0)
        self.factors.append(stereo_factor(s))

    @property
    def crop_size(self) -> tuple[int, int] | None:
        """(H, W) of the ``gt`` crops of training items; None when items are whole frames."""
        return self.crop_hw if self.mode == "train" and self.options.sample == "crop" else None

    def _source(self, index: int, whole: bool) -> tuple[np.ndarray, bool]:
        """The frame as uint8 HxWx3 and whether it is BGR: a memory map of the ``.raw`` file (or all of it
        read when ``whole``) or the decoded PNG."""
        s = self.samples[index]
        path = self._image_path(s)
        if self.options.image_format == "png":
            rgb = read_rgb(path)
            if rgb.shape[:2] != self.raw_shape:
                raise DataError(path, f"image is {rgb.shape[0]}x{rgb.shape[1]}, its disparity "
                                f"{self.raw_shape[0]}x{self.raw_shape[1]}")
            return rgb, False
        _check_raw_size(path, self.raw_shape, s.disp0)
        h, w = self.raw_shape
        if whole:
            return np.fromfile(path, dtype=np.uint8).reshape(h, w, 3), True
        return np.memmap(path, dtype=np.uint8, mode="r", shape=(h, w, 3)), True

    def _depth(self, index: int) -> np.ndarray:
        return disparity_to_depth(read_disparity_npy(self.samples[index].disp0), self.factors[index])

    def __getitem__(self, key: int | tuple[int, Any]) -> dict[str, Any]:
        index, rng = self.generator(key)
        s = self.samples[index]
        if self.mode != "train":
            return self._infer(index)
        draws = draw_patch(rng, degree=self.options.degree, color_prob=self.options.color_aug_prob,
                           flip_prob=self.options.flip_prob, raw_hw=self.raw_shape, crop_hw=self.crop_hw)
        item = None
        if self.options.use_fast_path:
            source, bgr = self._source(index, whole=False)
            factor = self.factors[index]
            item = fast_train_item(source, _open_disparity(s.disp0), lambda d: disparity_to_depth(d, factor),
                                   lambda: self._depth(index), draws, bgr, self.options, self.crop_hw)
        if item is None:
            source, bgr = self._source(index, whole=True)
            item = whole_frame_train_item(source, self._depth(index), draws, bgr, self.options, self.crop_hw)
        item[NAME] = s.name
        return item

    def _infer(self, index: int) -> dict[str, Any]:
        from depthforge.metrics.mono import get_boundaries  # only evaluation items need it

        s = self.samples[index]
        source, bgr = self._source(index, whole=True)
        frame = torch.from_numpy(np.ascontiguousarray(to_unit_float(source, bgr).transpose(2, 0, 1)))
        disp = read_disparity_npy(s.disp0)
        depth = disparity_to_depth(disp, self.factors[index])
        return {IMAGE: frame, IMAGE_LR: resize_bilinear(frame, tuple(self.options.process_shape)),
                GT: torch.from_numpy(depth)[None],
                "boundary": torch.from_numpy(get_boundaries(disp, th=1.0) > 0)[None], NAME: s.name}


def build_u4k(options: U4KOptions, split: str, *, seed: int, max_samples: int | None) -> U4KPatchDataset:
    """The ``u4k`` dataset of one engine split: ``train`` augments, ``val`` and ``test`` are whole frames."""
    files = {"train": options.train_split, "val": options.val_split, "test": options.test_split}
    if split not in files:
        raise ConfigError(f"unknown split '{split}' (expected train, val or test)")
    return U4KPatchDataset(options.root, split_path(options.root, files[split]),
                           mode="train" if split == "train" else "infer", options=options, seed=seed,
                           max_samples=max_samples)
