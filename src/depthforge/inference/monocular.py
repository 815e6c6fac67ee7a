"""Metric depth for users' own images with ZoeDepth-N or PatchRefiner, and point clouds from it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from depthforge.errors import CheckpointError, ConfigError, DataError
from depthforge.inference.device import resolve_device
from depthforge.inference.precision import autocast, check_precision

ZOEDEPTH_SHAPE = (384, 512)  # ZoeDepth-N's process shape (H, W), as PatchRefiner's coarse branch sees it


def read_user_image(path: str | Path) -> tuple[np.ndarray, list[str]]:
    """An image file as float32 H x W x 3 RGB in [0, 1], with a note for every conversion made
    (grey to RGB, alpha dropped, 16-bit scaled)."""
    from depthforge.io import decode_image

    raw = decode_image(path)
    notes: list[str] = []
    if raw.dtype == np.uint16:
        image = raw.astype(np.float32) / np.float32(65535)
        notes.append("16-bit image scaled to [0, 1]")
    elif raw.dtype == np.uint8:
        image = raw.astype(np.float32) / np.float32(255)
    else:
        raise DataError(path, f"unsupported pixel type {raw.dtype} (expected 8- or 16-bit)")
    if image.ndim == 2:
        rgb = np.repeat(image[..., None], 3, axis=2)
        notes.append("grey image repeated to RGB")
    elif image.shape[2] == 2:
        rgb = np.repeat(image[..., :1], 3, axis=2)
        notes.append("grey image repeated to RGB, alpha channel dropped")
    else:  # decoded as BGR or BGRA
        rgb = image[..., 2::-1]
        if image.shape[2] == 4:
            notes.append("alpha channel dropped")
    return np.ascontiguousarray(rgb), notes


@dataclass
class MonocularPredictor:
    """Runs ZoeDepth-N (resized to its process shape and back) or PatchRefiner (tiled) on one image."""

    model: nn.Module
    device: torch.device = torch.device("cpu")
    mode: str = "m1"
    patch_split_num: tuple[int, int] = (4, 4)
    process_num: int = 4
    fit: str = "error"
    precision: str = "32-true"
    """``32-true``, ``bf16-mixed`` or ``16-mixed`` (:mod:`depthforge.inference.precision`)."""
    process_shape: tuple[int, int] | None = None
    """Size the network sees (ZoeDepth: the whole image; PatchRefiner: the whole image and each tile). None:
    the model's own (384 x 512 for ZoeDepth). The reference's checkpoint files do not record it, so a model
    trained at another size needs it; for a PatchRefiner it is set on the model."""

    def __post_init__(self) -> None:
        from depthforge.models.patchrefiner import PatchRefiner

        self.check_options(self.mode, self.patch_split_num, self.process_num, self.fit, self.precision,
                           self.process_shape)
        if self.process_shape is not None:
            self.process_shape = (int(self.process_shape[0]), int(self.process_shape[1]))
            if isinstance(self.model, PatchRefiner):
                self.model.process_shape = self.process_shape

    @staticmethod
    def check_options(mode: str, patch_split_num: Sequence[int], process_num: int, fit: str,
                      precision: str, process_shape: Sequence[int] | None = None) -> None:
        """A ``ValueError`` for a bad tiling, precision or shape option, before any model is built."""
        from depthforge.models.patchrefiner.model import check_process_shape
        from depthforge.models.patchrefiner.tiling import check_tiling

        check_tiling(mode, patch_split_num, fit)
        if not isinstance(process_num, Integral) or isinstance(process_num, bool) or process_num < 1:
            raise ValueError(f"process_num must be an integer >= 1, got {process_num!r}")
        check_precision(precision)
        if process_shape is not None:
            check_process_shape(process_shape)

    @classmethod
    def from_checkpoints(cls, paths: Sequence[str | Path], device: str = "cpu", **options: object
                         ) -> MonocularPredictor:
        """One checkpoint (ZoeDepth, or a whole PatchRefiner), or a PatchRefiner pair: coarse, refiner."""
        from depthforge.checkpoint import build_from_checkpoint
        from depthforge.models.contract import contract_of

        names = ("mode", "patch_split_num", "process_num", "fit", "precision", "process_shape")
        unknown = sorted(set(options) - set(names))
        if unknown:
            raise ConfigError(f"unknown predictor option(s) {', '.join(unknown)}: use {', '.join(names)}")
        try:
            cls.check_options(**{**{f: getattr(cls, f) for f in names}, **options})  # type: ignore[arg-type]
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        target = resolve_device(device)
        if len(paths) == 2:
            from depthforge.models.patchrefiner import build_from_pair

            model = build_from_pair(paths[0], paths[1])
        elif len(paths) == 1:
            model = build_from_checkpoint(paths[0])
        else:
            raise CheckpointError(f"give one checkpoint, or a coarse and a refiner checkpoint; got {len(paths)}")
        if contract_of(model).task != "monocular":
            raise CheckpointError(f"{paths[0]}: holds a {contract_of(model).task} model, not a monocular one")
        return cls(model.to(target).eval(), target, **options)  # type: ignore[arg-type]

    @torch.inference_mode()
    def predict(self, image: np.ndarray, name: str = "image") -> np.ndarray:
        """Depth (H, W) float32 metres at the input resolution for an H x W x 3 RGB image in [0, 1]."""
        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float().to(self.device)
        with autocast(self.device, self.precision):
            depth = self._depth(x, name)
        return depth[0, 0].float().cpu().numpy()

    def _depth(self, x: torch.Tensor, name: str) -> torch.Tensor:
        from depthforge.models.patchrefiner import PatchRefiner

        if isinstance(self.model, PatchRefiner):
            try:
                depth = self.model.infer(x, mode=self.mode, patch_split_num=self.patch_split_num,
                                         process_num=self.process_num, fit=self.fit, progress=True)["depth"]
            except ValueError as exc:  # e.g. a tiling that does not fit the image
                raise DataError(name, str(exc)) from None
        else:
            small = F.interpolate(x, size=self.process_shape or ZOEDEPTH_SHAPE, mode="bilinear",
                                  align_corners=True)
            depth = self.model(small)["depth"]
            depth = F.interpolate(depth.float(), size=x.shape[-2:], mode="bilinear", align_corners=False)
        return depth


def intrinsics_from_fov(width: int, height: int, fov_deg: float) -> tuple[float, float, float, float]:
    """(fx, fy, cx, cy) of a pinhole camera with square pixels and horizontal field of view ``fov_deg``."""
    if not 0 < fov_deg < 180:
        raise DataError(None, f"field of view must be between 0 and 180 degrees, got {fov_deg}")
    f = (width / 2) / math.tan(math.radians(fov_deg) / 2)
    return f, f, (width - 1) / 2, (height - 1) / 2


def point_cloud(depth: np.ndarray, image: np.ndarray, fx: float, fy: float, cx: float, cy: float,
                stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Back-project every ``stride``-th pixel with a positive finite depth: (N x 3 metres, N x 3 uint8)."""
    h, w = depth.shape
    v, u = np.mgrid[0:h:stride, 0:w:stride]
    z = depth[::stride, ::stride]
    keep = np.isfinite(z) & (z > 0)
    u, v, z = u[keep].astype(np.float32), v[keep].astype(np.float32), z[keep].astype(np.float32)
    points = np.stack([(u - cx) * z / fx, (v - cy) * z / fy, z], axis=1)
    colors = np.clip(np.rint(image[::stride, ::stride][keep] * 255), 0, 255).astype(np.uint8)
    return points, colors


__all__ = ["MonocularPredictor", "ZOEDEPTH_SHAPE", "intrinsics_from_fov", "point_cloud", "read_user_image"]
