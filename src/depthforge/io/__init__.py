"""Every on-disk format, read and written: depth maps, images, arrays, dataset codecs, KITTI submissions.

This package depends only on :mod:`depthforge.errors` and third-party libraries, so any layer may use it.
Formats are described in ``docs/data.md``.
"""

from __future__ import annotations

from depthforge.io.arrays import read_npy, read_pfm, write_npy, write_pfm
from depthforge.io.cityscapes import (
    camera_factor,
    disparity_to_uint16,
    read_camera,
    read_disparity_png,
    uint16_to_disparity,
    write_camera,
    write_disparity_png,
)
from depthforge.io.depth import (
    DEPTH_SUFFIXES,
    KITTI_DEPTH_SCALE,
    EmptyDepthWarning,
    depth_to_uint16,
    read_depth,
    read_depth_png,
    read_prediction,
    uint16_to_depth,
    write_depth_png,
)
from depthforge.io.folders import prepare_output_dir
from depthforge.io.jsonfile import write_json
from depthforge.io.image import (
    IMAGE_SUFFIXES,
    decode_image,
    read_edges,
    read_rgb,
    read_semantic,
    write_edges,
    write_rgb_png,
)
from depthforge.io.ply import read_ply, write_ply
from depthforge.io.png import (
    PathLike,
    decode_jpeg,
    decode_png,
    image_size,
    read_u16_png,
    write_png_bytes,
    write_u8_png,
    write_u16_png,
)
from depthforge.io.stereo import depth_to_disparity, disparity_to_depth
from depthforge.io.submission import check_submission, submission_name, write_flat_zip, write_submission
from depthforge.io.u4k import (
    Extrinsics,
    read_disparity_npy,
    read_extrinsics,
    read_raw_image,
    write_disparity_npy,
    write_extrinsics,
    write_raw_image,
)

__all__ = [
    "DEPTH_SUFFIXES",
    "IMAGE_SUFFIXES",
    "KITTI_DEPTH_SCALE",
    "EmptyDepthWarning",
    "Extrinsics",
    "PathLike",
    "camera_factor",
    "check_submission",
    "decode_image",
    "decode_jpeg",
    "decode_png",
    "depth_to_disparity",
    "depth_to_uint16",
    "disparity_to_depth",
    "disparity_to_uint16",
    "image_size",
    "read_camera",
    "prepare_output_dir",
    "read_depth",
    "read_depth_png",
    "read_disparity_npy",
    "read_disparity_png",
    "read_edges",
    "read_extrinsics",
    "read_npy",
    "read_pfm",
    "read_ply",
    "read_prediction",
    "read_raw_image",
    "read_rgb",
    "read_semantic",
    "read_u16_png",
    "submission_name",
    "uint16_to_depth",
    "uint16_to_disparity",
    "write_camera",
    "write_depth_png",
    "write_disparity_npy",
    "write_disparity_png",
    "write_edges",
    "write_json",
    "write_extrinsics",
    "write_flat_zip",
    "write_npy",
    "write_pfm",
    "write_ply",
    "write_raw_image",
    "write_rgb_png",
    "write_submission",
    "write_png_bytes",
    "write_u8_png",
    "write_u16_png",
]
