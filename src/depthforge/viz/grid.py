"""Comparison grid: one row per sample, panels [image | semantic | sparse | prediction | ground truth]."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from depthforge.errors import DataError
from depthforge.viz.colormap import colorize

# Panel order of a row (batch-schema names); keys absent from the rows are skipped.
PANEL_KEYS: tuple[str, ...] = ("image", "semantic", "sparse", "pred", "gt")
DEPTH_KEYS = frozenset({"sparse", "pred", "gt"})


def to_rgb_uint8(img: Any, name: str = "image") -> np.ndarray:
    """An image as uint8 (H, W, 3) RGB.

    Accepts (H, W, 3), (3, H, W) (tensor layout), (H, W) and (H, W, 1) grey. Floats with a maximum ``<= 1``
    are taken as ``[0, 1]``, other floats as ``[0, 255]`` (the SemAttNet loaders keep RGB in 0..255 floats);
    values are clipped.
    """
    arr = np.asarray(img)
    if arr.ndim == 3 and arr.shape[0] in (1, 3) and arr.shape[-1] not in (1, 3):
        arr = np.moveaxis(arr, 0, -1)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise DataError(None, f"{name} must be an RGB or grey image, got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return arr
    arr = arr.astype(np.float32)
    finite = np.isfinite(arr)
    if finite.any() and float(arr[finite].max()) <= 1.0:
        arr = arr * 255.0
    return np.rint(np.clip(np.nan_to_num(arr), 0, 255)).astype(np.uint8)


def label_colors(labels: np.ndarray, cmap: str = "tab20") -> np.ndarray:
    """Colour an integer label map with a cyclic qualitative palette; label 255 (ignore) is black."""
    import matplotlib

    palette = np.rint(np.asarray(matplotlib.colormaps[cmap].colors)[:, :3] * 255).astype(np.uint8)
    lab = labels.astype(np.int64)
    out = palette[np.mod(lab, len(palette))]
    out[(lab == 255) | (lab < 0)] = 0
    return out


def _semantic_panel(img: Any) -> np.ndarray:
    arr = np.asarray(img)
    is_label_map = arr.ndim == 2 or (arr.ndim == 3 and 1 in (arr.shape[0], arr.shape[-1]))
    if is_label_map and np.issubdtype(arr.dtype, np.integer):
        return label_colors(arr.reshape(arr.shape[-2:] if arr.shape[0] == 1 else arr.shape[:2]))
    return to_rgb_uint8(arr, "semantic")


def _normalise_keys(row: Mapping[str, Any], index: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key not in PANEL_KEYS:
            raise DataError(None, f"row {index}: unknown panel {key!r}; expected some of {PANEL_KEYS}")
        if value is not None:
            out[key] = value
    return out


def comparison_grid(
    rows: Sequence[Mapping[str, Any]],
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str = "jet",
    gap: int = 0,
) -> np.ndarray:
    """Compose a uint8 (H, W, 3) RGB grid, one row per dict, like the reference's ``comparison_<epoch>.png``.

    Each dict may hold ``image``, ``semantic`` (RGB image or integer label map), ``sparse``,
    ``pred`` and ``gt``; panels are laid out in that order, and every row must hold the same keys with panels
    of one size. Depth panels are colourised with :func:`colorize`: by default each panel uses its own min-max
    range as the reference does; give ``vmin`` and ``vmax`` to use one fixed range for every depth panel, so
    colours are comparable across panels and rows. ``gap`` inserts that many white pixels between panels and
    rows.
    """
    if not rows:
        raise DataError(None, "comparison_grid needs at least one row")
    normalised = [_normalise_keys(row, i) for i, row in enumerate(rows)]
    keys = [k for k in PANEL_KEYS if k in normalised[0]]
    if not keys:
        raise DataError(None, f"row 0 holds none of the panels {PANEL_KEYS}")
    rendered_rows = []
    for i, row in enumerate(normalised):
        if [k for k in PANEL_KEYS if k in row] != keys:
            raise DataError(None, f"row {i} has panels {sorted(row)}, row 0 has {keys}")
        panels = []
        for key in keys:
            if key in DEPTH_KEYS:
                panels.append(colorize(row[key], vmin=vmin, vmax=vmax, cmap=cmap))
            elif key == "semantic":
                panels.append(_semantic_panel(row[key]))
            else:
                panels.append(to_rgb_uint8(row[key], key))
        shapes = {p.shape for p in panels}
        if len(shapes) != 1:
            sizes = {k: p.shape[:2] for k, p in zip(keys, panels, strict=True)}
            raise DataError(None, f"row {i}: panels differ in size {sizes}")
        rendered_rows.append(_join(panels, axis=1, gap=gap))
    if len({r.shape for r in rendered_rows}) != 1:
        raise DataError(None, f"rows differ in size: {[r.shape[:2] for r in rendered_rows]}")
    return _join(rendered_rows, axis=0, gap=gap)


def _join(images: list[np.ndarray], axis: int, gap: int) -> np.ndarray:
    if gap <= 0:
        return np.concatenate(images, axis=axis)
    shape = list(images[0].shape)
    shape[axis] = gap
    spacer = np.full(shape, 255, np.uint8)
    parts: list[np.ndarray] = []
    for i, img in enumerate(images):
        if i:
            parts.append(spacer)
        parts.append(img)
    return np.concatenate(parts, axis=axis)


__all__ = ["PANEL_KEYS", "comparison_grid", "label_colors", "to_rgb_uint8"]
