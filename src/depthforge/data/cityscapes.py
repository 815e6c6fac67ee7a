"""CityScapes: folder layout, pairing by path, and the ground-truth listing for evaluation.

Layout (``root``; file formats in :mod:`depthforge.io.cityscapes`)::

    root/leftImg8bit/<subset>/<city>/<stem>_leftImg8bit.png     RGB image
    root/disparity/<subset>/<city>/<stem>_disparity.png         16-bit disparity
    root/camera/<subset>/<city>/<stem>_camera.json              baseline and fx
    root/gtFine/<subset>/<city>/<stem>_gtFine_color.png         semantic colours

A sample is one disparity file; every other path is derived from its root-relative path by replacing
the folder and suffix words (``disparity`` -> ``leftImg8bit``, then ``leftImg8bit`` -> ``camera`` and
``.png`` -> ``.json``; ``disparity`` -> ``gtFine`` and ``.png`` -> ``_color.png``).

:class:`CityscapesPatchDataset` (registered as ``cityscapes``) yields PatchRefiner's training and
evaluation items from split files (``root/train.txt``, ``root/val.txt``), with the augmentation of
:mod:`depthforge.data.u4k` and the optional ``skyArea/<subset>/<city>/<stem>_skyArea.png`` masks.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from depthforge.batch import IMAGE, IMAGE_LR, NAME
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
from depthforge.data.samples import GTSample, list_files, split_rows
from depthforge.errors import ConfigError, DataError
from depthforge.io import (
    PathLike,
    camera_factor,
    decode_image,
    disparity_to_depth,
    read_disparity_png,
    read_rgb,
)

SKY_RG = (70, 130)  # red and green of the sky colour (70, 130, 180) in gtFine colour maps


@dataclass(frozen=True)
class CityscapesSample:
    """One image and its sibling files; ``image_rel`` is the image path relative to the root."""

    disparity: Path
    image: Path
    camera: Path
    seg_color: Path
    image_rel: Path

    @property
    def names(self) -> list[str]:
        """Accepted prediction stems, most specific first: the root-relative image path without suffix and
        with ``/`` as ``_`` (``leftImg8bit_<subset>_<city>_<stem>_leftImg8bit``), ``<stem>_leftImg8bit``
        and ``<stem>``."""
        stem = self.image_rel.with_suffix("")
        return [str(stem).replace("/", "_"), stem.name, stem.name.replace("_leftImg8bit", "")]


def sample_of(root: PathLike, disparity: Path) -> CityscapesSample:
    """The sample of a disparity file under ``root``: sibling paths derived from its relative path."""
    r = Path(root)
    rel = disparity.relative_to(r)
    image_rel = Path(str(rel).replace("disparity", "leftImg8bit"))
    return CityscapesSample(
        disparity=disparity,
        image=r / image_rel,
        camera=r / str(image_rel).replace("leftImg8bit", "camera").replace(".png", ".json"),
        seg_color=r / str(rel).replace("disparity", "gtFine").replace(".png", "_color.png"),
        image_rel=image_rel,
    )


def scan_cityscapes(root: PathLike, subset: str = "val") -> list[CityscapesSample]:
    """Every ``disparity/<subset>/<city>/*_disparity.png``, sorted by path."""
    r = Path(root)
    return [sample_of(r, f) for f in list_files(r / "disparity" / subset, "*/*_disparity.png", "CityScapes disparity")]


def cityscapes_gt(root: PathLike, subset: str = "val") -> Iterator[GTSample]:
    """Ground truth for ``depthforge eval`` as PatchRefiner's CityScapes loader prepares it for inference.

    Depth = baseline * fx / disparity (0 where the disparity PNG holds 0 or 1); then the bottom quarter
    of the rows and a W/16 band on each side are set to -1 (ignored); last, sky pixels (gtFine colour
    R=70, G=130) are set to 0. Extras: ``seg_color`` and ``image`` (uint8 RGB) and the SEE ``boundary``
    (``get_boundaries(depth, th=1)``).
    """
    from depthforge.metrics.mono import get_boundaries  # metrics are only needed when scoring

    for s in scan_cityscapes(root, subset):
        depth = masked_depth(s)
        seg = read_rgb(s.seg_color)
        extras = {"seg_color": seg, "image": read_rgb(s.image)}
        depth[sky_of_colors(seg)] = 0.0  # sky last, as the loader does
        extras["boundary"] = get_boundaries(depth, th=1.0)
        yield GTSample(s.disparity, s.names, depth, extras)


def mask_noisy_borders(depth: np.ndarray) -> np.ndarray:
    """Set the bottom quarter of the rows (``[-h // 4:]``) and a W/16 band on each side to -1 (ignored), in place."""
    h, w = depth.shape
    depth[-h // 4:, :] = -1.0
    depth[:, : w // 16] = -1.0
    depth[:, -(w // 16):] = -1.0
    return depth


def masked_depth(sample: CityscapesSample) -> np.ndarray:
    """float32 depth = baseline * fx / disparity (0 where invalid), noisy borders -1 (:func:`mask_noisy_borders`)."""
    factor = camera_factor(sample.camera)
    return mask_noisy_borders(disparity_to_depth(read_disparity_png(sample.disparity), factor, invalid=0.0))


def sky_of_colors(seg: np.ndarray) -> np.ndarray:
    """Sky pixels of a gtFine colour map (R=70, G=130)."""
    return (seg[:, :, 0] == SKY_RG[0]) & (seg[:, :, 1] == SKY_RG[1])


# --------------------------------------------------------------------------------------------------
# PatchRefiner training and inference items.

SKY_MASK_WORD = "skyArea"


def sky_mask_path(sample: CityscapesSample) -> Path:
    """The sample's ``skyArea`` mask: its image path with every ``leftImg8bit`` -> ``skyArea`` (root-relative
    part only), e.g. ``skyArea/train/<city>/<stem>_skyArea.png``."""
    root = Path(str(sample.image)[: len(str(sample.image)) - len(str(sample.image_rel))])
    return root / str(sample.image_rel).replace("leftImg8bit", SKY_MASK_WORD)


def read_split(root: PathLike, path: PathLike) -> list[CityscapesSample]:
    """The samples a split file lists (``<image> <disparity>`` root-relative per line), sorted by image path.

    The camera JSON is the image path with ``leftImg8bit`` -> ``camera`` and ``.png`` -> ``.json``; the
    gtFine colour map the disparity path with ``disparity`` -> ``gtFine`` and ``.png`` -> ``_color.png``.
    """
    r = Path(root)
    samples = [
        CityscapesSample(
            disparity=r / disp_rel,
            image=r / image_rel,
            camera=r / image_rel.replace("leftImg8bit", "camera").replace(".png", ".json"),
            seg_color=r / disp_rel.replace("disparity", "gtFine").replace(".png", "_color.png"),
            image_rel=Path(image_rel),
        )
        for image_rel, disp_rel in split_rows(Path(path), 2, "image disparity")
    ]
    return sorted(samples, key=lambda s: str(s.image))


@dataclass(frozen=True)
class CityscapesOptions(PatchRefinerDataOptions):
    """Options of the registered ``cityscapes`` dataset (PatchRefiner's CityScapes loader).

    Split paths are relative to ``root`` unless absolute.
    """

    max_depth: float = 250.0
    """Largest valid depth in metres."""
    root: str = "data/cityscapes"
    """CityScapes root (leftImg8bit, disparity, camera, gtFine, skyArea)."""
    train_split: str = "train.txt"
    """Split file of ``train``: lines ``leftImg8bit/... disparity/...``."""
    val_split: str = "val.txt"
    """Split file of ``val``."""
    test_split: str = "val.txt"
    """Split file of ``test``."""
    sky_masks: Literal["auto", "require", "off"] = "auto"
    """Training only: set depth to -2 on ``skyArea`` masks. auto: where the masks exist (one warning when
    some are missing); require: a missing mask is an error (the reference recipe needs them); off."""


class CityscapesPatchDataset(KeyedDataset):
    """CityScapes items as PatchRefiner trains (``mode='train'``) and evaluates (``mode='infer'``) on them.

    Train: the keys of :class:`~depthforge.data.u4k.U4KPatchDataset` (``gt`` is -1 on the noisy borders,
    -2 on sky, 0 where invalid or rotated out). Infer: ``image`` (3 x H x W in [0, 1]), ``image_lr``,
    ``gt`` (1 x H x W; sky from gtFine set to 0), ``boundary`` (bool 1 x H x W), ``seg_image``
    (3 x H x W float 0-255 gtFine colours) and ``name``.
    """

    def __init__(self, root: PathLike, split_file: PathLike, mode: Literal["train", "infer"] = "train",
                 options: CityscapesOptions | None = None, seed: int = 0, max_samples: int | None = None) -> None:
        self.options = options or CityscapesOptions()
        self.mode = mode
        self.seed = int(seed)
        found = read_split(root, split_file)
        self.samples: list[CityscapesSample] = found if max_samples is None else found[:max_samples]
        name = Path(split_file).name
        for s in self.samples:
            checks = [(s.image, "image"), (s.disparity, "disparity PNG"), (s.camera, "camera JSON")]
            if mode != "train":
                checks.append((s.seg_color, "gtFine colour map"))
            for path, what in checks:
                if not path.is_file():
                    raise DataError(path, f"{what} (listed in {name}) does not exist")
        self.use_sky = [False] * len(self.samples)
        if mode == "train" and self.options.sky_masks != "off":
            self._find_sky_masks()
        self.raw_shape = self._frame_shape()
        self.crop_hw = self.options.crop_for(self.raw_shape, self.samples[0].image)

    def _find_sky_masks(self) -> None:
        found = [sky_mask_path(s).is_file() for s in self.samples]
        missing = [sky_mask_path(s) for s, ok in zip(self.samples, found) if not ok]
        if missing and self.options.sky_masks == "require":
            raise DataError(missing[0], "skyArea mask not found; the reference recipe filters sky with these "
                            f"undocumented skyArea masks ({len(missing)} of {len(self.samples)} missing)")
        if missing:
            warnings.warn(f"CityScapes: {len(missing)} of {len(self.samples)} skyArea masks are missing (first: "
                          f"{missing[0]}); training proceeds without sky filtering for them, parity with the "
                          "reference recipe needs the masks", UserWarning, stacklevel=3)
        self.use_sky = found

    def _frame_shape(self) -> tuple[int, int]:
        from depthforge.io import image_size

        h, w = image_size(self.samples[0].image)
        return int(h), int(w)

    @property
    def crop_size(self) -> tuple[int, int] | None:
        """(H, W) of the ``gt`` crops of training items; None when items are whole frames."""
        return self.crop_hw if self.mode == "train" and self.options.sample == "crop" else None

    def _image(self, s: CityscapesSample) -> np.ndarray:
        rgb = read_rgb(s.image)
        if rgb.shape[:2] != self.raw_shape:
            raise DataError(s.image, f"image is {rgb.shape[0]}x{rgb.shape[1]}, the split's first image "
                            f"{self.raw_shape[0]}x{self.raw_shape[1]}")
        return rgb

    def _train_depth(self, index: int) -> np.ndarray:
        s = self.samples[index]
        depth = masked_depth(s)
        if depth.shape != self.raw_shape:
            raise DataError(s.disparity, f"disparity is {depth.shape[0]}x{depth.shape[1]}, its image "
                            f"{self.raw_shape[0]}x{self.raw_shape[1]}")
        if self.use_sky[index]:
            depth[read_sky_mask(sky_mask_path(s), depth.shape)] = -2.0
        return depth

    def __getitem__(self, key: int | tuple[int, Any]) -> dict[str, Any]:
        index, rng = self.generator(key)
        s = self.samples[index]
        if self.mode != "train":
            return self._infer(index)
        draws = draw_patch(rng, degree=self.options.degree, color_prob=self.options.color_aug_prob,
                           flip_prob=self.options.flip_prob, raw_hw=self.raw_shape, crop_hw=self.crop_hw)
        image, depth = self._image(s), self._train_depth(index)
        item = None
        if self.options.use_fast_path:
            item = fast_train_item(image, depth, None, lambda: depth, draws, False, self.options, self.crop_hw)
        if item is None:
            item = whole_frame_train_item(image, depth, draws, False, self.options, self.crop_hw)
        item[NAME] = s.names[0]
        return item

    def _infer(self, index: int) -> dict[str, Any]:
        from depthforge.metrics.mono import get_boundaries  # only evaluation items need it

        s = self.samples[index]
        frame = torch.from_numpy(np.ascontiguousarray(to_unit_float(self._image(s), False).transpose(2, 0, 1)))
        depth = masked_depth(s)
        seg = read_rgb(s.seg_color)
        depth[sky_of_colors(seg)] = 0.0
        return {IMAGE: frame, IMAGE_LR: resize_bilinear(frame, tuple(self.options.process_shape)),
                "gt": torch.from_numpy(depth)[None],
                "boundary": torch.from_numpy(get_boundaries(depth, th=1.0) > 0)[None],
                "seg_image": torch.from_numpy(np.ascontiguousarray(seg.transpose(2, 0, 1), dtype=np.float32)),
                NAME: s.names[0]}


def read_sky_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """Boolean sky of a ``skyArea`` mask (value > 0), nearest-resized to ``shape`` as the reference does."""
    mask = decode_image(path)
    if mask.ndim == 3:
        mask = mask.max(axis=2)
    values = mask.astype(np.float32)
    if values.shape != tuple(shape):
        values = F.interpolate(torch.from_numpy(values)[None, None], size=tuple(shape), mode="nearest")[0, 0].numpy()
    return values > 0


def build_cityscapes(options: CityscapesOptions, split: str, *, seed: int,
                     max_samples: int | None) -> CityscapesPatchDataset:
    """The ``cityscapes`` dataset of one engine split: ``train`` augments, ``val`` and ``test`` are whole frames."""
    files = {"train": options.train_split, "val": options.val_split, "test": options.test_split}
    if split not in files:
        raise ConfigError(f"unknown split '{split}' (expected train, val or test)")
    return CityscapesPatchDataset(options.root, split_path(options.root, files[split]),
                                  mode="train" if split == "train" else "infer", options=options, seed=seed,
                                  max_samples=max_samples)
