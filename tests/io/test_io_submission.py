"""KITTI submission writing and checking."""

from __future__ import annotations

import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from depthforge.errors import DataError
from depthforge.io import check_submission, read_depth_png, write_npy, write_pfm, write_submission

SIZE = (8, 12)  # small stand-in for 352 x 1216


def preds(n: int):
    rng = np.random.default_rng(0)
    for i in range(n):
        yield i, rng.uniform(1, 80, SIZE).astype(np.float32)


def test_write_submission_folder_and_flat_zip(tmp_path: Path) -> None:
    zip_path = tmp_path / "upload" / "submission.zip"
    files = write_submission(preds(5), tmp_path / "out", zip_path=zip_path)
    assert [f.name for f in files] == [f"{i:010d}.png" for i in range(5)]
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
    assert names == [f"{i:010d}.png" for i in range(5)]  # flat and complete
    assert all("/" not in n for n in names)
    assert check_submission(zip_path, expected_count=5, expected_size=SIZE) == []
    assert check_submission(tmp_path / "out", expected_count=5, expected_size=SIZE) == []
    first = dict(preds(1))[0]
    np.testing.assert_allclose(read_depth_png(files[0]), first, atol=1 / 512 + 1e-6)


def test_write_submission_from_folder(tmp_path: Path) -> None:
    src = tmp_path / "npy"
    for i, d in preds(3):
        write_npy(src / f"frame_{i:03d}.npy", d)
    files = write_submission(src, tmp_path / "out")
    assert [f.name for f in files] == ["0000000000.png", "0000000001.png", "0000000002.png"]
    again = write_submission(tmp_path / "out", tmp_path / "out2")  # PNG folder: lossless copy
    for a, b in zip(files, again, strict=True):
        np.testing.assert_array_equal(cv2.imread(str(a), -1), cv2.imread(str(b), -1))


def test_write_submission_refuses_bad_input(tmp_path: Path) -> None:
    write_submission(preds(1), tmp_path / "out")
    with pytest.raises(DataError, match="already holds PNG"):
        write_submission(preds(1), tmp_path / "out")
    with pytest.raises(DataError, match="twice"):
        write_submission([(0, np.ones(SIZE)), (0, np.ones(SIZE))], tmp_path / "dup")
    with pytest.raises(DataError, match="index"):
        write_submission([(-1, np.ones(SIZE))], tmp_path / "neg")
    with pytest.raises(DataError, match="no prediction files"):
        (tmp_path / "empty").mkdir()
        write_submission(tmp_path / "empty", tmp_path / "o")


def test_check_catches_missing_file(tmp_path: Path) -> None:
    files = write_submission(preds(4), tmp_path / "out")
    files[2].unlink()
    problems = check_submission(tmp_path / "out", expected_count=4, expected_size=SIZE)
    assert any("missing" in p and "0000000002.png" in p for p in problems)
    with pytest.raises(DataError, match="0000000002.png"):
        check_submission(tmp_path / "out", expected_count=4, expected_size=SIZE, raise_on_error=True)


def test_check_catches_8_bit_rgb_and_wrong_size(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_submission(preds(4), out)
    cv2.imwrite(str(out / "0000000001.png"), np.ones(SIZE, np.uint8))
    cv2.imwrite(str(out / "0000000002.png"), np.ones((*SIZE, 3), np.uint16))
    cv2.imwrite(str(out / "0000000003.png"), np.ones((SIZE[0] + 1, SIZE[1]), np.uint16))
    problems = check_submission(out, expected_count=4, expected_size=SIZE)
    text = "\n".join(problems)
    assert "8-bit PNG, must be 16-bit: 0000000001.png" in text
    assert "RGB PNG, must be 1-channel greyscale: 0000000002.png" in text
    assert "size 12x9 (WxH), expected 12x8: 0000000003.png" in text
    assert "0000000000.png" not in text
    assert len(problems) == 3
    assert check_submission(out, expected_count=4, expected_size=None) != []  # format problems remain


def test_check_catches_nested_zip_bad_names_and_count(tmp_path: Path) -> None:
    files = write_submission(preds(3), tmp_path / "out")
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(nested, "w") as zf:
        for f in files:
            zf.write(f, arcname=f"out/{f.name}")
        zf.writestr("notes.txt", "hi")
        zf.write(files[0], arcname="pred_0.png")
    problems = check_submission(nested, expected_count=3, expected_size=SIZE)
    text = "\n".join(problems)
    assert "not flat" in text and "non-PNG entries: notes.txt" in text and "pred_0.png" in text
    assert "missing files" in text
    assert any("1000" in p for p in check_submission(tmp_path / "out", expected_size=SIZE))
    with pytest.raises(DataError, match="does not exist"):
        check_submission(tmp_path / "nope.zip")
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable zip"):
        check_submission(tmp_path / "broken.zip")


def test_folder_predictions_are_read_leniently(tmp_path: Path) -> None:
    src = tmp_path / "pred"
    src.mkdir()
    d = np.full((1, *SIZE), 10.0, np.float32)  # 1xHxW, as a model writes it
    d[0, 0, :3] = (np.nan, -2.0, 0.0)
    np.save(src / "a.NPY", d)
    write_pfm(src / "b.pfm", np.full(SIZE, 20.0, np.float32))
    files = write_submission(src, tmp_path / "out")
    first = cv2.imread(str(files[0]), cv2.IMREAD_UNCHANGED)
    assert first[0, :4].tolist() == [0, 1, 1, 2560]  # NaN -> missing; finite non-positive -> 1 (dense)
    assert (cv2.imread(str(files[1]), cv2.IMREAD_UNCHANGED) == 5120).all()
    with pytest.raises(DataError, match="prediction folder does not exist"):
        write_submission(tmp_path / "nowhere", tmp_path / "out2")
