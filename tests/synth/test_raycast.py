"""Exactness of the ray caster against closed-form geometry."""

from __future__ import annotations

import numpy as np

from depthforge.synth import palette
from depthforge.synth.camera import KITTI_CY, KITTI_FY, kitti_camera
from depthforge.synth.raycast import cast
from depthforge.synth.render import render
from depthforge.synth.scene import TEX_PLAIN, Scene


def _scene(boxes=(), cylinders=(), ellipsoids=(), classes=()) -> Scene:
    n = len(boxes) + len(cylinders) + len(ellipsoids)
    return Scene(
        road_half_width=100.0, kerb_height=0.15, sidewalk_width=3.0,
        boxes=np.array(boxes, dtype=float).reshape(-1, 6),
        cylinders=np.array(cylinders, dtype=float).reshape(-1, 5),
        ellipsoids=np.array(ellipsoids, dtype=float).reshape(-1, 6),
        prim_class=np.array(classes, dtype=np.uint8).reshape(n),
        prim_albedo=np.full((n, 3), 0.5, dtype=np.float32),
        prim_tex=np.full(n, TEX_PLAIN, dtype=np.int8),
    )


def test_flat_road_depth_is_closed_form() -> None:
    cam = kitti_camera(np.array([0.0, 1.65, 0.0]), yaw=0.0)
    out = render(_scene(), cam, noise_seed=None)
    rows = np.arange(cam.height)
    below = rows > KITTI_CY + 2  # nearer rows than the 1 km far limit
    expected = KITTI_FY * 1.65 / (rows[below] - KITTI_CY)
    np.testing.assert_allclose(out["depth"][below, 600], expected, rtol=1e-5)
    assert np.isinf(out["depth"][rows < KITTI_CY - 1]).all()
    assert (out["semantic"][rows < KITTI_CY - 1] == palette.SKY).all()
    assert (out["semantic"][below, 600] == palette.ROAD).all()


def test_wall_box_depth_is_constant_and_normal_faces_camera() -> None:
    wall = [-50.0, 0.0, 20.0, 50.0, 40.0, 21.0]
    cam = kitti_camera(np.array([0.0, 1.65, 0.0]), yaw=0.0)
    out = render(_scene(boxes=[wall], classes=[palette.BUILDING]), cam, noise_seed=None)
    # Above the row where the road reaches 20 m the wall hides road and sky; below it the road is nearer.
    v_wall = int(KITTI_CY + KITTI_FY * 1.65 / 20.0)
    assert np.allclose(out["depth"][:v_wall], 20.0, atol=1e-4)
    assert (out["semantic"][:v_wall] == palette.BUILDING).all()
    assert (out["depth"][v_wall + 2:] < 20.0).all()
    np.testing.assert_allclose(out["normals"][100, 600], [0.0, 0.0, -1.0], atol=1e-6)


def test_sphere_and_cylinder_ranges() -> None:
    origin = np.array([0.0, 1.0, 0.0])
    scene = _scene(cylinders=[[0.0, 10.0, 0.5, 0.0, 5.0]], ellipsoids=[[3.0, 1.0, 10.0, 1.0, 1.0, 1.0]],
                   classes=[palette.POLE, palette.VEGETATION])
    dirs = np.array([[0.0, 0.0, 1.0], [0.3, 0.0, 1.0]])
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    hits = cast(scene, origin, dirs)
    assert abs(hits.t[0] - 9.5) < 1e-9  # cylinder surface at z = 10 - r
    # Ray towards the sphere centre (3, 1, 10): first hit at |c| - r.
    assert abs(hits.t[1] - (np.hypot(3.0, 10.0) - 1.0)) < 1e-9


def test_tiled_and_flat_casts_agree() -> None:
    from depthforge.synth.scene import make_street

    scene = make_street(5)
    cam = kitti_camera(np.array([2.0, 1.65, 10.0]), yaw=0.05)
    d = cam.ray_dirs_cam()[::7]
    d = (d / np.linalg.norm(d, axis=1, keepdims=True)) @ cam.rotation.T
    flat = cast(scene, cam.position, d)
    grid = cast(scene, cam.position, d[: (len(d) // 50) * 50].reshape(-1, 50, 3), tile=8)
    np.testing.assert_array_equal(flat.t[: len(grid.t)], grid.t)
    np.testing.assert_array_equal(flat.prim[: len(grid.t)], grid.prim)
