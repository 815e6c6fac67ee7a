"""Inference API: run trained models on arbitrary inputs."""

from depthforge.inference.completion import CompletionPredictor, pad_to_multiple

__all__ = ["CompletionPredictor", "pad_to_multiple"]
