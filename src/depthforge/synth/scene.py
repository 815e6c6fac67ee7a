"""Procedural street scenes made of analytic primitives.

World frame: X to the right of the road, Y up, Z along the road (forward). The
ground is a step height field: the road ``|x| <= road_half_width`` at y = 0, and
a sidewalk / terrain plane at y = ``kerb_height`` everywhere else, joined by
vertical kerb faces. Objects are axis-aligned boxes, vertical cylinders and
axis-aligned ellipsoids; every primitive carries a class id, an albedo and a
texture kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from depthforge.synth import palette

# Texture kinds used by the shader.
TEX_PLAIN = 0
TEX_FACADE = 1
TEX_CAR = 2
TEX_FOLIAGE = 3
TEX_BARK = 4


@dataclass
class Primitives:
    """Growing lists of one primitive type plus per-primitive material."""

    params: list[np.ndarray] = field(default_factory=list)
    cls: list[int] = field(default_factory=list)
    albedo: list[tuple[float, float, float]] = field(default_factory=list)
    tex: list[int] = field(default_factory=list)

    def add(self, params: np.ndarray, cls: int, albedo: tuple[float, float, float], tex: int) -> None:
        self.params.append(np.asarray(params, dtype=np.float64))
        self.cls.append(cls)
        self.albedo.append(albedo)
        self.tex.append(tex)


@dataclass(frozen=True)
class Scene:
    """A static street scene.

    ``boxes`` is (B, 6) ``[x0, y0, z0, x1, y1, z1]``; ``cylinders`` is (C, 5)
    ``[cx, cz, radius, y0, y1]`` (vertical); ``ellipsoids`` is (E, 6)
    ``[cx, cy, cz, rx, ry, rz]``. Primitive ids run over boxes, then cylinders,
    then ellipsoids; ``prim_class``/``prim_albedo``/``prim_tex`` are indexed by
    that id.
    """

    road_half_width: float
    kerb_height: float
    sidewalk_width: float
    boxes: np.ndarray
    cylinders: np.ndarray
    ellipsoids: np.ndarray
    prim_class: np.ndarray
    prim_albedo: np.ndarray
    prim_tex: np.ndarray
    seed: int = 0

    @property
    def n_prims(self) -> int:
        """Total number of primitives."""
        return len(self.boxes) + len(self.cylinders) + len(self.ellipsoids)

    def bounding_spheres(self) -> tuple[np.ndarray, np.ndarray]:
        """Centres (P, 3) and radii (P,) of spheres enclosing every primitive, in id order."""
        b = self.boxes
        bc = (b[:, :3] + b[:, 3:]) / 2
        br = np.linalg.norm(b[:, 3:] - b[:, :3], axis=1) / 2
        c = self.cylinders
        cc = np.stack([c[:, 0], (c[:, 3] + c[:, 4]) / 2, c[:, 1]], axis=1)
        cr = np.hypot(c[:, 2], (c[:, 4] - c[:, 3]) / 2)
        e = self.ellipsoids
        return (
            np.concatenate([bc, cc, e[:, :3]]).reshape(-1, 3),
            np.concatenate([br, cr, e[:, 3:].max(axis=1)]),
        )


_FACADE_COLOURS = [(0.62, 0.55, 0.47), (0.72, 0.68, 0.6), (0.55, 0.35, 0.28), (0.8, 0.78, 0.72),
                   (0.45, 0.47, 0.5), (0.75, 0.62, 0.45), (0.6, 0.62, 0.58)]
_CAR_COLOURS = [(0.75, 0.05, 0.05), (0.1, 0.15, 0.45), (0.85, 0.85, 0.85), (0.08, 0.08, 0.08),
                (0.5, 0.52, 0.55), (0.1, 0.35, 0.15), (0.9, 0.75, 0.2)]


def _stack(p: Primitives, width: int) -> np.ndarray:
    return np.array(p.params, dtype=np.float64).reshape(-1, width)


def _buildings(
    rng: np.random.Generator, out: Primitives, side: int, x_in: float, z0: float, z1: float
) -> None:
    """Fill one side of the street with facades at varying setbacks."""
    z = z0
    while z < z1:
        if rng.random() < 0.3:  # gap between buildings
            z += rng.uniform(2.0, 8.0)
        length = rng.uniform(8.0, 26.0)
        setback = x_in + rng.uniform(0.0, 6.0)
        depth = rng.uniform(8.0, 16.0)
        height = rng.uniform(6.0, 24.0)
        x_a, x_b = sorted((side * setback, side * (setback + depth)))
        colour = _FACADE_COLOURS[rng.integers(len(_FACADE_COLOURS))]
        out.add(np.array([x_a, 0.0, z, x_b, height, z + length]), palette.BUILDING, colour, TEX_FACADE)
        z += length


def _car(rng: np.random.Generator, out: Primitives, x: float, z: float) -> None:
    """A car as a body box plus a cabin box, aligned with the road."""
    length, width = rng.uniform(3.8, 4.8), rng.uniform(1.65, 1.9)
    colour = _CAR_COLOURS[rng.integers(len(_CAR_COLOURS))]
    out.add(np.array([x - width / 2, 0.3, z, x + width / 2, 1.0, z + length]), palette.CAR, colour, TEX_PLAIN)
    cab = rng.uniform(0.45, 0.6) * length
    cz = z + rng.uniform(0.2, 0.35) * length
    out.add(np.array([x - width / 2 + 0.08, 1.0, cz, x + width / 2 - 0.08, rng.uniform(1.4, 1.55), cz + cab]),
            palette.CAR, colour, TEX_CAR)


def make_street(seed: int, z_start: float = -30.0, z_end: float = 250.0) -> Scene:
    """Generate a deterministic street scene covering ``z_start <= z <= z_end``."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5CE7E]))
    hw = float(rng.uniform(5.5, 7.0))
    kerb = float(rng.uniform(0.12, 0.18))
    sw = float(rng.uniform(2.5, 4.0))
    boxes, cyls, ells = Primitives(), Primitives(), Primitives()
    for side in (-1, 1):
        _buildings(rng, boxes, side, hw + sw + rng.uniform(0.0, 3.0), z_start, z_end)
        # Parked cars in the kerb-side lane, never in the driving lanes.
        z = z_start + rng.uniform(0.0, 10.0)
        while z < z_end:
            if rng.random() < 0.55:
                _car(rng, boxes, side * (hw - 1.05), z)
            z += rng.uniform(5.5, 12.0)
        # Poles near the kerb, some with a traffic sign.
        z = z_start + rng.uniform(0.0, 15.0)
        while z < z_end:
            x = side * (hw + rng.uniform(0.35, 0.7))
            top = rng.uniform(4.5, 8.0)
            pole = np.array([x, z, rng.uniform(0.06, 0.12), 0.0, top])
            cyls.add(pole, palette.POLE, (0.55, 0.56, 0.58), TEX_PLAIN)
            if rng.random() < 0.4:
                y = rng.uniform(2.2, 3.0)
                sign = np.array([x - 0.35, y, z - 0.05, x + 0.35, y + 0.6, z - 0.03])
                boxes.add(sign, palette.TRAFFIC_SIGN,
                          (0.85, 0.75, 0.1), TEX_PLAIN)
            z += rng.uniform(14.0, 30.0)
        # Trees at the outer edge of the sidewalk: trunk plus ellipsoid crown.
        z = z_start + rng.uniform(0.0, 8.0)
        while z < z_end:
            if rng.random() < 0.6:
                x = side * (hw + sw - rng.uniform(0.6, 1.0))
                trunk = rng.uniform(2.2, 3.5)
                cyls.add(np.array([x, z, rng.uniform(0.12, 0.22), 0.0, trunk + 0.8]), palette.VEGETATION,
                         (0.33, 0.24, 0.16), TEX_BARK)
                r = rng.uniform(1.3, 2.6, size=3)
                r[1] *= rng.uniform(1.0, 1.4)
                green = (0.2 + rng.uniform(-0.05, 0.05), 0.38 + rng.uniform(-0.08, 0.08), 0.12)
                ells.add(np.array([x, trunk + r[1] * 0.8, z, *r]), palette.VEGETATION, green, TEX_FOLIAGE)
            z += rng.uniform(7.0, 18.0)
    # A few oncoming cars in the opposite lane (static).
    z = z_start + rng.uniform(10.0, 40.0)
    while z < z_end:
        _car(rng, boxes, -hw * rng.uniform(0.45, 0.55), z)
        z += rng.uniform(25.0, 70.0)
    every = [boxes, cyls, ells]
    return Scene(
        road_half_width=hw,
        kerb_height=kerb,
        sidewalk_width=sw,
        boxes=_stack(boxes, 6),
        cylinders=_stack(cyls, 5),
        ellipsoids=_stack(ells, 6),
        prim_class=np.array([c for p in every for c in p.cls], dtype=np.uint8),
        prim_albedo=np.array([a for p in every for a in p.albedo], dtype=np.float32).reshape(-1, 3),
        prim_tex=np.array([t for p in every for t in p.tex], dtype=np.int8),
        seed=seed,
    )
