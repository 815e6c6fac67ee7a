"""Ground-truth readers for ``depthforge eval``: KITTI, plain folders, UnrealStereo4K and CityScapes.

Each reader yields :class:`GTSample` objects: the GT depth in metres, the file it came from, the
prediction stems it accepts, and protocol extras (SEE boundary, colour segmentation, RGB image).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from depthforge.errors import DataError
from depthforge.metrics.io import DEPTH_SUFFIXES, read_depth, read_png16
from depthforge.metrics.mono import get_boundaries


@dataclass
class GTSample:
    """One GT item. ``names`` are the prediction file stems accepted for it, most specific first."""

    path: Path
    names: list[str]
    depth: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)


def _list(root: Path, pattern: str, what: str) -> list[Path]:
    if not root.is_dir():
        raise DataError(root, f"{what} folder does not exist")
    files = sorted(root.glob(pattern))
    if not files:
        raise DataError(root, f"no {what} files matching {pattern!r}")
    return files


def kitti_gt(root: str | Path) -> Iterator[GTSample]:
    """KITTI 16-bit GT PNGs (e.g. ``val_selection_cropped/groundtruth_depth``), sorted by name.

    A prediction may carry the GT name or the name with ``groundtruth_depth`` replaced by ``image``
    (the matching RGB frame of ``val_selection_cropped``).
    """
    for f in _list(Path(root), "*.png", "KITTI ground-truth"):
        names = [f.stem]
        if "groundtruth_depth" in f.stem:
            names.append(f.stem.replace("groundtruth_depth", "image"))
        yield GTSample(f, names, read_png16(f))


def folder_gt(root: str | Path) -> Iterator[GTSample]:
    """Any folder of depth files (.png 16-bit /256, .npy, .pfm) in metres, matched by stem."""
    files = [f for f in _list(Path(root), "*", "ground-truth") if f.suffix.lower() in DEPTH_SUFFIXES]
    if not files:
        raise DataError(root, f"no depth files ({', '.join(DEPTH_SUFFIXES)})")
    for f in files:
        yield GTSample(f, [f.stem], read_depth(f))


def _u4k_factor(ext0: Path, ext1: Path) -> float:
    """focal * baseline from the two Extrinsics files (focal: line 0 token 0; x-translation: line 1 token 3)."""
    try:
        l0 = ext0.read_text().splitlines()
        l1 = ext1.read_text().splitlines()
        focal = float(l0[0].split()[0])
        baseline = abs(float(l0[1].split()[3]) - float(l1[1].split()[3]))
    except (OSError, IndexError, ValueError) as exc:
        raise DataError(ext0, f"cannot read focal length and baseline ({exc})") from None
    return focal * baseline


def u4k_gt(root: str | Path, split: str | Path | None = None) -> Iterator[GTSample]:
    """UnrealStereo4K: ``SCENE/Disp0/NNNNN.npy`` disparity, depth = focal * baseline / disparity.

    ``split`` is an optional split file (4 paths per line; the third is the Disp0 file). The SEE boundary
    is ``get_boundaries(disparity, th=1)``. Accepted prediction stems: ``SCENE_Image0_NNNNN`` (and the
    reference's basename with its first character dropped).
    """
    r = Path(root)
    if split is not None:
        lines = [ln.split() for ln in Path(split).read_text().splitlines() if ln.strip()]
        disps = sorted(r / parts[2] for parts in lines)
    else:
        disps = sorted(r.glob("*/Disp0/*.npy"))
        if not disps:
            raise DataError(r, "no UnrealStereo4K disparity files matching '*/Disp0/*.npy'")
    for d in disps:
        scene, idx = d.parent.parent.name, d.stem
        if not d.is_file():
            raise DataError(d, "disparity file listed in the split does not exist")
        disp = np.load(d, mmap_mode="c").astype(np.float32)
        factor = _u4k_factor(d.parent.parent / "Extrinsics0" / f"{idx}.txt",
                             d.parent.parent / "Extrinsics1" / f"{idx}.txt")
        with np.errstate(divide="ignore"):
            depth = (factor / disp).astype(np.float32)  # disparity 0 -> inf, excluded by the range mask
        name = f"{scene}_Image0_{idx}"
        yield GTSample(d, [name, name[1:]], depth, {"boundary": get_boundaries(disp, th=1.0)})


def cityscapes_gt(root: str | Path, subset: str = "val") -> Iterator[GTSample]:
    """CityScapes: ``disparity/<subset>/<city>/*_disparity.png`` with camera JSON, gtFine colours and RGB.

    Depth = baseline * fx / ((p - 1) / 256) for p > 0, else 0; sky (gtFine colour R=70, G=130) -> 0;
    bottom quarter rows and W/16 side bands -> -1, like PatchRefiner's loader in inference mode.
    """
    r = Path(root)
    for f in _list(r / "disparity" / subset, "*/*_disparity.png", "CityScapes disparity"):
        rel = f.relative_to(r)
        img_rel = Path(str(rel).replace("disparity", "leftImg8bit"))
        cam = r / str(img_rel).replace("leftImg8bit", "camera").replace(".png", ".json")
        seg_path = r / str(rel).replace("disparity", "gtFine").replace(".png", "_color.png")
        try:
            info = json.loads(cam.read_text())
            factor = float(info["extrinsic"]["baseline"]) * float(info["intrinsic"]["fx"])
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(cam, f"cannot read baseline and fx ({exc})") from None
        raw = cv2.imread(str(f), cv2.IMREAD_UNCHANGED)
        if raw is None or raw.dtype != np.uint16:
            raise DataError(f, "expected a 16-bit disparity PNG")
        disp = raw.astype(np.float32)
        disp[disp > 0] = (disp[disp > 0] - 1) / 256
        with np.errstate(divide="ignore", invalid="ignore"):
            depth = np.nan_to_num(factor / disp, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
        h, w = depth.shape
        depth[-h // 4:, :] = -1.0
        depth[:, : w // 16] = -1.0
        depth[:, -(w // 16):] = -1.0
        extras: dict[str, np.ndarray] = {}
        for key, path in (("seg_color", seg_path), ("image", r / img_rel)):
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if bgr is None:
                raise DataError(path, f"cannot read the CityScapes {key} image")
            extras[key] = bgr[:, :, ::-1].copy()
        seg = extras["seg_color"]
        depth[(seg[:, :, 0] == 70) & (seg[:, :, 1] == 130)] = 0.0  # sky rule applied last, as the loader does
        extras["boundary"] = get_boundaries(depth, th=1.0)
        img_stem = img_rel.with_suffix("")
        yield GTSample(f, [str(img_stem).replace("/", "_"), img_stem.name, img_stem.name.replace("_leftImg8bit", "")],
                       depth, extras)
