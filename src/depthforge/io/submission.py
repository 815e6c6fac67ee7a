"""KITTI depth-completion submissions: writing the PNG folder and flat zip, and checking them.

Format: files ``0000000000.png`` ... ``0000000999.png`` (1000 for depth completion, 500 for depth prediction),
each a 1-channel 16-bit PNG in KITTI units (metres x 256, 0 = invalid) with the size of its ground truth (1216
x 352 for the anonymous test set), zipped FLAT (no folders inside the archive). The server pairs files with
ground truth by sorted order, so names must be the contiguous 10-digit indices.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from depthforge.errors import DataError
from depthforge.io.depth import DEPTH_SUFFIXES, read_prediction, write_depth_png
from depthforge.io.png import PathLike, PngHeader, parse_png_header

KITTI_TEST_SIZE = (352, 1216)  # (H, W)
_NAME = re.compile(r"^\d{10}\.png$")
_COLOR_TYPES = {0: "greyscale", 2: "RGB", 3: "palette", 4: "grey+alpha", 6: "RGBA"}


def submission_name(index: int) -> str:
    """File name of submission entry ``index``: ten zero-padded digits and ``.png``."""
    return f"{index:010d}.png"


def _iter_folder(folder: Path) -> Iterable[tuple[int, np.ndarray]]:
    if not folder.is_dir():
        raise DataError(folder, "prediction folder does not exist or is not a folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in DEPTH_SUFFIXES)
    if not files:
        raise DataError(folder, f"no prediction files ({', '.join(DEPTH_SUFFIXES)}) in this folder")
    for index, path in enumerate(files):  # sorted order = KITTI's pairing order
        yield index, read_prediction(path)


def write_submission(
    preds: Iterable[tuple[int, ArrayLike]] | PathLike,
    out_dir: PathLike,
    zip_path: PathLike | None = None,
) -> list[Path]:
    """Write a submission folder (and optionally its flat zip); returns the PNG paths in index order.

    Args:
        preds: ``(index, depth_m)`` pairs (depth in metres, e.g. a generator over the test loader), or a
            folder of predictions (``.npy``/``.pfm`` in metres or 16-bit KITTI ``.png``), numbered 0, 1, ...
            in sorted name order.
        out_dir: folder for ``0000000000.png`` ...; created if needed, and must not hold PNGs already (stale
            files would end up in the folder the server is fed).
        zip_path: if given, also write a zip with the PNGs at the archive root, ready to upload.

    Depths are encoded by :func:`~depthforge.io.depth.depth_to_uint16` with ``dense=True``: clipped to
    [1, 65535], non-positive -> 1, only non-finite -> 0. Run :func:`check_submission` on the result before uploading.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DataError(out, "submission output exists and is not a folder")
    if out.is_dir() and any(out.glob("*.png")):
        raise DataError(out, "submission folder already holds PNG files; use an empty folder")
    items = _iter_folder(Path(preds)) if isinstance(preds, (str, os.PathLike)) else preds

    written: dict[int, Path] = {}
    for index, depth in items:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < 10**10:
            raise DataError(out, f"submission index must be an integer in [0, 1e10), got {index!r}")
        if int(index) in written:
            raise DataError(out, f"index {int(index)} given twice")
        # Every pixel of a submission is a prediction: nothing may be written as 0 (= missing).
        written[int(index)] = write_depth_png(out / submission_name(int(index)), depth, dense=True)
    if not written:
        raise DataError(out, "no predictions to write")
    paths = [written[i] for i in sorted(written)]
    if zip_path is not None:
        write_flat_zip(paths, zip_path)
    return paths


def write_flat_zip(files: Iterable[PathLike], zip_path: PathLike) -> Path:
    """Zip ``files`` with their bare names at the archive root (no folders); creates parent folders."""
    zpath = Path(zip_path)
    files = [Path(f) for f in files]
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        raise DataError(zpath, "two files share a name; a flat zip cannot hold both")
    try:
        zpath.parent.mkdir(parents=True, exist_ok=True)
        # PNG data is already deflated; storing avoids recompressing 1000 files for ~no gain.
        with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_STORED) as zf:
            for f in sorted(files, key=lambda p: p.name):
                zf.write(f, arcname=f.name)
    except OSError as exc:
        raise DataError(zpath, f"cannot write zip ({exc.strerror or exc})") from exc
    return zpath


def _collect(source: Path) -> tuple[dict[str, PngHeader | None], list[str]]:
    """Headers of the PNG entries of a folder or zip, plus structural problems of a zip."""
    headers: dict[str, PngHeader | None] = {}
    problems: list[str] = []
    if source.is_dir():
        for path in sorted(source.glob("*.png")):
            with path.open("rb") as fh:
                headers[path.name] = parse_png_header(fh.read(26))
        return headers, problems
    try:
        with zipfile.ZipFile(source) as zf:
            nested, stray = [], []
            for info in zf.infolist():
                name = info.filename
                if info.is_dir() or "/" in name.rstrip("/") or "\\" in name:
                    nested.append(name)
                    continue
                if not name.lower().endswith(".png"):
                    stray.append(name)
                    continue
                with zf.open(info) as fh:
                    headers[name] = parse_png_header(fh.read(26))
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(source, f"not a readable zip file ({exc})") from exc
    if nested:
        problems.append(f"zip is not flat: {_few(nested)} inside folders (PNGs must be at the archive root)")
    if stray:
        problems.append(f"zip holds non-PNG entries: {_few(stray)}")
    return headers, problems


def _few(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"{shown}{more} ({len(names)} in all)"


def check_submission(
    source: PathLike,
    expected_count: int | None = 1000,
    expected_size: tuple[int, int] | None = KITTI_TEST_SIZE,
    raise_on_error: bool = False,
) -> list[str]:
    """Check a submission folder or zip against the KITTI format rules; returns the problems (empty = OK).

    Checked: the zip is flat and holds only PNGs; names are ``0000000000.png`` ... contiguous from 0 with
    exactly ``expected_count`` files (``None``: any count, still contiguous); every file is a PNG, 16-bit, 1
    channel (greyscale) and, if ``expected_size`` (H, W) is given, of that size. Only PNG headers are read, so
    checking 1000 files is fast; pixel values are not inspected. Each kind of problem is reported once, naming
    up to five files.

    Raises:
        DataError: if ``source`` does not exist or is not a readable zip, or, with ``raise_on_error``, if any
            problem was found (the message lists them all).
    """
    src = Path(source)
    if not src.exists():
        raise DataError(src, "submission folder or zip does not exist")
    headers, problems = _collect(src)

    badly_named = [n for n in headers if not _NAME.match(n)]
    numbered = sorted(n for n in headers if _NAME.match(n))
    count = expected_count if expected_count is not None else len(numbered)
    expected = {submission_name(i) for i in range(count)}
    if badly_named:
        problems.append(f"names not of the form 0000000000.png: {_few(sorted(badly_named))}")
    missing = sorted(expected.difference(numbered))
    if missing:
        problems.append(f"missing files: {_few(missing)}")
    extra = sorted(set(numbered).difference(expected))
    if extra:
        problems.append(f"unexpected files beyond index {count - 1}: {_few(extra)}")
    if expected_count is not None and len(headers) != expected_count:
        problems.append(f"{len(headers)} PNG files, expected {expected_count}")

    by_kind: dict[str, list[str]] = {}
    for name, header in sorted(headers.items()):
        for kind in _file_problems(header, expected_size):
            by_kind.setdefault(kind, []).append(name)
    problems.extend(f"{kind}: {_few(names)}" for kind, names in by_kind.items())

    if problems and raise_on_error:
        raise DataError(src, f"invalid KITTI submission: {'; '.join(problems)}")
    return problems


def _file_problems(header: PngHeader | None, expected_size: tuple[int, int] | None) -> list[str]:
    if header is None:
        return ["not a PNG file"]
    out = []
    if header.bit_depth != 16:
        out.append(f"{header.bit_depth}-bit PNG, must be 16-bit")
    if header.color_type != 0:
        kind = _COLOR_TYPES.get(header.color_type, f"colour type {header.color_type}")
        out.append(f"{kind} PNG, must be 1-channel greyscale")
    if expected_size is not None and (header.height, header.width) != tuple(expected_size):
        h, w = expected_size
        out.append(f"size {header.width}x{header.height} (WxH), expected {w}x{h}")
    return out
