"""Exact vectorised ray casting of a :class:`Scene` from one shared origin.

Every primitive is tested against all rays at once (array operations); a cone
test against the primitive's bounding sphere selects the candidate rays first,
and primitives are visited front to back so distant ones are skipped where a
nearer hit already exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depthforge.synth.scene import Scene

# Primitive ids reserved for the ground; scene primitives are offset by GROUND_IDS.
SKY_ID = -1
ROAD_ID = 0
SIDEWALK_ID = 1
KERB_ID = 2
GROUND_IDS = 3

_EPS = 1e-6


@dataclass
class Hits:
    """Per-ray result: range along the unit direction (inf = sky), primitive id and unit normal."""

    t: np.ndarray
    prim: np.ndarray
    normal: np.ndarray


def _ground(scene: Scene, o: np.ndarray, d: np.ndarray, far: float) -> Hits:
    """Intersect the road / kerb / sidewalk step height field."""
    n = len(d)
    t = np.full(n, np.inf)
    prim = np.full(n, SKY_ID, dtype=np.int32)
    normal = np.zeros((n, 3))
    hw, kh = scene.road_half_width, scene.kerb_height
    dy = d[:, 1]
    down = dy < -_EPS
    with np.errstate(divide="ignore", invalid="ignore"):
        t_side = np.where(down, (kh - o[1]) / dy, np.inf)
        x_side = o[0] + t_side * d[:, 0]
        t_road = np.where(down, -o[1] / dy, np.inf)
        x_road = o[0] + t_road * d[:, 0]
        # Kerb face on the side the ray heads to (origin assumed above the road).
        wall_x = np.where(d[:, 0] >= 0, hw, -hw)
        t_kerb = (wall_x - o[0]) / d[:, 0]
        y_kerb = o[1] + t_kerb * dy
    if o[1] > kh and abs(o[0]) < hw:
        side = down & (np.abs(x_side) >= hw) & (t_side > 0)
        kerb = down & ~side & (t_kerb > 0) & (y_kerb >= 0) & (y_kerb <= kh)
        road = down & ~side & ~kerb & (np.abs(x_road) < hw)
    else:
        # Origin above the sidewalk level only: treat everything as the upper plane.
        side = down & (t_side > 0)
        kerb = road = np.zeros(n, dtype=bool)
    for mask, tt, pid in ((side, t_side, SIDEWALK_ID), (kerb, t_kerb, KERB_ID), (road, t_road, ROAD_ID)):
        mask &= tt < far
        t[mask] = tt[mask]
        prim[mask] = pid
    normal[side | road, 1] = 1.0
    normal[kerb, 0] = -np.sign(d[kerb, 0])
    return Hits(t, prim, normal)


def _box(p: np.ndarray, o: np.ndarray, d: np.ndarray, inv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slab test; returns entry range (inf on miss) and outward normal."""
    t1 = (p[:3] - o) * inv
    t2 = (p[3:] - o) * inv
    tl = np.minimum(t1, t2)
    th = np.maximum(t1, t2)
    axis = np.argmax(tl, axis=1)
    tmin = tl[np.arange(len(tl)), axis]
    tmax = th.min(axis=1)
    hit = (tmax >= tmin) & (tmin > _EPS)
    normal = np.zeros_like(d)
    normal[np.arange(len(d)), axis] = -np.sign(d[np.arange(len(d)), axis])
    return np.where(hit, tmin, np.inf), normal


def _cylinder(p: np.ndarray, o: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertical finite cylinder ``[cx, cz, r, y0, y1]`` with a top cap."""
    cx, cz, r, y0, y1 = p
    ox, oz = o[0] - cx, o[2] - cz
    dx, dz = d[:, 0], d[:, 2]
    a = dx * dx + dz * dz
    b = ox * dx + oz * dz
    c = ox * ox + oz * oz - r * r
    disc = b * b - a * c
    with np.errstate(divide="ignore", invalid="ignore"):
        ts = (-b - np.sqrt(np.maximum(disc, 0.0))) / a
        ys = o[1] + ts * d[:, 1]
        side = (disc >= 0) & (a > _EPS) & (ts > _EPS) & (ys >= y0) & (ys <= y1)
        tc = (y1 - o[1]) / d[:, 1]
        xc, zc = ox + tc * dx, oz + tc * dz
        cap = (o[1] > y1) & (tc > _EPS) & (xc * xc + zc * zc <= r * r)
    t = np.where(side, ts, np.where(cap, tc, np.inf))
    normal = np.zeros_like(d)
    px, pz = ox + ts * dx, oz + ts * dz
    normal[:, 0] = np.where(side, px / r, 0.0)
    normal[:, 2] = np.where(side, pz / r, 0.0)
    normal[:, 1] = np.where(side, 0.0, 1.0)
    return t, normal


def _ellipsoid(p: np.ndarray, o: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned ellipsoid ``[cx, cy, cz, rx, ry, rz]`` (solved in unit-sphere space)."""
    c, r = p[:3], p[3:]
    os_ = (o - c) / r
    ds = d / r
    a = np.einsum("ij,ij->i", ds, ds)
    b = ds @ os_
    cc = os_ @ os_ - 1.0
    disc = b * b - a * cc
    with np.errstate(invalid="ignore"):
        t = (-b - np.sqrt(np.maximum(disc, 0.0))) / a
    hit = (disc >= 0) & (t > _EPS)
    q = (o + t[:, None] * d - c) / (r * r)
    normal = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    return np.where(hit, t, np.inf), normal


def _tiles(shape: tuple[int, ...], tile: int) -> tuple[np.ndarray, np.ndarray]:
    """Permutation putting rays of a (H, W) grid into square tiles, and the tiles' start offsets."""
    if len(shape) != 2:
        n = int(np.prod(shape))
        return np.arange(n), np.array([0, n])
    h, w = shape
    rows, cols = np.divmod(np.arange(h * w), w)
    tile_id = (rows // tile) * ((w + tile - 1) // tile) + cols // tile
    order = np.argsort(tile_id, kind="stable")
    counts = np.bincount(tile_id)
    return order, np.concatenate([[0], np.cumsum(counts[counts > 0])])


def cast(scene: Scene, origin: np.ndarray, dirs: np.ndarray, far: float = 1000.0, tile: int = 24) -> Hits:
    """Cast rays ``origin + t * dirs`` (unit ``dirs``, shape (N, 3) or (H, W, 3)); nearest hit per ray.

    Ranges beyond ``far`` count as sky. For a ray grid (H, W, 3) the rays are
    grouped into square tiles, and a primitive is only tested against the rays
    of tiles whose bounding cone meets the primitive's bounding sphere; the
    result is flattened in row-major order either way.
    """
    o = np.asarray(origin, dtype=np.float64)
    grid = np.asarray(dirs, dtype=np.float64)
    order, starts = _tiles(grid.shape[:-1], tile)
    d = grid.reshape(-1, 3)[order]
    hits = _ground(scene, o, d, far)
    centres, radii = scene.bounding_spheres()
    oc = centres - o
    dist = np.linalg.norm(oc, axis=1)
    nb, nc = len(scene.boxes), len(scene.cylinders)
    with np.errstate(divide="ignore"):
        inv = 1.0 / d
    # Tile cones: axis and half-angle of each tile's rays.
    sums = np.add.reduceat(d, starts[:-1], axis=0)
    axes = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    tile_of_ray = np.repeat(np.arange(len(axes)), np.diff(starts))
    cos_ray = np.einsum("ij,ij->i", d, axes[tile_of_ray])
    half = np.arccos(np.clip(np.minimum.reduceat(cos_ray, starts[:-1]), -1.0, 1.0))
    inside = dist <= radii
    ang_r = np.where(inside, np.pi, np.arcsin(np.clip(radii / np.maximum(dist, 1e-9), 0.0, 1.0)))
    to_c = oc / np.maximum(dist, 1e-9)[:, None]
    ang = np.arccos(np.clip(axes @ to_c.T, -1.0, 1.0))  # (tiles, prims)
    overlap = ang <= half[:, None] + ang_r[None, :] + 1e-6
    ranges = [np.arange(a, b) for a, b in zip(starts[:-1], starts[1:])]
    for i in np.argsort(dist - radii):
        near = dist[i] - radii[i]
        if near > far:
            break
        tiles_i = np.flatnonzero(overlap[:, i])
        if tiles_i.size == 0:
            continue
        idx = np.concatenate([ranges[k] for k in tiles_i]) if tiles_i.size > 1 else ranges[tiles_i[0]]
        keep = hits.t[idx] > near
        if not inside[i]:
            keep &= d[idx] @ to_c[i] >= np.cos(ang_r[i])
        idx = idx[keep]
        if idx.size == 0:
            continue
        ds = d[idx]
        if i < nb:
            t, nrm = _box(scene.boxes[i], o, ds, inv[idx])
        elif i < nb + nc:
            t, nrm = _cylinder(scene.cylinders[i - nb], o, ds)
        else:
            t, nrm = _ellipsoid(scene.ellipsoids[i - nb - nc], o, ds)
        better = t < hits.t[idx]
        sel = idx[better]
        hits.t[sel] = t[better]
        hits.prim[sel] = i + GROUND_IDS
        hits.normal[sel] = nrm[better]
    inv_order = np.empty_like(order)
    inv_order[order] = np.arange(len(order))
    return Hits(hits.t[inv_order], hits.prim[inv_order], hits.normal[inv_order])
