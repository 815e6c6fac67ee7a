"""Small synthetic sets written once per test session."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from depthforge.synth import write_cityscapes, write_kitti, write_u4k
from depthforge.synth.kitti import KittiSynthInfo


@pytest.fixture(scope="session")
def kitti_set(tmp_path_factory: pytest.TempPathFactory) -> KittiSynthInfo:
    out = tmp_path_factory.mktemp("kitti")
    return write_kitti(out, drives=1, frames=2, seed=3, val_drives=1, n_val_select=2, n_test=2, progress=False)


@pytest.fixture(scope="session")
def u4k_set(tmp_path_factory: pytest.TempPathFactory):
    return write_u4k(tmp_path_factory.mktemp("u4k"), scenes=2, frames=3, height=72, width=128, seed=1,
                     progress=False)


@pytest.fixture(scope="session")
def cs_set(tmp_path_factory: pytest.TempPathFactory):
    return write_cityscapes(tmp_path_factory.mktemp("cs"), cities=1, frames=2, height=128, width=256, seed=2,
                            progress=False)


def _read_any(path: Path) -> np.ndarray:
    """Read a PNG unchanged (colour comes back as RGB)."""
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert img is not None, path
    return img[..., ::-1] if img.ndim == 3 else img


@pytest.fixture(scope="session")
def read_any():
    """PNG reader returning uint16 for 16-bit maps and RGB for colour images."""
    return _read_any
