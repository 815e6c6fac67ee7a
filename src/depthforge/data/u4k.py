"""UnrealStereo4K: folder layout, split files, the per-frame depth factor and the ground-truth listing.

Layout (``root``; file formats in :mod:`depthforge.io.u4k`)::

    root/<scene>/Image0/<frame>.png   (and .raw)   left image
    root/<scene>/Image1/<frame>.png   (and .raw)   right image
    root/<scene>/Disp0/<frame>.npy                 left disparity (pixels)
    root/<scene>/Disp1/<frame>.npy                 right disparity
    root/<scene>/Extrinsics0/<frame>.txt           left camera (focal length, pose)
    root/<scene>/Extrinsics1/<frame>.txt           right camera
    root/splits/{train,val,test,test_out}.txt      4 root-relative paths per line:
                                                   Image0 Image1 Disp0 Disp1

A sample is one left frame. Its scene and frame come from its ``Disp0`` path; the extrinsics are found
beside it (``<scene>/Extrinsics{0,1}/<frame>.txt``). Depth of the left view is ``factor / disparity``
with factor = focal length of ``Extrinsics0`` x |t_x of ``Extrinsics0`` - t_x of ``Extrinsics1``|.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from depthforge.data.samples import GTSample
from depthforge.errors import DataError
from depthforge.io import PathLike, disparity_to_depth, read_disparity_npy, read_extrinsics

SPLITS = ("train", "val", "test", "test_out")


@dataclass(frozen=True)
class U4KSample:
    """One left frame and the files that belong to it."""

    scene: str
    frame: str
    image0: Path
    image1: Path
    disp0: Path
    disp1: Path

    @property
    def name(self) -> str:
        """``<scene>_Image0_<frame>``: the stem a prediction for this frame carries."""
        return f"{self.scene}_Image0_{self.frame}"

    def extrinsics(self, view: int) -> Path:
        """The ``Extrinsics`` file of view 0 (left) or 1 (right)."""
        return self.disp0.parent.parent / f"Extrinsics{view}" / f"{self.frame}.txt"


def sample_of(disp0: Path, image0: Path | None = None, image1: Path | None = None,
              disp1: Path | None = None) -> U4KSample:
    """The sample of a ``Disp0`` file; files not given are derived from the scene folder."""
    scene_dir, frame = disp0.parent.parent, disp0.stem
    return U4KSample(
        scene=scene_dir.name,
        frame=frame,
        image0=image0 or scene_dir / "Image0" / f"{frame}.png",
        image1=image1 or scene_dir / "Image1" / f"{frame}.png",
        disp0=disp0,
        disp1=disp1 or scene_dir / "Disp1" / f"{frame}.npy",
    )


def split_file(root: PathLike, split: str) -> Path:
    """``root/splits/<split>.txt`` for a split name of :data:`SPLITS`."""
    if split not in SPLITS:
        raise DataError(None, f"unknown UnrealStereo4K split '{split}' (expected one of {', '.join(SPLITS)})")
    return Path(root) / "splits" / f"{split}.txt"


def read_split(root: PathLike, path: PathLike) -> list[U4KSample]:
    """The samples a split file lists, sorted by their ``Disp0`` path (files are not checked here)."""
    r, p = Path(root), Path(path)
    try:
        lines = p.read_text().splitlines()
    except FileNotFoundError:
        raise DataError(p, "split file not found") from None
    except OSError as exc:
        raise DataError(p, f"cannot read split file ({exc.strerror or exc})") from None
    samples = []
    for number, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4:
            raise DataError(p, f"line {number} has {len(parts)} paths, expected 4 (Image0 Image1 Disp0 Disp1)")
        image0, image1, disp0, disp1 = (r / part for part in parts)
        samples.append(sample_of(disp0, image0, image1, disp1))
    if not samples:
        raise DataError(p, "split file lists no samples")
    return sorted(samples, key=lambda s: s.disp0)


def scan_u4k(root: PathLike) -> list[U4KSample]:
    """Every ``<scene>/Disp0/*.npy`` under ``root``, sorted by path."""
    r = Path(root)
    disps = sorted(r.glob("*/Disp0/*.npy"))
    if not disps:
        raise DataError(r, "no UnrealStereo4K disparity files matching '*/Disp0/*.npy'")
    return [sample_of(d) for d in disps]


def stereo_factor(sample: U4KSample) -> float:
    """focal x baseline of a frame's left view, from its two ``Extrinsics`` files."""
    left, right = read_extrinsics(sample.extrinsics(0)), read_extrinsics(sample.extrinsics(1))
    return left.focal * abs(left.tx - right.tx)


def u4k_gt(root: PathLike, split: PathLike | None = None) -> Iterator[GTSample]:
    """Ground truth for ``depthforge eval``: left-view depth of every sample (of the split file, if given).

    The SEE boundary extra is ``get_boundaries(disparity, th=1)``. Accepted prediction stems:
    ``<scene>_Image0_<frame>``, and the same with its first character dropped (the reference's names).
    """
    from depthforge.metrics.mono import get_boundaries  # metrics are only needed when scoring

    samples = scan_u4k(root) if split is None else read_split(root, split)
    for s in samples:
        if not s.disp0.is_file():
            raise DataError(s.disp0, "disparity file listed in the split does not exist")
        disp = read_disparity_npy(s.disp0)
        depth = disparity_to_depth(disp, stereo_factor(s))  # disparity 0 -> inf, excluded by the range mask
        yield GTSample(s.disp0, [s.name, s.name[1:]], depth, {"boundary": get_boundaries(disp, th=1.0)})
