"""plot_curves."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from depthforge.errors import DataError
from depthforge.viz import plot_curves, read_csv_columns

HEADER = "epoch,rmse,photo,mae\n"


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


def test_csv_curves(tmp_path: Path) -> None:
    train = write_csv(tmp_path / "train.csv", ["1,1500.5,0,400", "2,1200.0,0,350", "3,1100,0,nan"])
    val = write_csv(tmp_path / "val.csv", ["1,1400,0,380", "2,1250,0,340"])
    out = plot_curves([train, val], tmp_path / "plots" / "curves.png", columns=("rmse", "mae"), title="run")
    img = cv2.imread(str(out))
    assert img is not None and img.shape[0] > img.shape[1]  # two stacked subplots
    cols = read_csv_columns(train)
    assert cols["rmse"].tolist() == [1500.5, 1200.0, 1100.0]


def test_series_curves(tmp_path: Path) -> None:
    series = {"loss": [3.0, 2.0, 1.5], "val": ([1, 3], [2.5, 1.7])}
    out = plot_curves(series, tmp_path / "loss.png", logy=True)
    assert cv2.imread(str(out)) is not None


def test_errors_name_the_file(tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "train.csv", ["1,1,0,1"])
    with pytest.raises(DataError, match="train.csv.*irmse"):
        plot_curves(csv, tmp_path / "x.png", columns=("irmse",))
    with pytest.raises(DataError, match="missing.csv"):
        plot_curves([tmp_path / "missing.csv"], tmp_path / "x.png")
    with pytest.raises(DataError, match="x has 2 points"):
        plot_curves({"a": ([1, 2], [1, 2, 3])}, tmp_path / "x.png")
