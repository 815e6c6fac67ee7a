"""CityScapes: folder layout, pairing by path, and the ground-truth listing for evaluation.

Layout (``root``; file formats in :mod:`depthforge.io.cityscapes`)::

    root/leftImg8bit/<subset>/<city>/<stem>_leftImg8bit.png     RGB image
    root/disparity/<subset>/<city>/<stem>_disparity.png         16-bit disparity
    root/camera/<subset>/<city>/<stem>_camera.json              baseline and fx
    root/gtFine/<subset>/<city>/<stem>_gtFine_color.png         semantic colours

A sample is one disparity file; every other path is derived from its root-relative path by replacing
the folder and suffix words (``disparity`` -> ``leftImg8bit``, then ``leftImg8bit`` -> ``camera`` and
``.png`` -> ``.json``; ``disparity`` -> ``gtFine`` and ``.png`` -> ``_color.png``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from depthforge.data.samples import GTSample, list_files
from depthforge.io import PathLike, camera_factor, disparity_to_depth, read_disparity_png, read_rgb

SKY_RG = (70, 130)  # red and green of the sky colour (70, 130, 180) in gtFine colour maps


@dataclass(frozen=True)
class CityscapesSample:
    """One image and its sibling files; ``image_rel`` is the image path relative to the root."""

    disparity: Path
    image: Path
    camera: Path
    seg_color: Path
    image_rel: Path

    @property
    def names(self) -> list[str]:
        """Accepted prediction stems, most specific first: the root-relative image path without suffix and
        with ``/`` as ``_`` (``leftImg8bit_<subset>_<city>_<stem>_leftImg8bit``), ``<stem>_leftImg8bit``
        and ``<stem>``."""
        stem = self.image_rel.with_suffix("")
        return [str(stem).replace("/", "_"), stem.name, stem.name.replace("_leftImg8bit", "")]


def sample_of(root: PathLike, disparity: Path) -> CityscapesSample:
    """The sample of a disparity file under ``root``: sibling paths derived from its relative path."""
    r = Path(root)
    rel = disparity.relative_to(r)
    image_rel = Path(str(rel).replace("disparity", "leftImg8bit"))
    return CityscapesSample(
        disparity=disparity,
        image=r / image_rel,
        camera=r / str(image_rel).replace("leftImg8bit", "camera").replace(".png", ".json"),
        seg_color=r / str(rel).replace("disparity", "gtFine").replace(".png", "_color.png"),
        image_rel=image_rel,
    )


def scan_cityscapes(root: PathLike, subset: str = "val") -> list[CityscapesSample]:
    """Every ``disparity/<subset>/<city>/*_disparity.png``, sorted by path."""
    r = Path(root)
    return [sample_of(r, f) for f in list_files(r / "disparity" / subset, "*/*_disparity.png", "CityScapes disparity")]


def cityscapes_gt(root: PathLike, subset: str = "val") -> Iterator[GTSample]:
    """Ground truth for ``depthforge eval`` as PatchRefiner's CityScapes loader prepares it for inference.

    Depth = baseline * fx / disparity (0 where the disparity PNG holds 0 or 1); then the bottom quarter
    of the rows and a W/16 band on each side are set to -1 (ignored); last, sky pixels (gtFine colour
    R=70, G=130) are set to 0. Extras: ``seg_color`` and ``image`` (uint8 RGB) and the SEE ``boundary``
    (``get_boundaries(depth, th=1)``).
    """
    from depthforge.metrics.mono import get_boundaries  # metrics are only needed when scoring

    for s in scan_cityscapes(root, subset):
        factor = camera_factor(s.camera)
        depth = disparity_to_depth(read_disparity_png(s.disparity), factor, invalid=0.0)
        h, w = depth.shape
        depth[-h // 4:, :] = -1.0
        depth[:, : w // 16] = -1.0
        depth[:, -(w // 16):] = -1.0
        seg = read_rgb(s.seg_color)
        extras = {"seg_color": seg, "image": read_rgb(s.image)}
        depth[(seg[:, :, 0] == SKY_RG[0]) & (seg[:, :, 1] == SKY_RG[1])] = 0.0  # sky last, as the loader does
        extras["boundary"] = get_boundaries(depth, th=1.0)
        yield GTSample(s.disparity, s.names, depth, extras)
