"""Write a synthetic set in the CityScapes layout read by PatchRefiner.

``leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png``, with the
same stem under ``disparity`` (uint16, d = (p - 1) / 256, 0 = invalid; the
formats are those of :mod:`depthforge.io.cityscapes`),
``camera`` (json with ``extrinsic.baseline`` and ``intrinsic.fx``), ``gtFine``
(``_gtFine_color.png`` in the CityScapes palette and ``_gtFine_labelIds.png``)
and ``skyArea`` (``_skyArea.png``, 255 on sky); split files ``train.txt`` and
``val.txt`` at the root list "image disparity" path pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from depthforge.io import depth_to_disparity, write_camera, write_disparity_png, write_rgb_png, write_u8_png
from depthforge.synth import palette
from depthforge.synth.camera import Camera, yaw_rotation
from depthforge.synth.drive import Drive
from depthforge.synth.render import PNG_COMPRESSION, render

TRAIN_CITIES = ("aachen", "bochum", "bremen", "cologne", "darmstadt", "dusseldorf", "erfurt", "hamburg",
                "hanover", "jena", "krefeld", "monchengladbach", "strasbourg", "stuttgart", "tubingen", "ulm",
                "weimar", "zurich")
VAL_CITIES = ("frankfurt", "lindau", "munster")
# Reference camera of CityScapes at 2048x1024; intrinsics scale with the image size.
CS_BASELINE = 0.209313
CS_FX, CS_FY, CS_U0, CS_V0 = 2262.52, 2265.3017905988554, 1096.98, 513.137
CS_HEIGHT_M, CS_PITCH = 1.22, 0.038


@dataclass(frozen=True)
class CityscapesSynthInfo:
    """Root, cities and per-split image counts of a written synthetic CityScapes set."""

    root: Path
    train_cities: tuple[str, ...]
    val_cities: tuple[str, ...]
    counts: dict[str, int]
    fx: float
    baseline: float


def city_drive(seed: int, city_index: int, frames: int) -> Drive:
    """Street and trajectory of one city (train cities use index i, val cities 100 + i)."""
    city_seed = int(np.random.SeedSequence([seed, city_index, 0xC5]).generate_state(1)[0])
    return Drive.create(city_seed, 6 * frames)


def city_camera(drive: Drive, frame: int, height: int, width: int) -> Camera:
    """The CityScapes-like left camera (scaled intrinsics, 1.22 m high, pitched down) at ``frame``."""
    sx, sy = width / 2048.0, height / 1024.0
    pos, yaw = drive.trajectory.pose(6 * frame)
    pos = pos.copy()
    pos[1] = CS_HEIGHT_M
    rot = yaw_rotation(yaw, CS_PITCH)
    return Camera(CS_FX * sx, CS_FY * sy, CS_U0 * sx, CS_V0 * sy, width, height, pos, rot)


def write_cityscapes(out: Path, cities: int = 2, frames: int = 3, height: int = 256, width: int = 512,
                     seed: int = 0, val_cities: int = 1, progress: bool = True) -> CityscapesSynthInfo:
    """Render ``frames`` images for each of ``cities`` train cities and ``val_cities`` val cities."""
    if not 0 <= cities <= len(TRAIN_CITIES) or not 0 <= val_cities <= len(VAL_CITIES) or frames < 1:
        raise ValueError(
            f"cities in [0, {len(TRAIN_CITIES)}], val_cities in [0, {len(VAL_CITIES)}], frames >= 1"
        )
    out = Path(out)
    sx, sy = width / 2048.0, height / 1024.0
    fx, fy, u0, v0 = CS_FX * sx, CS_FY * sy, CS_U0 * sx, CS_V0 * sy
    camera_json = {
        "extrinsic": {"baseline": CS_BASELINE, "pitch": CS_PITCH, "roll": 0.0, "x": 1.7, "y": 0.1, "yaw": 0.0,
                      "z": CS_HEIGHT_M},
        "intrinsic": {"fx": fx, "fy": fy, "u0": u0, "v0": v0},
    }
    jobs = [("train", c, i) for i, c in enumerate(TRAIN_CITIES[:cities])]
    jobs += [("val", c, 100 + i) for i, c in enumerate(VAL_CITIES[:val_cities])]
    lines: dict[str, list[str]] = {"train": [], "val": []}
    bar = tqdm(total=len(jobs) * frames, desc="synth cityscapes", unit="frame", disable=not progress)
    for split, city, idx in jobs:
        drive = city_drive(seed, idx, frames)
        for f in range(frames):
            cam = city_camera(drive, f, height, width)
            noise = int(np.random.SeedSequence([seed, idx, f]).generate_state(1)[0])
            r = render(drive.scene, cam, noise_seed=noise)
            stem = f"{city}_{f:06d}_000019"
            rel = f"{split}/{city}/{stem}"
            write_rgb_png(out / "leftImg8bit" / f"{rel}_leftImg8bit.png", r["image"], PNG_COMPRESSION)
            disp = depth_to_disparity(r["depth"], fx * CS_BASELINE)  # sky (inf) -> 0 = invalid
            write_disparity_png(out / "disparity" / f"{rel}_disparity.png", disp, PNG_COMPRESSION)
            write_camera(out / "camera" / f"{rel}_camera.json", camera_json)
            write_rgb_png(out / "gtFine" / f"{rel}_gtFine_color.png", palette.colorize(r["semantic"]),
                          PNG_COMPRESSION)
            write_u8_png(out / "gtFine" / f"{rel}_gtFine_labelIds.png", r["semantic"], PNG_COMPRESSION)
            write_u8_png(out / "skyArea" / f"{rel}_skyArea.png",
                         np.where(r["semantic"] == palette.SKY, 255, 0).astype(np.uint8), PNG_COMPRESSION)
            lines[split].append(f"leftImg8bit/{rel}_leftImg8bit.png disparity/{rel}_disparity.png")
            bar.update(1)
    bar.close()
    out.mkdir(parents=True, exist_ok=True)
    for split, rows in lines.items():
        (out / f"{split}.txt").write_text("".join(r + "\n" for r in sorted(rows)))
    return CityscapesSynthInfo(out, TRAIN_CITIES[:cities], VAL_CITIES[:val_cities],
                               {k: len(v) for k, v in lines.items()}, fx, CS_BASELINE)
