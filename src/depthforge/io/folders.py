"""Output folders, checked and created before any work starts."""

from __future__ import annotations

import os
from pathlib import Path

from depthforge.errors import DataError
from depthforge.io.png import PathLike


def prepare_output_dir(path: PathLike, what: str = "output folder") -> Path:
    """Create ``path`` (and its parents) or say in one line why it cannot be: a file in the way, or a
    folder that is not writable. Commands call this before computing anything, so nothing is lost."""
    folder = Path(path)
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        where = "it is a file" if probe == folder else f"{probe} is a file"
        raise DataError(folder, f"cannot create the {what}: {where}")
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        raise DataError(folder, f"cannot create the {what}: {probe} is not writable")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(folder, f"cannot create the {what} ({exc.strerror or exc})") from None
    return folder


__all__ = ["prepare_output_dir"]
