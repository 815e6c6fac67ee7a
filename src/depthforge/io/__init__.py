"""Reading and writing depth: KITTI 16-bit PNGs, benchmark submissions, ``.npy`` and PFM."""

from __future__ import annotations

from depthforge.io.arrays import read_npy, read_pfm, write_npy, write_pfm
from depthforge.io.depth_png import depth_to_uint16, read_depth_png, uint16_to_depth, write_depth_png
from depthforge.io.submission import check_submission, submission_name, write_flat_zip, write_submission

__all__ = [
    "check_submission",
    "depth_to_uint16",
    "read_depth_png",
    "read_npy",
    "read_pfm",
    "submission_name",
    "uint16_to_depth",
    "write_depth_png",
    "write_flat_zip",
    "write_npy",
    "write_pfm",
    "write_submission",
]
