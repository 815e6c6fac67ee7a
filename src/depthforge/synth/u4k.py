"""Write a synthetic set in the UnrealStereo4K layout read by PatchRefiner.

Per scene folder ``NNNNN``: ``Image0``/``Image1`` (left/right, PNG plus the
headerless uint8 BGR ``.raw`` dump), ``Disp0``/``Disp1`` (float32 disparity in
pixels, ``.npy``, 0 where the view sees sky) and ``Extrinsics0``/``Extrinsics1``
(``.txt``: line 0 = the 3x3 intrinsics row-major, so its first token is the
focal length; line 1 = the 3x4 world-to-camera ``[R|t]`` row-major, so token 3
is the x translation and the two files differ there by exactly the baseline).
Split files ``splits/{train,val,test,test_out}.txt`` list four root-relative
paths per line. The file formats are those of :mod:`depthforge.io.u4k`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from depthforge.io import (
    depth_to_disparity,
    write_disparity_npy,
    write_extrinsics,
    write_raw_image,
    write_rgb_png,
)
from depthforge.synth.camera import Camera, yaw_rotation
from depthforge.synth.drive import Drive
from depthforge.synth.render import PNG_COMPRESSION, render


@dataclass(frozen=True)
class U4KSynthInfo:
    """Root and counts of a written synthetic UnrealStereo4K set (``splits``: split name -> lines)."""

    root: Path
    scenes: tuple[str, ...]
    frames: int
    height: int
    width: int
    focal: float
    baseline: float
    splits: dict[str, int]


def _split_of(scene: int, n_scenes: int, frame: int) -> str:
    """Last scene is held out (``test_out``); other scenes share frames between train, val and test."""
    if n_scenes > 1 and scene == n_scenes - 1:
        return "test_out"
    return {1: "val", 2: "test"}.get(frame % 4, "train")


def scene_drive(seed: int, scene: int, frames: int) -> Drive:
    """The street and trajectory of one scene folder."""
    return Drive.create(int(np.random.SeedSequence([seed, scene, 0x4C]).generate_state(1)[0]), 4 * frames)


def left_camera(drive: Drive, seed: int, scene: int, frame: int, height: int, width: int) -> Camera:
    """Left camera (``Image0``) of one frame: 90 degree field of view, per-scene height, small pitch."""
    focal = width / 2.0
    height_m = float(np.random.default_rng(np.random.SeedSequence([seed, scene, 0x4D])).uniform(1.3, 2.6))
    pitch_rng = np.random.default_rng(np.random.SeedSequence([seed, scene, frame, 0x4E]))
    pitch = float(pitch_rng.uniform(-0.03, 0.06))
    pos, yaw = drive.trajectory.pose(4 * frame)
    pos = pos.copy()
    pos[1] = height_m
    return Camera(focal, focal, width / 2.0, height / 2.0, width, height, pos, yaw_rotation(yaw, pitch))


def write_u4k(out: Path, scenes: int = 3, frames: int = 4, height: int = 216, width: int = 384, seed: int = 0,
              baseline: float = 0.2, progress: bool = True) -> U4KSynthInfo:
    """Render ``scenes`` x ``frames`` stereo pairs at ``height`` x ``width`` (real U4K: 2160x3840)."""
    if scenes < 1 or frames < 1 or height < 8 or width < 8:
        raise ValueError("scenes and frames must be >= 1, height and width >= 8")
    out = Path(out)
    focal = width / 2.0  # 90 degree horizontal field of view
    k = np.array([[focal, 0.0, width / 2.0], [0.0, focal, height / 2.0], [0.0, 0.0, 1.0]])
    lines: dict[str, list[str]] = {"train": [], "val": [], "test": [], "test_out": []}
    names = []
    bar = tqdm(total=scenes * frames, desc="synth u4k", unit="frame", disable=not progress)
    for s in range(scenes):
        name = f"{s:05d}"
        names.append(name)
        drive = scene_drive(seed, s, frames)
        rng = np.random.default_rng(np.random.SeedSequence([seed, s, 0x4F]))
        for f in range(frames):
            left = left_camera(drive, seed, s, f, height, width)
            stem = f"{f:05d}"
            for view, cam in ((0, left), (1, left.shifted(baseline))):
                r = render(drive.scene, cam, noise_seed=int(rng.integers(2**31)))
                write_rgb_png(out / name / f"Image{view}" / f"{stem}.png", r["image"], PNG_COMPRESSION)
                write_raw_image(out / name / f"Image{view}" / f"{stem}.raw", r["image"])
                disp = depth_to_disparity(r["depth"], focal * baseline).astype(np.float32)  # sky -> 0
                write_disparity_npy(out / name / f"Disp{view}" / f"{stem}.npy", disp)
                # World-to-camera extrinsics: t = -R^T C, so t_x of the two views differs by the baseline.
                w2c = np.concatenate([cam.rotation.T, (-cam.rotation.T @ cam.position)[:, None]], axis=1)
                write_extrinsics(out / name / f"Extrinsics{view}" / f"{stem}.txt", k, w2c)
            lines[_split_of(s, scenes, f)].append(
                f"{name}/Image0/{stem}.png {name}/Image1/{stem}.png "
                f"{name}/Disp0/{stem}.npy {name}/Disp1/{stem}.npy")
            bar.update(1)
    bar.close()
    (out / "splits").mkdir(parents=True, exist_ok=True)
    for split, rows in lines.items():
        (out / "splits" / f"{split}.txt").write_text("".join(r + "\n" for r in rows))
    return U4KSynthInfo(out, tuple(names), frames, height, width, focal, baseline,
                        {k_: len(v) for k_, v in lines.items()})
