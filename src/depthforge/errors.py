"""Exception types with one-line, actionable messages."""

from __future__ import annotations

from os import PathLike


class DepthforgeError(Exception):
    """Base class of every error depthforge raises on purpose."""


class DataError(DepthforgeError, ValueError):
    """Bad or misaligned input data. The message names the file and the problem."""

    def __init__(self, path: str | PathLike[str] | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(problem if path is None else f"{path}: {problem}")


class ConfigError(DepthforgeError, ValueError):
    """Invalid configuration: unknown key, wrong type or bad combination."""


class CheckpointError(DepthforgeError, ValueError):
    """A checkpoint that cannot be read or does not fit the model."""
