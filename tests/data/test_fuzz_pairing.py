"""Fuzzed KITTI pairing: with any files missing, scanning either pairs or names the problem in one line."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from depthforge.errors import DepthforgeError


@settings(max_examples=15, deadline=None)
@given(drop=st.lists(st.integers(0, 10_000), min_size=1, max_size=4), split=st.sampled_from(
    ["train", "val_select", "val_full", "test"]))
def test_kitti_pairing_with_missing_files(drop: list[int], split: str) -> None:
    from depthforge.data.kitti import scan_kitti

    from .kitti_tree import build_kitti

    folder = Path(tempfile.mkdtemp())
    try:
        tree = build_kitti(folder)
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        for i in drop:
            files[i % len(files)].unlink(missing_ok=True)
        try:
            scan_kitti(tree.depth, tree.rgb, tree.semantic, split)
        except DepthforgeError as exc:
            assert "\n" not in str(exc), str(exc)
    finally:
        shutil.rmtree(folder)
