"""Pinhole cameras with a pose in the street's world frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# KITTI 2011_09_26 P_rect_02 intrinsics and image size.
KITTI_FX = 721.5377
KITTI_FY = 721.5377
KITTI_CX = 609.5593
KITTI_CY = 172.854
KITTI_WIDTH = 1242
KITTI_HEIGHT = 375
KITTI_CAMERA_HEIGHT = 1.65
KITTI_BASELINE = 0.54


def yaw_rotation(yaw: float, pitch: float = 0.0) -> np.ndarray:
    """Camera-to-world rotation; columns are the camera's right, down and forward axes in the world.

    Positive ``yaw`` turns towards +X (right), positive ``pitch`` looks down.
    """
    cy_, sy_ = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    right = np.array([cy_, 0.0, -sy_])
    forward = np.array([sy_ * cp, -sp, cy_ * cp])
    down = np.array([-sy_ * sp, -cp, -cy_ * sp])
    return np.stack([right, down, forward], axis=1)


@dataclass(frozen=True)
class Camera:
    """Pinhole camera: intrinsics, image size and pose (``rotation`` is camera-to-world)."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    position: np.ndarray
    rotation: np.ndarray

    @property
    def K(self) -> np.ndarray:  # noqa: N802 - conventional name
        """3x3 intrinsic matrix."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def shifted(self, right: float) -> "Camera":
        """The same camera moved ``right`` metres along its own x axis (a stereo partner)."""
        pos = self.position + self.rotation[:, 0] * right
        return Camera(self.fx, self.fy, self.cx, self.cy, self.width, self.height, pos, self.rotation)

    def ray_dirs_cam(self) -> np.ndarray:
        """(H*W, 3) camera-frame directions through pixel centres, scaled so that z = 1.

        Pixel (u, v) has its centre at integer coordinates, as in KITTI's projection.
        """
        u = (np.arange(self.width, dtype=np.float64) - self.cx) / self.fx
        v = (np.arange(self.height, dtype=np.float64) - self.cy) / self.fy
        uu, vv = np.meshgrid(u, v)
        return np.stack([uu.ravel(), vv.ravel(), np.ones(uu.size)], axis=1)

    def world_to_cam(self, points: np.ndarray) -> np.ndarray:
        """Transform (N, 3) world points to the camera frame (x right, y down, z forward)."""
        return (np.asarray(points, dtype=np.float64) - self.position) @ self.rotation

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Project world points; returns rounded pixel columns, rows and camera depth z.

        Points behind the camera get z <= 0; callers filter on z and the image bounds.
        """
        pc = self.world_to_cam(points)
        z = pc[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.rint(self.fx * pc[:, 0] / z + self.cx)
            v = np.rint(self.fy * pc[:, 1] / z + self.cy)
        u = np.where(np.isfinite(u), u, -1).astype(np.int64)
        v = np.where(np.isfinite(v), v, -1).astype(np.int64)
        return u, v, z


def kitti_camera(position: np.ndarray, yaw: float, pitch: float = 0.0) -> Camera:
    """A camera with KITTI's image_02 intrinsics and image size at the given pose."""
    return Camera(KITTI_FX, KITTI_FY, KITTI_CX, KITTI_CY, KITTI_WIDTH, KITTI_HEIGHT,
                  np.asarray(position, dtype=np.float64), yaw_rotation(yaw, pitch))


@dataclass(frozen=True)
class Trajectory:
    """Forward drive along the road with a gentle lateral sway; yaw follows the path tangent."""

    x0: float
    speed: float
    sway: float
    wavelength: float
    phase: float
    height: float = KITTI_CAMERA_HEIGHT

    def pose(self, frame: int) -> tuple[np.ndarray, float]:
        """Camera position and yaw at ``frame`` (10 Hz frames, ``speed`` metres per frame)."""
        z = self.speed * frame
        w = 2 * np.pi / self.wavelength
        x = self.x0 + self.sway * np.sin(w * z + self.phase)
        yaw = float(np.arctan(self.sway * w * np.cos(w * z + self.phase)))
        return np.array([x, self.height, z]), yaw

    @staticmethod
    def random(
        rng: np.random.Generator, road_half_width: float, height: float = KITTI_CAMERA_HEIGHT
    ) -> "Trajectory":
        """A drive in the right-hand lane, clear of parked cars."""
        return Trajectory(
            x0=float(rng.uniform(0.28, 0.36) * road_half_width),
            speed=float(rng.uniform(0.7, 1.2)),
            sway=float(rng.uniform(0.1, 0.3)),
            wavelength=float(rng.uniform(50.0, 90.0)),
            phase=float(rng.uniform(0, 2 * np.pi)),
            height=height,
        )
