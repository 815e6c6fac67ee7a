"""The device a prediction runs on, checked before any model is built."""

from __future__ import annotations

import torch

from depthforge.errors import ConfigError


def resolve_device(name: str | torch.device) -> torch.device:
    """``name`` as a torch device this machine has; otherwise a one-line :class:`ConfigError` that says why.

    Checked up front: a full-size model takes seconds to build and gigabytes to hold before ``.to()`` would
    fail with PyTorch's own traceback.
    """
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError, ValueError):
        raise ConfigError(f"unknown device {str(name)!r}: use cpu, cuda, cuda:<index> or mps") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ConfigError(f"device {str(name)!r}: no CUDA GPU is available to this PyTorch; use cpu")
        if device.index is not None and device.index >= count:
            raise ConfigError(f"device {str(name)!r}: {count} CUDA GPU(s) here: cuda:0..cuda:{count - 1}")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"device {str(name)!r}: Apple's MPS backend is not available here; use cpu")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"device {str(name)!r}: not supported for prediction; use cpu, cuda or mps")
    return device


__all__ = ["resolve_device"]
