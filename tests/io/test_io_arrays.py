"""npy and PFM helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from depthforge.errors import DataError
from depthforge.io import read_npy, read_pfm, write_npy, write_pfm


def test_npy_round_trip_keeps_name(tmp_path: Path) -> None:
    d = np.array([[1.5, np.nan], [-2.0, 3.0]], np.float64)
    path = write_npy(tmp_path / "x" / "depth.data", d)  # no ".npy" appended
    assert path.name == "depth.data"
    back = read_npy(path)
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, d.astype(np.float32))


@pytest.mark.parametrize("shape", [(4, 6), (3, 5, 3)])
def test_pfm_round_trip(tmp_path: Path, shape: tuple[int, ...]) -> None:
    data = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    path = write_pfm(tmp_path / "d.pfm", data)
    raw = path.read_bytes()
    assert raw.startswith(b"Pf\n6 4\n-1\n" if len(shape) == 2 else b"PF\n5 3\n-1\n")
    # bottom-to-top storage: the first stored row is the image's last row
    header_len = len(raw) - data.size * 4
    first = np.frombuffer(raw[header_len:], "<f4", count=int(np.prod(shape[1:])))
    np.testing.assert_array_equal(first, data[-1].ravel())
    np.testing.assert_array_equal(read_pfm(path), data)


def test_read_big_endian_pfm(tmp_path: Path) -> None:
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    (tmp_path / "be.pfm").write_bytes(b"Pf\n3 2\n1.0\n" + np.flipud(data).astype(">f4").tobytes())
    np.testing.assert_array_equal(read_pfm(tmp_path / "be.pfm"), data)


def test_bad_pfm(tmp_path: Path) -> None:
    (tmp_path / "bad.pfm").write_bytes(b"P6\n3 2\n255\n")
    with pytest.raises(DataError, match="bad.pfm: not a PFM"):
        read_pfm(tmp_path / "bad.pfm")
    (tmp_path / "short.pfm").write_bytes(b"Pf\n3 2\n-1\n" + b"\0" * 8)
    with pytest.raises(DataError, match="truncated"):
        read_pfm(tmp_path / "short.pfm")


def test_json_files_are_strict_and_say_why_a_value_is_null(tmp_path):
    import json
    import math

    from depthforge.io import write_json

    path = write_json(tmp_path / "r.json", {"ours": {"rmse": 1.5, "irmse": math.inf}, "base": [math.nan, 2.0]})
    text = path.read_text()
    assert "Infinity" not in text and "NaN" not in text
    data = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert data["ours"] == {"rmse": 1.5, "irmse": None} and data["base"] == [None, 2.0]
    assert data["null_values"] == {"ours.irmse": "inf", "base[0]": "nan"}
