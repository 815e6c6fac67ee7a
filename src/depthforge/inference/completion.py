"""Inference API for depth completion: any input size, padded to a multiple of 32 and cropped back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from depthforge.registry import create_model

MULTIPLE = 32  # five stride-2 stages must invert exactly


def pad_to_multiple(x: torch.Tensor, multiple: int = MULTIPLE) -> tuple[torch.Tensor, tuple[int, int]]:
    """Zero-pad the bottom and right edges (zero = missing depth for the sparse input)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph))
    return x, (h, w)


def _to_batch(rgb: np.ndarray | torch.Tensor, semantic: np.ndarray | torch.Tensor,
              sparse: np.ndarray | torch.Tensor) -> dict[str, torch.Tensor]:
    def chw(a: np.ndarray | torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a).float()
        if t.ndim == 3 and t.shape[-1] == 3:  # HxWx3 image
            t = t.permute(2, 0, 1)
        if t.ndim == 2:
            t = t[None]
        return t[None] if t.ndim == 3 else t

    return {"rgb": chw(rgb), "semantic": chw(semantic), "d": chw(sparse)}


@dataclass
class CompletionPredictor:
    """Runs a completion model on RGB (0..255), semantic map (0..255) and sparse depth (m, 0 = missing)."""

    model: nn.Module
    device: torch.device = torch.device("cpu")

    @classmethod
    def from_checkpoint(cls, path: str | Path, model_name: str | None = None, device: str = "cpu",
                        **model_kwargs: Any) -> CompletionPredictor:
        """Build the model a checkpoint was trained with and load its weights.

        depthforge checkpoints record the model name and arguments; for official files the
        variant is read from the key layout and the width from the first convolution.
        """
        from depthforge.checkpoint import extract_state_dict, load_checkpoint, read_checkpoint

        ckpt = read_checkpoint(path)
        recorded = _recorded_model(ckpt)
        if model_name is None and recorded is not None:
            model_name = recorded.get("name")
            model_kwargs = {**dict(recorded.get("kwargs") or {}), **model_kwargs}
        if model_name is None:  # a full model holds head keys; a backbone checkpoint does not
            state = extract_state_dict(ckpt)
            model_name = "semattnet" if any(k.startswith("backbone.") for k in state) else "semattnet_bb"
            model_kwargs.setdefault("width_mult", _width_from_state(state, model_name))
        model = create_model(model_name, **model_kwargs)
        load_checkpoint(model, path)
        return cls(model.to(device).eval(), torch.device(device))

    @torch.inference_mode()
    def predict(self, rgb: np.ndarray | torch.Tensor, semantic: np.ndarray | torch.Tensor,
                sparse: np.ndarray | torch.Tensor) -> np.ndarray:
        """Dense depth (H, W) float32 metres, the size of the inputs."""
        batch = _to_batch(rgb, semantic, sparse)
        h, w = batch["d"].shape[-2:]
        for key, t in batch.items():
            if t.shape[-2:] != (h, w):
                raise ValueError(f"input '{key}' is {tuple(t.shape[-2:])}, sparse depth is {(h, w)}")
            batch[key] = pad_to_multiple(t.to(self.device))[0]
        self.model.eval()
        depth = self.model(batch)["depth"][..., :h, :w]
        return depth[0, 0].float().cpu().numpy()

    def predict_many(self, samples: Iterable[dict[str, torch.Tensor]]) -> Iterator[np.ndarray]:
        for s in samples:
            yield self.predict(s["rgb"], s["semantic"], s["d"])


def _recorded_model(ckpt: Any) -> dict[str, Any] | None:
    """The ``model`` section of the config saved in a depthforge checkpoint, if any."""
    if not isinstance(ckpt, dict):
        return None
    for holder in (ckpt.get("hyper_parameters", {}).get("config"), ckpt.get("args")):
        if isinstance(holder, dict) and isinstance(holder.get("model"), dict):
            return holder["model"]
    return None


def _width_from_state(state: dict[str, torch.Tensor], model_name: str) -> float:
    """Recover ``width_mult`` from the first convolution (32 output channels at width 1)."""
    key = ("backbone." if model_name == "semattnet" else "") + "rgb_conv_init.0.weight"
    if key in state:
        return state[key].shape[0] / 32.0
    return 1.0
