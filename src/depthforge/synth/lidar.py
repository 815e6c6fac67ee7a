"""A simulated 64-beam rotating LiDAR (Velodyne HDL-64E geometry) and its projection into cameras."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depthforge.synth.camera import Camera
from depthforge.synth.raycast import cast
from depthforge.synth.scene import Scene


@dataclass(frozen=True)
class LidarModel:
    """Beam layout, mounting offset (relative to the left colour camera) and noise.

    Only the forward sector ``±half_fov_deg`` is simulated since nothing else
    projects into the front cameras.
    """

    n_beams: int = 64
    elev_top_deg: float = 2.0
    elev_bottom_deg: float = -24.8
    az_step_deg: float = 0.14
    half_fov_deg: float = 55.0
    height: float = 1.73
    right: float = 0.06
    back: float = 0.27
    max_range: float = 120.0
    min_range: float = 2.0
    range_sigma: float = 0.02
    dropout: float = 0.05

    def directions(self, yaw: float) -> np.ndarray:
        """(n_beams, n_azimuth, 3) unit world directions for a vehicle heading ``yaw``."""
        el = np.deg2rad(np.linspace(self.elev_top_deg, self.elev_bottom_deg, self.n_beams))
        az = np.deg2rad(np.arange(-self.half_fov_deg, self.half_fov_deg + 1e-9, self.az_step_deg)) + yaw
        ee, aa = np.meshgrid(el, az, indexing="ij")
        ce = np.cos(ee)
        return np.stack([ce * np.sin(aa), np.sin(ee), ce * np.cos(aa)], axis=-1)

    def origin(self, camera: Camera) -> np.ndarray:
        """Sensor centre for a vehicle whose left colour camera is ``camera``."""
        fwd = camera.rotation[:, 2] * np.array([1.0, 0.0, 1.0])
        fwd /= np.linalg.norm(fwd)
        pos = camera.position + camera.rotation[:, 0] * self.right - fwd * self.back
        return np.array([pos[0], self.height + (camera.position[1] - 1.65), pos[2]])


@dataclass
class Scan:
    """Measured points (N, 3) in the world, with the true (noise-free) ranges and the sensor origin."""

    points: np.ndarray
    true_range: np.ndarray
    measured_range: np.ndarray
    origin: np.ndarray


def scan(scene: Scene, camera: Camera, yaw: float, rng: np.random.Generator,
         model: LidarModel = LidarModel()) -> Scan:
    """Cast every beam into ``scene``; keep returns within range, drop a random fraction, add range noise."""
    o = model.origin(camera)
    grid = model.directions(yaw)
    t = cast(scene, o, grid, far=model.max_range, tile=16).t
    d = grid.reshape(-1, 3)
    # Draw the random numbers for every beam so results do not depend on what was hit.
    keep_draw = rng.random(len(d))
    noise = np.clip(rng.normal(0.0, model.range_sigma, len(d)), -3 * model.range_sigma, 3 * model.range_sigma)
    ok = np.isfinite(t) & (t >= model.min_range) & (t <= model.max_range) & (keep_draw >= model.dropout)
    measured = t[ok] + noise[ok]
    return Scan(o + measured[:, None] * d[ok], t[ok], measured, o)


def project_sparse(points: np.ndarray, camera: Camera) -> np.ndarray:
    """Z-buffer world points into an HxW float32 depth map (0 = empty); the nearest point wins a pixel."""
    u, v, z = camera.project(points)
    return zbuffer(u, v, z, camera.height, camera.width)


def zbuffer(u: np.ndarray, v: np.ndarray, z: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest z per pixel of integer pixel coordinates; points off the image or behind are ignored."""
    ok = (z > 0.1) & (u >= 0) & (u < width) & (v >= 0) & (v < height)
    flat = v[ok] * width + u[ok]
    zs = z[ok]
    order = np.lexsort((zs, flat))
    flat, zs = flat[order], zs[order]
    first = np.ones(len(flat), dtype=bool)
    first[1:] = flat[1:] != flat[:-1]
    out = np.zeros(height * width, dtype=np.float32)
    out[flat[first]] = zs[first]
    return out.reshape(height, width)
