"""panel_figure / render_panels / find_zoom: labelled panels, colour bars, zoom row, planted disagreement."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from depthforge.errors import DataError
from depthforge.viz import Panel, find_zoom, panel_figure
from depthforge.viz.panels import render_panels

H, W = 48, 96


def _panels() -> list[Panel]:
    rng = np.random.default_rng(0)
    gt = np.tile(np.linspace(5, 60, W, dtype=np.float32), (H, 1))
    sparse = np.where(rng.random((H, W)) < 0.05, gt, 0).astype(np.float32)
    pred = gt + rng.normal(0, 1, (H, W)).astype(np.float32)
    err = np.abs(pred - gt)
    err[gt <= 0] = np.nan
    return [
        Panel("RGB", rng.integers(0, 256, (H, W, 3), dtype=np.uint8), kind="image"),
        Panel("sparse input", sparse, vmin=0, vmax=60),
        Panel("ground truth", gt, vmin=0, vmax=60),
        Panel("method A", pred, vmin=0, vmax=60),
        Panel("error A", err, kind="error", vmin=0, vmax=5),
    ]


def _axes(fig, label: str) -> list:
    return [ax for ax in fig.axes if ax.get_label() == label]


def test_png_written_with_sane_size(tmp_path: Path) -> None:
    out = panel_figure(_panels(), tmp_path / "sub" / "fig.png", title="demo")
    assert out == tmp_path / "sub" / "fig.png" and out.is_file()
    img = cv2.imread(str(out))
    assert img is not None and img.shape[0] > 100 and img.shape[1] > 300
    assert not list(out.parent.glob("*.tmp"))  # written atomically: no temporary left


def test_every_panel_titled_and_every_map_has_a_colour_bar() -> None:
    panels = _panels()
    fig = render_panels(panels, columns=3, title="frame 0")
    axes = _axes(fig, "panel")
    assert [ax.get_title() for ax in axes] == [p.title for p in panels]
    bars = _axes(fig, "colorbar")
    assert len(bars) == sum(p.kind != "image" for p in panels)  # the RGB panel has none
    assert all(b.get_ylabel() for b in bars)  # unit labels, e.g. "depth [m]"
    assert "[m]" in bars[0].get_ylabel()
    # the shared depth scale: every depth panel maps the same range
    depth_ims = [ax.images[0] for ax, p in zip(axes, panels) if p.kind == "depth"]
    assert {im.get_clim() for im in depth_ims} == {(0.0, 60.0)}
    assert fig.get_suptitle() == "frame 0"


def test_zoom_adds_a_row_of_crops() -> None:
    panels = _panels()
    plain = render_panels(panels, columns=5)
    zoomed = render_panels(panels, columns=5, zoom=(10, 20, 16, 32))
    assert len(_axes(plain, "zoom")) == 0
    zooms = _axes(zoomed, "zoom")
    assert [ax.get_title() for ax in zooms] == [p.title + " (zoom)" for p in panels]
    rows = {ax.get_subplotspec().rowspan.start for ax in _axes(zoomed, "panel")}
    zoom_rows = {ax.get_subplotspec().rowspan.start for ax in zooms}
    assert rows == {0} and zoom_rows == {1}
    assert zooms[2].images[0].get_array().shape == (16, 32)
    assert all(len(ax.patches) == 1 for ax in _axes(zoomed, "panel"))  # the rectangle on every panel


def test_sparse_input_is_thickened_for_display_only() -> None:
    panels = _panels()
    before = panels[1].data.copy()
    fig = render_panels(panels)
    shown = _axes(fig, "panel")[1].images[0].get_array()
    assert (~np.ma.getmaskarray(shown)).sum() > 2 * (before > 0).sum()
    np.testing.assert_array_equal(panels[1].data, before)


def test_find_zoom_finds_planted_disagreement() -> None:
    rng = np.random.default_rng(1)
    gt = rng.uniform(5, 50, (H, W)).astype(np.float32)
    a = gt + rng.normal(0, 0.1, gt.shape).astype(np.float32)
    b = a.copy()
    b[30:40, 60:75] += 20.0
    y0, x0, h, w = find_zoom([a, b], gt, (12, 16))
    assert (h, w) == (12, 16)
    assert y0 <= 30 and y0 + h >= 40 and x0 <= 60 and x0 + w >= 75
    assert find_zoom([a, b], gt, (12, 16)) == (y0, x0, h, w)  # deterministic
    # where there is no ground truth (sky), disagreement is not judged
    sky = gt.copy()
    sky[:12] = 0
    d = a.copy()
    d[0:10, 0:20] += 50.0
    y0, x0, h, w = find_zoom([a, b, d], sky, (12, 16))
    assert y0 <= 30 and y0 + h >= 40 and x0 <= 60 and x0 + w >= 75
    # a single prediction: its disagreement with the valid ground truth
    c = gt.copy()
    c[2:8, 4:10] -= 10
    y0, x0, _, _ = find_zoom([c], gt, (6, 6))
    assert (y0, x0) == (2, 4)


@pytest.mark.parametrize("panel", [
    Panel("rgb", np.zeros((H, W), np.uint8), kind="image"),
    Panel("rgb", np.zeros((H, W, 3), np.float32), kind="image"),
    Panel("depth", np.zeros((2, H, W), np.float32)),
    Panel("odd", np.zeros((H, W), np.float32), kind="bogus"),  # type: ignore[arg-type]
])
def test_bad_panel_is_a_one_line_data_error(panel: Panel, tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        panel_figure([_panels()[0], panel], tmp_path / "x.png")
    assert "\n" not in str(info.value) and "panel 1" in str(info.value)
    assert not (tmp_path / "x.png").exists()


def test_mismatched_sizes_and_bad_zoom_are_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="all must match"):
        panel_figure([Panel("a", np.ones((H, W))), Panel("b", np.ones((H, W + 1)))], tmp_path / "x.png")
    with pytest.raises(DataError, match="does not fit"):
        panel_figure([Panel("a", np.ones((H, W)))], tmp_path / "x.png", zoom=(40, 0, 20, 20))
    with pytest.raises(DataError, match="shape"):
        find_zoom([np.ones((H, W))], np.ones((H, W + 2)), (4, 4))
    with pytest.raises(DataError, match="does not fit"):
        find_zoom([np.ones((H, W))], np.ones((H, W)), (H + 1, 4))
