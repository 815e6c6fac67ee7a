"""Procedural street scenes rendered into the on-disk formats of KITTI DC, UnrealStereo4K and CityScapes.

Depth is exact geometry (analytic ray casting), so the written sets let the
readers, training and evaluation commands run without downloading anything.
"""

from depthforge.synth.camera import Camera, Trajectory, kitti_camera
from depthforge.synth.cityscapes import CityscapesSynthInfo, write_cityscapes
from depthforge.synth.kitti import KittiSynthInfo, write_kitti
from depthforge.synth.render import render
from depthforge.synth.scene import Scene, make_street
from depthforge.synth.u4k import U4KSynthInfo, write_u4k

__all__ = [
    "Camera",
    "CityscapesSynthInfo",
    "KittiSynthInfo",
    "Scene",
    "Trajectory",
    "U4KSynthInfo",
    "kitti_camera",
    "make_street",
    "render",
    "write_cityscapes",
    "write_kitti",
    "write_u4k",
]
