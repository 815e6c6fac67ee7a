"""Inference API for depth completion: any input size, padded to the model's size rule and cropped back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from depthforge.batch import IMAGE, SEMANTIC, SPARSE
from depthforge.errors import ConfigError
from depthforge.inference.precision import autocast, check_precision
from depthforge.models.contract import contract_of


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Zero-pad the bottom and right edges up to a multiple of ``multiple`` (zero = missing sparse depth).

    Returns the padded tensor and the original ``(H, W)``. The multiple is the model's
    ``contract_of(model).input_multiple``.
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph))
    return x, (h, w)


def _to_batch(image: np.ndarray | torch.Tensor, semantic: np.ndarray | torch.Tensor,
              sparse: np.ndarray | torch.Tensor) -> dict[str, torch.Tensor]:
    def nchw(a: np.ndarray | torch.Tensor) -> torch.Tensor:
        # a float32 copy: arrays from PIL are read-only, and the batch must not alias the caller's data
        t = a.float() if isinstance(a, torch.Tensor) else torch.from_numpy(np.array(a, dtype=np.float32))
        if t.ndim == 3 and t.shape[-1] == 3:  # HxWx3 image
            t = t.permute(2, 0, 1)
        if t.ndim == 2:
            t = t[None]
        return t[None] if t.ndim == 3 else t

    return {IMAGE: nchw(image), SEMANTIC: nchw(semantic), SPARSE: nchw(sparse)}


@dataclass
class CompletionPredictor:
    """Runs a completion model on an image, a semantic map (both 0..255) and sparse depth (m, 0 = missing)."""

    model: nn.Module
    device: torch.device = torch.device("cpu")
    precision: str = "32-true"
    """``32-true``, ``bf16-mixed`` or ``16-mixed`` (:mod:`depthforge.inference.precision`)."""

    def __post_init__(self) -> None:
        check_precision(self.precision)

    @classmethod
    def from_checkpoint(cls, path: str | Path, model_name: str | None = None, device: str = "cpu",
                        precision: str = "32-true", **model_kwargs: Any) -> CompletionPredictor:
        """Build the model a checkpoint holds and load its weights (see ``build_from_checkpoint``).

        depthforge checkpoints record the model name and arguments; for other files the model's family
        reads variant and arguments from the state dict. ``model_name``/``model_kwargs`` override them.
        """
        from depthforge.checkpoint import build_from_checkpoint
        from depthforge.inference.device import resolve_device

        try:
            check_precision(precision)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        target = resolve_device(device)
        model = build_from_checkpoint(path, model_name, **model_kwargs)
        return cls(model.to(target).eval(), target, precision)

    @torch.inference_mode()
    def predict(self, image: np.ndarray | torch.Tensor, semantic: np.ndarray | torch.Tensor,
                sparse: np.ndarray | torch.Tensor) -> np.ndarray:
        """Dense depth (H, W) float32 metres, the size of the inputs."""
        batch = _to_batch(image, semantic, sparse)
        h, w = batch[SPARSE].shape[-2:]
        multiple = contract_of(self.model).input_multiple
        for key, t in batch.items():
            if t.shape[-2:] != (h, w):
                raise ValueError(f"input '{key}' is {tuple(t.shape[-2:])}, sparse depth is {(h, w)}")
            batch[key] = pad_to_multiple(t.to(self.device), multiple)[0]
        self.model.eval()
        with autocast(self.device, self.precision):
            depth = self.model(batch)["depth"][..., :h, :w]
        return depth[0, 0].float().cpu().numpy()

    def predict_many(self, samples: Iterable[Mapping[str, torch.Tensor]]) -> Iterator[np.ndarray]:
        """:meth:`predict` for each sample (a dict with ``image``, ``semantic``, ``sparse``)."""
        for s in samples:
            yield self.predict(s[IMAGE], s[SEMANTIC], s[SPARSE])
