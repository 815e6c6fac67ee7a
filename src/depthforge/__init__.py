"""depthforge: dense metric depth (SemAttNet depth completion, PatchRefiner high-resolution depth)."""

from __future__ import annotations

from depthforge.registry import create_model, list_models, register_model

__version__ = "0.1.0"

__all__ = ["create_model", "list_models", "register_model", "load_checkpoint", "__version__"]


def __getattr__(name: str):  # lazy: keep ``import depthforge`` cheap
    if name == "load_checkpoint":
        from depthforge.checkpoint import load_checkpoint

        return load_checkpoint
    raise AttributeError(name)
