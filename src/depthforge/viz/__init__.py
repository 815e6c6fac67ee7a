"""Visualisation: colourised depth, error maps, comparison grids, training curves, checked PNG writing."""

from __future__ import annotations

from depthforge.viz.colormap import colorize, colormap_lut, error_map
from depthforge.viz.curves import plot_curves, read_csv_columns
from depthforge.viz.grid import PANEL_KEYS, comparison_grid, label_colors, to_rgb_uint8
from depthforge.viz.panels import Panel, find_zoom, panel_figure
from depthforge.viz.save import save_png

__all__ = [
    "PANEL_KEYS",
    "Panel",
    "colorize",
    "colormap_lut",
    "comparison_grid",
    "error_map",
    "find_zoom",
    "label_colors",
    "panel_figure",
    "plot_curves",
    "read_csv_columns",
    "save_png",
    "to_rgb_uint8",
]
