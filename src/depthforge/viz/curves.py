"""Training curves (loss, RMSE, ... against epoch) drawn with matplotlib's Agg canvas."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from depthforge.errors import DataError
from depthforge.io.png import PathLike

Series = Sequence[float] | tuple[Sequence[float], Sequence[float]]


def read_csv_columns(path: PathLike) -> dict[str, np.ndarray]:
    """Read a CSV with a header (e.g. the reference ``train.csv``) as float columns; bad cells are NaN."""
    path = Path(path)
    try:
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            fields = [f.strip() for f in (reader.fieldnames or [])]
    except OSError as exc:
        raise DataError(path, f"cannot read CSV ({exc.strerror or exc})") from exc
    if not fields:
        raise DataError(path, "CSV has no header row")

    def number(cell: str | None) -> float:
        try:
            return float(cell) if cell is not None else math.nan
        except ValueError:
            return math.nan

    return {
        field: np.array([number(row.get(raw)) for row in rows], dtype=np.float64)
        for field, raw in zip(fields, reader.fieldnames or [], strict=True)
    }


def _csv_panels(paths: Sequence[PathLike], columns: Sequence[str], x: str) -> dict[str, dict[str, tuple]]:
    """One panel per column, one line per CSV file (labelled by the file stem, e.g. ``train`` / ``val``)."""
    panels: dict[str, dict[str, tuple]] = {c: {} for c in columns}
    for path in paths:
        data = read_csv_columns(path)
        missing = [c for c in (*columns, x) if c not in data]
        if missing:
            raise DataError(path, f"no column(s) {missing}; columns are {sorted(data)}")
        for col in columns:
            panels[col][Path(path).stem] = (data[x], data[col])
    return panels


def _series_panel(series: Mapping[str, Series]) -> dict[str, dict[str, tuple]]:
    lines: dict[str, tuple] = {}
    for name, values in series.items():
        if isinstance(values, tuple) and len(values) == 2 and np.ndim(values[0]) == 1:
            xs, ys = np.asarray(values[0], float), np.asarray(values[1], float)
        else:
            ys = np.asarray(values, float)
            xs = np.arange(1, len(ys) + 1, dtype=float)  # epochs counted from 1
        if xs.shape != ys.shape:
            raise DataError(None, f"series {name!r}: x has {xs.shape[0]} points, y has {ys.shape[0]}")
        lines[name] = (xs, ys)
    return {"": lines}


def plot_curves(
    sources: PathLike | Iterable[PathLike] | Mapping[str, Series],
    out_png: PathLike,
    columns: Sequence[str] = ("rmse",),
    x: str = "epoch",
    title: str | None = None,
    logy: bool = False,
    dpi: int = 100,
) -> Path:
    """Plot training curves to a PNG; returns its path (parent folders are created).

    Args:
        sources: CSV file(s) with a header (e.g. ``train.csv`` and ``val.csv``): one subplot per name in
            ``columns``, one line per file labelled with the file stem, against column ``x``. Or a dict
            ``name -> ys`` or ``name -> (xs, ys)`` (ys alone are plotted against 1, 2, ...), drawn in a
            single subplot.
        columns: CSV columns to plot (ignored for a dict).
        x: CSV column used as abscissa.
        logy: logarithmic y axis (useful for losses).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure  # a bare Figure: no pyplot global state, no GUI backend
    from matplotlib.ticker import MaxNLocator

    if isinstance(sources, Mapping):
        panels = _series_panel(sources)
        xlabel = "epoch"
    else:
        paths = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
        if not paths:
            raise DataError(None, "plot_curves needs at least one CSV file or series")
        panels = _csv_panels(paths, columns, x)
        xlabel = x

    fig = Figure(figsize=(6.0, 3.2 * len(panels)), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    for i, (ylabel, lines) in enumerate(panels.items()):
        ax = fig.add_subplot(len(panels), 1, i + 1)
        for label, (xs, ys) in lines.items():
            ok = np.isfinite(xs) & np.isfinite(ys)
            ax.plot(xs[ok], ys[ok], marker="o", markersize=3, label=label)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        if ylabel:
            ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend()
        if title and i == 0:
            ax.set_title(title)
    out = Path(out_png)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, format="png")
    except OSError as exc:
        raise DataError(out, f"cannot write plot ({exc.strerror or exc})") from exc
    return out
