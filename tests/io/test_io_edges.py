"""Edge-map PNGs: non-zero is an edge, whatever the bit depth or channel count."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from depthforge.errors import DataError
from depthforge.io import read_edges, write_edges


def test_edges_round_trip_and_other_encodings(tmp_path: Path) -> None:
    edges = np.random.default_rng(0).random((7, 9)) > 0.7
    back = read_edges(write_edges(tmp_path / "e.png", edges))
    assert back.dtype == bool
    np.testing.assert_array_equal(back, edges)
    colour = np.zeros((7, 9, 3), np.uint16)
    colour[..., 2] = edges * 3  # one channel set, 16-bit
    cv2.imwrite(str(tmp_path / "c.png"), colour)
    np.testing.assert_array_equal(read_edges(tmp_path / "c.png"), edges)
    (tmp_path / "cut.png").write_bytes((tmp_path / "e.png").read_bytes()[:-20])
    with pytest.raises(DataError, match=r"cut\.png: truncated PNG"):
        read_edges(tmp_path / "cut.png")
