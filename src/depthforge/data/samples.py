"""Ground-truth items for evaluation, and the file listing the dataset modules share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from depthforge.errors import DataError


@dataclass
class GTSample:
    """One ground-truth item for ``depthforge eval``.

    ``depth`` is in metres; ``names`` are the prediction file stems accepted for it, most specific first;
    ``extras`` holds what a metric protocol needs besides depth (``boundary``, ``seg_color``, ``image``).
    """

    path: Path
    names: list[str]
    depth: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)


def list_files(root: Path, pattern: str, what: str) -> list[Path]:
    """Sorted files of ``root`` matching the glob ``pattern``; a missing folder or no match raises."""
    if not root.is_dir():
        raise DataError(root, f"{what} folder does not exist")
    files = sorted(root.glob(pattern))
    if not files:
        raise DataError(root, f"no {what} files matching {pattern!r}")
    return files
