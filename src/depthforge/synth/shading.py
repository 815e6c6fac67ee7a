"""Procedural textures, Lambertian shading and camera noise."""

from __future__ import annotations

import numpy as np

from depthforge.synth import scene as sc
from depthforge.synth.raycast import GROUND_IDS, KERB_ID, ROAD_ID, SIDEWALK_ID, SKY_ID, Hits

SUN = np.array([0.45, 0.8, -0.35]) / np.linalg.norm([0.45, 0.8, -0.35])
AMBIENT = 0.38
SKY_HORIZON = np.array([0.80, 0.86, 0.94])
SKY_ZENITH = np.array([0.32, 0.52, 0.84])


def _hash(ix: np.ndarray, iy: np.ndarray, iz: np.ndarray, seed: int) -> np.ndarray:
    """Integer lattice hash to [0, 1) (uint32 arithmetic wraps on purpose)."""
    h = (ix.astype(np.uint32) * np.uint32(73856093)) ^ (iy.astype(np.uint32) * np.uint32(19349663))
    h ^= iz.astype(np.uint32) * np.uint32(83492791) ^ np.uint32(seed & 0xFFFFFFFF)
    h ^= h >> np.uint32(13)
    h *= np.uint32(1274126177)
    h ^= h >> np.uint32(16)
    return h.astype(np.float64) / 4294967296.0


def value_noise(p: np.ndarray, seed: int = 0) -> np.ndarray:
    """Smooth 3D value noise in [0, 1) at points (N, 3)."""
    f = np.floor(p)
    i = f.astype(np.int64)
    w = p - f
    w = w * w * (3.0 - 2.0 * w)
    out = np.zeros(len(p))
    for dx in (0, 1):
        wx = w[:, 0] if dx else 1.0 - w[:, 0]
        for dy in (0, 1):
            wy = w[:, 1] if dy else 1.0 - w[:, 1]
            for dz in (0, 1):
                wz = w[:, 2] if dz else 1.0 - w[:, 2]
                out += wx * wy * wz * _hash(i[:, 0] + dx, i[:, 1] + dy, i[:, 2] + dz, seed)
    return out


def _fbm(p: np.ndarray, seed: int) -> np.ndarray:
    return 0.65 * value_noise(p, seed) + 0.35 * value_noise(p * 2.7, seed + 1)


def _ground_albedo(scene: sc.Scene, p: np.ndarray, prim: np.ndarray, seed: int) -> np.ndarray:
    """Asphalt with lane markings, paved sidewalk, grass beyond it, concrete kerb."""
    out = np.zeros((len(p), 3))
    hw, sw = scene.road_half_width, scene.sidewalk_width
    road = prim == ROAD_ID
    if road.any():
        q = p[road]
        a = 0.24 + 0.12 * _fbm(q * np.array([3.0, 3.0, 3.0]), seed)
        col = np.stack([a, a, a * 1.06], axis=1)
        ax = np.abs(q[:, 0])
        centre = (ax < 0.08) & (np.mod(q[:, 2], 9.0) < 4.5)
        edge = (ax > hw - 0.35) & (ax < hw - 0.22)
        col[centre | edge] = 0.82
        out[road] = col
    side = prim == SIDEWALK_ID
    if side.any():
        q = p[side]
        n = _fbm(q * 2.0, seed + 7)
        paved = np.abs(q[:, 0]) <= hw + sw
        tile = (np.mod(q[:, 0], 0.6) < 0.03) | (np.mod(q[:, 2], 0.6) < 0.03)
        pav = (0.55 + 0.12 * n)[:, None] * np.array([1.0, 0.97, 0.92])
        pav[tile] *= 0.7
        grass = (0.6 + 0.6 * n)[:, None] * np.array([0.26, 0.42, 0.16])
        out[side] = np.where(paved[:, None], pav, grass)
    out[prim == KERB_ID] = (0.72, 0.71, 0.68)
    return out


def _object_albedo(
    scene: sc.Scene, p: np.ndarray, normal: np.ndarray, pid: np.ndarray, seed: int
) -> np.ndarray:
    """Per-instance colour modulated by a texture chosen by the primitive's texture kind."""
    base = scene.prim_albedo[pid].astype(np.float64)
    tex = scene.prim_tex[pid]
    mult = np.ones(len(p))
    m = tex == sc.TEX_FACADE
    if m.any():
        q, nrm = p[m], normal[m]
        u = np.where(np.abs(nrm[:, 0]) > 0.5, q[:, 2], q[:, 0])
        window = ((np.mod(u, 3.1) > 0.8) & (np.mod(u, 3.1) < 2.2)
                  & (np.mod(q[:, 1], 3.2) > 1.0) & (np.mod(q[:, 1], 3.2) < 2.5)
                  & (q[:, 1] > 1.0) & (np.abs(nrm[:, 1]) < 0.5))
        grain = 0.85 + 0.3 * value_noise(q * 1.5, seed + 11)
        col = base[m] * grain[:, None]
        glass = 0.12 + 0.12 * value_noise(q[window] * 0.3, seed + 12)
        col[window] = glass[:, None] * np.array([0.9, 1.0, 1.15])
        base[m] = col
    m = tex == sc.TEX_CAR
    if m.any():
        glass = np.abs(normal[m, 1]) < 0.5  # cabin sides are windows, the roof keeps the paint
        col = base[m]
        col[glass] = (0.1, 0.12, 0.15)
        base[m] = col
    m = tex == sc.TEX_FOLIAGE
    if m.any():
        mult[m] = 0.55 + 0.9 * _fbm(p[m] * 3.0, seed + 21)
    m = tex == sc.TEX_BARK
    if m.any():
        mult[m] = 0.7 + 0.6 * value_noise(p[m] * np.array([8.0, 1.5, 8.0]), seed + 31)
    m = tex == sc.TEX_PLAIN
    if m.any():
        mult[m] = 0.93 + 0.14 * value_noise(p[m] * 2.0, seed + 41)
    return base * mult[:, None]


def shade(scene: sc.Scene, origin: np.ndarray, dirs: np.ndarray, hits: Hits, seed: int = 0) -> np.ndarray:
    """Linear RGB in [0, 1] per ray: textured Lambertian surfaces, a sky gradient and distance haze."""
    n = len(dirs)
    rgb = np.zeros((n, 3))
    sky = hits.prim == SKY_ID
    elev = np.clip(dirs[sky, 1], 0.0, 1.0) ** 0.6
    rgb[sky] = SKY_HORIZON + elev[:, None] * (SKY_ZENITH - SKY_HORIZON)
    solid = ~sky
    t = hits.t[solid]
    p = origin + t[:, None] * dirs[solid]
    nrm = hits.normal[solid]
    prim = hits.prim[solid]
    albedo = np.empty((len(p), 3))
    ground = prim < GROUND_IDS
    albedo[ground] = _ground_albedo(scene, p[ground], prim[ground], seed)
    obj = ~ground
    albedo[obj] = _object_albedo(scene, p[obj], nrm[obj], prim[obj] - GROUND_IDS, seed)
    light = AMBIENT + (1.0 - AMBIENT) * np.clip(nrm @ SUN, 0.0, None)
    col = albedo * light[:, None]
    haze = 1.0 - np.exp(-t / 350.0)
    rgb[solid] = col + haze[:, None] * (SKY_HORIZON - col)
    return rgb


def camera_noise(rgb: np.ndarray, rng: np.random.Generator, sigma: float = 0.012) -> np.ndarray:
    """Vignetting, Gaussian sensor noise and 8-bit quantisation of an HxWx3 image in [0, 1]."""
    h, w, _ = rgb.shape
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (w / 2)) ** 2
    img = rgb * (1.0 - 0.18 * r2)[..., None]
    img = img + rng.normal(0.0, sigma, size=img.shape)
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)
