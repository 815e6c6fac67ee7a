"""Fixtures for the data tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from .kitti_tree import KittiTree, build_kitti


@pytest.fixture
def kitti(tmp_path: Path) -> KittiTree:
    """A small tree: 2 train drives, 1 val drive, 2 cameras x 2 frames, 2 val_select and 2 test samples."""
    return build_kitti(tmp_path)
