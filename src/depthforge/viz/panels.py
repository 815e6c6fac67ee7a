"""Labelled comparison figures: a grid of titled panels, each with its own colour bar, and an optional zoom.

``panel_figure`` draws RGB images, depth maps and error maps side by side with matplotlib's Agg canvas (a bare
``Figure``: no pyplot global state, no GUI backend). Every panel has a title; depth and error panels have a
colour bar labelled with their unit. Depth panels given the same ``vmin``/``vmax`` share one colour scale.
Sparse maps (LiDAR input, semi-dense ground truth) are thickened for display only, so that they stay visible
at figure resolution. ``find_zoom`` picks the window where several predictions differ most, to show as zoom.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from depthforge.errors import DataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

DEPTH_CMAP = "plasma_r"
"""Perceptually uniform; near is bright yellow, far is dark blue, so it stays distinct from the black holes."""
ERROR_CMAP = "YlOrRd"
"""Absolute error: pale yellow (none) to dark red (large); black stays reserved for 'no value'."""
SIGNED_ERROR_CMAP = "RdBu_r"
"""Signed error (negative values present): blue below, red above, white at zero."""
BLANK = (0.0, 0.0, 0.0, 1.0)
ZOOM_COLOR = "#00e5ff"
SPARSE_FRACTION = 0.5
"""Depth or error maps with fewer valid pixels than this fraction (LiDAR ~5 %, KITTI ground truth ~30 %)
are thickened for display."""

PanelKind = Literal["image", "depth", "error"]
_KINDS = ("image", "depth", "error")


@dataclass
class Panel:
    """One titled picture of a :func:`panel_figure`.

    ``data`` is an (H, W, 3) uint8 image (``kind="image"``) or an (H, W) float map. Depth: 0, negative and
    non-finite values mean 'no value' and are shown black. Error: only non-finite values are 'no value' (an
    exact 0 is a perfect prediction). ``vmin``/``vmax`` fix the colour range (give every depth panel the same
    ones for one shared scale); ``None`` takes the panel's own valid range. ``unit`` labels the colour bar.
    """

    title: str
    data: np.ndarray
    kind: PanelKind = "depth"
    vmin: float | None = None
    vmax: float | None = None
    unit: str = "m"


def _as_map(panel: Panel, index: int) -> np.ndarray:
    """The panel's data checked and converted: uint8 (H, W, 3) for images, float (H, W) with NaN holes else."""
    where = f"panel {index} ({panel.title!r})"
    if panel.kind not in _KINDS:
        raise DataError(None, f"{where}: kind must be one of {_KINDS}, got {panel.kind!r}")
    arr = np.asarray(panel.data)
    if panel.kind == "image":
        if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
            raise DataError(None, f"{where}: an image panel needs a (H, W, 3) uint8 array, "
                                  f"got {arr.dtype} of shape {arr.shape}")
        return arr
    if arr.ndim == 3 and 1 in (arr.shape[0], arr.shape[-1]):
        arr = arr.reshape(arr.shape[1:] if arr.shape[0] == 1 else arr.shape[:-1])
    if arr.ndim != 2 or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise DataError(None, f"{where}: a {panel.kind} panel needs a (H, W) numeric array, "
                              f"got {arr.dtype} of shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataError(None, f"{where}: empty {arr.shape} array")
    out = arr.astype(np.float32)  # a copy: the caller's array is never changed
    bad = ~np.isfinite(out)
    if panel.kind == "depth":
        bad |= out <= 0
    out[bad] = np.nan
    return out


def _thicken(values: np.ndarray) -> np.ndarray:
    """Fill holes next to valid pixels with the nearest valid value (display only), if the map is sparse.

    The radius grows with the image (1 px up to ~300 px wide, 2 px for KITTI's 1216 px); among equally close
    neighbours the first in a fixed order wins, so the result is deterministic.
    """
    valid = np.isfinite(values)
    if not valid.any() or valid.mean() >= SPARSE_FRACTION:
        return values
    h, w = values.shape
    radius = max(1, round(max(h, w) / 600.0))
    offsets = sorted(((dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)
                      if (dy, dx) != (0, 0)), key=lambda o: (o[0] ** 2 + o[1] ** 2, o))
    out = values.copy()
    filled = valid.copy()
    for dy, dx in offsets:
        ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
        xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
        take = valid[ys, xs] & ~filled[yd, xd]
        out[yd, xd][take] = values[ys, xs][take]
        filled[yd, xd] |= take
    return out


def _range(panel: Panel, values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if panel.kind == "error" and finite.size and float(finite.min()) < 0 and panel.vmin is None:
        big = float(np.abs(finite).max()) if panel.vmax is None else float(panel.vmax)
        return -big, big
    lo = panel.vmin if panel.vmin is not None else (float(finite.min()) if finite.size else 0.0)
    if panel.vmin is None and panel.kind == "error":
        lo = min(lo, 0.0)
    hi = panel.vmax if panel.vmax is not None else (float(finite.max()) if finite.size else 1.0)
    if not hi > lo:
        hi = lo + 1.0  # a constant map: still a valid colour bar
    return float(lo), float(hi)


def _cmap(panel: Panel, lo: float) -> object:
    import matplotlib

    name = DEPTH_CMAP if panel.kind == "depth" else (SIGNED_ERROR_CMAP if lo < 0 else ERROR_CMAP)
    return matplotlib.colormaps[name].with_extremes(bad=BLANK)


def _check_zoom(zoom: tuple[int, int, int, int], shape: tuple[int, int]) -> tuple[int, int, int, int]:
    try:
        y0, x0, h, w = (int(v) for v in zoom)
    except (TypeError, ValueError):
        raise DataError(None, f"zoom must be (y0, x0, h, w) integers, got {zoom!r}") from None
    if h <= 0 or w <= 0 or y0 < 0 or x0 < 0 or y0 + h > shape[0] or x0 + w > shape[1]:
        raise DataError(None, f"zoom (y0={y0}, x0={x0}, h={h}, w={w}) does not fit in the {shape[0]}x{shape[1]} "
                              "panels")
    return y0, x0, h, w


def render_panels(panels: Sequence[Panel], *, columns: int | None = None,
                  zoom: tuple[int, int, int, int] | None = None, title: str | None = None,
                  dpi: int = 100) -> MplFigure:
    """The matplotlib ``Figure`` of :func:`panel_figure` (not saved), for inspection and tests.

    Panel axes carry the label ``"panel"``, zoom axes ``"zoom"`` and colour-bar axes ``"colorbar"``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.patches import Rectangle

    panels = list(panels)
    if not panels:
        raise DataError(None, "panel_figure needs at least one panel")
    for i, p in enumerate(panels):
        if not isinstance(p, Panel):
            raise DataError(None, f"panel {i} must be a Panel, got {type(p).__name__}")
    maps = [_as_map(p, i) for i, p in enumerate(panels)]
    shape = maps[0].shape[:2]
    for i, m in enumerate(maps):
        if m.shape[:2] != shape:
            raise DataError(None, f"panel {i} ({panels[i].title!r}) is {m.shape[0]}x{m.shape[1]}, "
                                  f"panel 0 ({panels[0].title!r}) is {shape[0]}x{shape[1]}: all must match")
    n = len(panels)
    if columns is None:
        columns = min(n, 3)
    if int(columns) < 1:
        raise DataError(None, f"columns must be >= 1, got {columns}")
    columns = min(int(columns), n)
    rows = -(-n // columns)
    box = _check_zoom(zoom, shape) if zoom is not None else None

    # Display arrays: sparse maps thickened once, so the zoom crops show the same pixels as the panels.
    shown = [m if p.kind == "image" else _thicken(m) for p, m in zip(panels, maps)]
    ranges = [(0.0, 255.0) if p.kind == "image" else _range(p, m) for p, m in zip(panels, maps)]

    panel_w = 4.2  # inches, colour bar included
    panel_h = max(1.2, panel_w * 0.85 * shape[0] / shape[1]) + 0.45
    zoom_h = 0.0
    if box is not None:
        zoom_h = min(4.0, max(1.2, panel_w * 0.85 * box[2] / box[3])) + 0.45
    height = rows * panel_h + (rows * zoom_h if box is not None else 0.0) + (0.4 if title else 0.0)
    fig = MplFigure(figsize=(panel_w * columns, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    total_rows = rows * (2 if box is not None else 1)
    ratios = [panel_h] * rows + ([zoom_h] * rows if box is not None else [])
    grid = fig.add_gridspec(total_rows, columns, height_ratios=ratios)

    def draw(ax: object, i: int, crop: tuple[int, int, int, int] | None, label: str) -> None:
        p, img = panels[i], shown[i]
        ax.set_label(label)  # type: ignore[attr-defined]
        if crop is not None:
            y0, x0, h, w = crop
            img = img[y0:y0 + h, x0:x0 + w]
        name = p.title + (" (zoom)" if crop is not None else "")
        if p.kind == "image":
            ax.imshow(img, interpolation="nearest")  # type: ignore[attr-defined]
        else:
            lo, hi = ranges[i]
            im = ax.imshow(np.ma.masked_invalid(img), cmap=_cmap(p, lo), vmin=lo, vmax=hi,  # type: ignore[attr-defined]
                           interpolation="nearest")
            bar = fig.colorbar(im, ax=ax, shrink=0.9, pad=0.02, fraction=0.05)
            bar.ax.set_label("colorbar")
            unit = f"{'|error|' if p.kind == 'error' and lo >= 0 else p.kind} [{p.unit}]" if p.unit else p.kind
            bar.set_label(unit, fontsize=8)
            bar.ax.tick_params(labelsize=7)
        ax.set_title(name, fontsize=9)  # type: ignore[attr-defined]
        ax.set_xticks([])  # type: ignore[attr-defined]
        ax.set_yticks([])  # type: ignore[attr-defined]
        if box is not None and crop is None:
            y0, x0, h, w = box
            ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), w, h, fill=False,  # type: ignore[attr-defined]
                                   edgecolor=ZOOM_COLOR, linewidth=1.5))

    for i in range(n):
        draw(fig.add_subplot(grid[i // columns, i % columns]), i, None, "panel")
    if box is not None:
        for i in range(n):
            draw(fig.add_subplot(grid[rows + i // columns, i % columns]), i, box, "zoom")
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def panel_figure(panels: Sequence[Panel], path: str | Path, *, columns: int | None = None,
                 zoom: tuple[int, int, int, int] | None = None, title: str | None = None) -> Path:
    """Draw ``panels`` as a labelled grid and write it as a PNG (atomically); returns the path.

    Args:
        panels: the pictures, in reading order (row by row, ``columns`` per row; default up to 3).
        path: the PNG to write; parent folders are created. The file is written to a temporary name in the
            same folder and renamed, so a reader never sees half a picture.
        zoom: ``(y0, x0, h, w)`` in pixels: the rectangle is drawn on every panel and the crops of every
            panel are added below the grid, in the same order, titled ``"<title> (zoom)"``.
        title: the figure's title.

    Raises :class:`DataError` (one line) for bad panels: wrong shape or dtype, sizes that differ, a zoom
    outside the image.
    """
    fig = render_panels(panels, columns=columns, zoom=zoom, title=title)
    out = Path(path)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(tmp, format="png")
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(out, f"cannot write figure ({exc.strerror or exc})") from exc
    return out


def find_zoom(preds: Sequence[np.ndarray], gt: np.ndarray, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The ``size = (h, w)`` window where the predictions differ most; returns ``(y0, x0, h, w)``.

    Per pixel the score is the spread of the predictions (max - min) plus their mean absolute error against
    ``gt``, counted only where ``gt`` is valid (finite, > 0; everywhere if it has no valid pixel at all);
    non-finite predictions count 0. The window with the largest summed score wins; ties go to the first
    window in row-major order, so the choice is deterministic.
    """
    from depthforge.viz.colormap import as_depth_2d

    preds = list(preds)
    if not preds:
        raise DataError(None, "find_zoom needs at least one prediction")
    g = as_depth_2d(gt, "gt")
    ps = [as_depth_2d(p, f"prediction {i}") for i, p in enumerate(preds)]
    for i, p in enumerate(ps):
        if p.shape != g.shape:
            raise DataError(None, f"prediction {i} shape {p.shape} differs from gt shape {g.shape}")
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError):
        raise DataError(None, f"size must be (h, w) integers, got {size!r}") from None
    if not (0 < h <= g.shape[0] and 0 < w <= g.shape[1]):
        raise DataError(None, f"zoom size {h}x{w} does not fit in the {g.shape[0]}x{g.shape[1]} maps")
    stack = np.stack(ps).astype(np.float64)
    finite = np.isfinite(stack)
    with np.errstate(invalid="ignore"):
        all_finite = finite.all(0)
        safe = np.where(finite, stack, 0.0)
        spread = np.where(all_finite, safe.max(0) - safe.min(0), 0.0)
        valid_gt = np.isfinite(g) & (g > 0)
        err = np.where(finite & valid_gt[None], np.abs(stack - g[None].astype(np.float64)), 0.0).mean(0)
    score = np.nan_to_num(np.asarray(spread, np.float64) + err, nan=0.0, posinf=0.0)
    if valid_gt.any():  # only where the methods can be judged: not in the sky, where each extrapolates its way
        score = np.where(valid_gt, score, 0.0)
    integral = np.zeros((score.shape[0] + 1, score.shape[1] + 1))
    integral[1:, 1:] = score.cumsum(0).cumsum(1)
    sums = integral[h:, w:] - integral[:-h, w:] - integral[h:, :-w] + integral[:-h, :-w]
    y0, x0 = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(y0), int(x0), h, w


__all__ = ["DEPTH_CMAP", "ERROR_CMAP", "Panel", "find_zoom", "panel_figure", "render_panels"]
