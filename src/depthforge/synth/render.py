"""Render RGB, metric depth, semantic ids and normals of a scene from a camera."""

from __future__ import annotations

import numpy as np

from depthforge.synth import palette
from depthforge.synth.camera import Camera
from depthforge.synth.raycast import GROUND_IDS, KERB_ID, ROAD_ID, SIDEWALK_ID, SKY_ID, Hits, cast
from depthforge.synth.scene import Scene
from depthforge.synth.shading import camera_noise, shade

# zlib level of every PNG the set writers produce: fixed, so a seed gives the same bytes whatever
# OpenCV's default level is.
PNG_COMPRESSION = 3


def semantic_ids(scene: Scene, points: np.ndarray, hits: Hits) -> np.ndarray:
    """CityScapes label id per ray (uint8)."""
    prim = hits.prim
    out = np.full(len(prim), palette.SKY, dtype=np.uint8)
    obj = prim >= GROUND_IDS
    out[obj] = scene.prim_class[prim[obj] - GROUND_IDS]
    out[prim == ROAD_ID] = palette.ROAD
    out[prim == KERB_ID] = palette.SIDEWALK
    side = prim == SIDEWALK_ID
    paved = np.abs(points[:, 0]) <= scene.road_half_width + scene.sidewalk_width
    out[side & paved] = palette.SIDEWALK
    out[side & ~paved] = palette.TERRAIN
    return out


def render(scene: Scene, camera: Camera, noise_seed: int | None = 0) -> dict[str, np.ndarray]:
    """Ray-cast one view.

    Returns ``rgb`` (HxWx3 uint8, with camera noise unless ``noise_seed`` is None),
    ``depth`` (HxW float32 camera z in metres, inf for sky), ``semantic`` (HxW uint8
    CityScapes label ids), ``normals`` (HxWx3 float32, camera frame, zero for sky)
    and ``range`` (HxW float32 distance from the optical centre).
    """
    h, w = camera.height, camera.width
    d_cam = camera.ray_dirs_cam()
    norm = np.linalg.norm(d_cam, axis=1)
    d_world = (d_cam / norm[:, None]) @ camera.rotation.T
    hits = cast(scene, camera.position, d_world.reshape(h, w, 3))
    # Ray range along a unit direction -> camera z; d_cam has z = 1.
    depth = hits.t / norm
    points = camera.position + np.where(np.isfinite(hits.t), hits.t, 0.0)[:, None] * d_world
    sem = semantic_ids(scene, points, hits)
    lin = shade(scene, camera.position, d_world, hits, seed=scene.seed).reshape(h, w, 3)
    if noise_seed is None:
        rgb = np.clip(np.rint(lin * 255.0), 0, 255).astype(np.uint8)
    else:
        rgb = camera_noise(lin, np.random.default_rng(noise_seed))
    normals = (hits.normal @ camera.rotation).astype(np.float32)
    normals[hits.prim == SKY_ID] = 0.0
    return {
        "image": rgb,
        "depth": depth.reshape(h, w).astype(np.float32),
        "semantic": sem.reshape(h, w),
        "normals": normals.reshape(h, w, 3),
        "range": hits.t.reshape(h, w).astype(np.float32),
    }
