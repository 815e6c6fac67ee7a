"""Input normalisation shared by every metric: numpy or torch in, numpy out."""

from __future__ import annotations

from typing import Any

import numpy as np

from depthforge.errors import DataError

try:  # torch is a hard dependency of the package, but keep this module importable without it
    import torch
except ImportError:  # pragma: no cover
    torch = None  # type: ignore[assignment]

ArrayLike = Any  # numpy array or torch tensor


def to_numpy(x: ArrayLike, name: str) -> np.ndarray:
    """Return ``x`` as a numpy array (a copy only when it comes from torch or is not an ndarray)."""
    if torch is not None and isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except Exception as exc:  # noqa: BLE001 - any conversion failure is a data problem
        raise DataError(name, f"cannot convert {type(x).__name__} to an array ({exc})") from None


def as_batch(x: ArrayLike, name: str) -> np.ndarray:
    """Accept (H, W), (1, H, W), (1, 1, H, W) or (B, 1, H, W) and return (B, H, W)."""
    a = to_numpy(x, name)
    if a.ndim == 2:
        return a[None]
    if a.ndim == 3 and a.shape[0] == 1:
        return a
    if a.ndim == 4 and a.shape[1] == 1:
        return a[:, 0]
    raise DataError(name, f"expected shape (H, W), (1, H, W) or (B, 1, H, W), got {tuple(a.shape)}")


def as_image(x: ArrayLike, name: str) -> np.ndarray:
    """Accept a single map (H, W), (1, H, W) or (1, 1, H, W) and return (H, W)."""
    a = as_batch(x, name)
    if a.shape[0] != 1:
        raise DataError(name, f"expected a single map, got a batch of {a.shape[0]}")
    return a[0]


def as_color(x: ArrayLike, name: str) -> np.ndarray:
    """Accept (3, H, W), (1, 3, H, W) or (H, W, 3) and return float32 (3, H, W) without rescaling."""
    a = to_numpy(x, name)
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 3 and a.shape[0] == 3:
        return a.astype(np.float32)
    if a.ndim == 3 and a.shape[-1] == 3:
        return np.ascontiguousarray(np.moveaxis(a, -1, 0)).astype(np.float32)
    raise DataError(name, f"expected a colour image (3, H, W), (1, 3, H, W) or (H, W, 3), got {tuple(a.shape)}")


def check_same_size(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise a DataError unless the last two dimensions agree."""
    if a.shape[-2:] != b.shape[-2:]:
        raise DataError(name_a, f"size {tuple(a.shape[-2:])} does not match {name_b} size {tuple(b.shape[-2:])}")
