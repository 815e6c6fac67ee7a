"""Simulated KITTI-style drives: stereo renders, sparse LiDAR and accumulated ground truth per frame."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from depthforge.synth import palette
from depthforge.synth.camera import KITTI_BASELINE, Camera, Trajectory, kitti_camera
from depthforge.synth.lidar import LidarModel, Scan, project_sparse, scan, zbuffer
from depthforge.synth.render import render
from depthforge.synth.scene import Scene, make_street

GT_WINDOW = 5  # KITTI accumulates LiDAR scans of frames k-5 .. k+5 into the ground truth
GT_KEEP = 0.6  # fraction of accumulated points kept (KITTI's annotated maps hold ~15-30 % of the crop)


def rng_for(*parts: int) -> np.random.Generator:
    """Independent, reproducible generator for a tuple of integers (seed, drive, purpose, frame, ...)."""
    return np.random.default_rng(np.random.SeedSequence([int(p) for p in parts]))


@dataclass
class Drive:
    """A street scene, a trajectory through it and cached LiDAR scans."""

    scene: Scene
    trajectory: Trajectory
    seed: int
    lidar: LidarModel = LidarModel()
    _scans: dict[int, Scan] = field(default_factory=dict, repr=False)

    @staticmethod
    def create(seed: int, n_frames: int) -> "Drive":
        """A drive long enough for ``n_frames`` frames plus the look-ahead of the LiDAR and camera."""
        rng = rng_for(seed, 1)
        scene = make_street(seed, z_start=-40.0, z_end=1.25 * n_frames + 200.0)
        return Drive(scene, Trajectory.random(rng, scene.road_half_width), seed)

    def camera(self, frame: int, cam: int = 2) -> Camera:
        """KITTI colour camera ``cam`` (2 = left, 3 = right, 0.54 m to the right) at ``frame``."""
        pos, yaw = self.trajectory.pose(frame)
        left = kitti_camera(pos, yaw)
        return left if cam == 2 else left.shifted(KITTI_BASELINE)

    def scan(self, frame: int) -> Scan:
        """LiDAR sweep at ``frame`` (cached; noise depends only on seed and frame)."""
        if frame not in self._scans:
            _, yaw = self.trajectory.pose(frame)
            rng = rng_for(self.seed, 2, frame)
            self._scans[frame] = scan(self.scene, self.camera(frame, 2), yaw, rng, self.lidar)
        return self._scans[frame]

    def forget_scans_before(self, frame: int) -> None:
        """Drop cached scans no longer needed to bound memory on long drives."""
        for k in [k for k in self._scans if k < frame]:
            del self._scans[k]


def accumulate_gt(points: np.ndarray, camera: Camera, depth: np.ndarray, semantic: np.ndarray,
                  top_row: int, rng: np.random.Generator | None = None, keep: float = 1.0,
                  tol_abs: float = 0.08, tol_rel: float = 0.01) -> np.ndarray:
    """Semi-dense ground truth from points of several sweeps.

    A point is kept when its camera depth lies within the 3x3 range of the
    rendered depth at its pixel (plus a tolerance), which removes points that
    are occluded in this view; sky pixels and rows above ``top_row`` (the
    highest row the current sweep reaches) stay empty. With ``rng``, only a
    random fraction ``keep`` of the points survives, standing in for the
    outlier rejection of the KITTI pipeline and bringing the density to
    KITTI's level.
    """
    h, w = depth.shape
    u, v, z = camera.project(points)
    inside = (z > 0.1) & (u >= 0) & (u < w) & (v >= top_row) & (v < h)
    u, v, z = u[inside], v[inside], z[inside]
    lo = ndimage.minimum_filter(depth, size=3, mode="nearest")[v, u]
    hi = ndimage.maximum_filter(depth, size=3, mode="nearest")[v, u]
    tol = tol_abs + tol_rel * z
    ok = (z >= lo - tol) & (z <= hi + tol) & (semantic[v, u] != palette.SKY) & np.isfinite(depth[v, u])
    if rng is not None:
        ok &= rng.random(len(z)) < keep
    return zbuffer(u[ok], v[ok], z[ok], h, w)


def simulate_frame(drive: Drive, frame: int, cams: tuple[int, ...] = (2, 3), with_gt: bool = True,
                   noise_seed: int = 0) -> dict[int, dict[str, np.ndarray]]:
    """Render ``rgb``, ``semantic``, ``depth``, ``sparse`` (and ``gt``) for each camera at ``frame``."""
    out: dict[int, dict[str, np.ndarray]] = {}
    current = drive.scan(frame).points
    if with_gt:
        window = range(frame - GT_WINDOW, frame + GT_WINDOW + 1)
        accumulated = np.concatenate([drive.scan(k).points for k in window])
    for cam in cams:
        camera = drive.camera(frame, cam)
        noise = int(rng_for(drive.seed, 3, frame, cam, noise_seed).integers(2**31))
        view = render(drive.scene, camera, noise_seed=noise)
        sparse = project_sparse(current, camera)
        result = {"image": view["image"], "semantic": view["semantic"], "depth": view["depth"], "sparse": sparse}
        if with_gt:
            rows = np.flatnonzero(sparse.any(axis=1))
            top = int(rows[0]) if rows.size else camera.height
            result["gt"] = accumulate_gt(accumulated, camera, view["depth"], view["semantic"], top,
                                         rng=rng_for(drive.seed, 4, frame, cam), keep=GT_KEEP)
        out[cam] = result
    return out
