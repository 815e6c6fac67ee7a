"""Ground-truth items for evaluation, and the file listing and sample loading the dataset modules share."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from depthforge.batch import GT, IMAGE, SEMANTIC, SPARSE
from depthforge.errors import DataError
from depthforge.io import image_size, read_rgb, read_semantic


@dataclass
class GTSample:
    """One ground-truth item for ``depthforge eval``.

    ``depth`` is in metres; ``names`` are the prediction file stems accepted for it, most specific first;
    ``extras`` holds what a metric protocol needs besides depth (``boundary``, ``seg_color``, ``image``).
    """

    path: Path
    names: list[str]
    depth: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)


def list_files(root: Path, pattern: str, what: str) -> list[Path]:
    """Sorted files of ``root`` matching the glob ``pattern``; a missing folder or no match raises."""
    if not root.is_dir():
        raise DataError(root, f"{what} folder does not exist")
    files = sorted(root.glob(pattern))
    if not files:
        raise DataError(root, f"no {what} files matching {pattern!r}")
    return files


def check_same_size(arrays: Mapping[str, np.ndarray], paths: Mapping[str, Path]) -> None:
    """Raise if the modalities of one sample differ in height or width."""
    ref_key = GT if GT in arrays else SPARSE
    ref_shape = arrays[ref_key].shape[:2]
    for key, array in arrays.items():
        if array.shape[:2] != ref_shape:
            h, w = array.shape[:2]
            raise DataError(
                paths[key],
                f"size {h}x{w} differs from {paths[ref_key]} ({ref_shape[0]}x{ref_shape[1]})",
            )


def load_completion_arrays(image: Path, semantic: Path, sparse: Path, gt: Path | None,
                           read_depth: Callable[[Path], np.ndarray]) -> dict[str, np.ndarray]:
    """Decode a depth-completion sample's files (keyed as in :mod:`depthforge.batch`), sizes checked."""
    arrays = {IMAGE: read_rgb(image), SEMANTIC: read_semantic(semantic), SPARSE: read_depth(sparse)}
    paths = {IMAGE: image, SEMANTIC: semantic, SPARSE: sparse}
    if gt is not None:
        arrays[GT] = read_depth(gt)
        paths[GT] = gt
    check_same_size(arrays, paths)
    return arrays


def check_sizes_from_headers(samples: Sequence[Mapping[str, Path | None]]) -> None:
    """Read the PNG headers of every sample's files and list, before any training, every sample whose files
    differ in size (a count and the first few), instead of failing when its batch is reached."""
    from concurrent.futures import ThreadPoolExecutor

    def sizes(files: Mapping[str, Path | None]) -> str | None:
        found = {k: image_size(p) for k, p in files.items() if p is not None and p.suffix.lower() == ".png"}
        if len(set(found.values())) <= 1:
            return None
        return ", ".join(f"{files[k]} {h}x{w}" for k, (h, w) in found.items())

    with ThreadPoolExecutor(max_workers=8) as pool:  # header reads wait on the disk, not the CPU
        bad = [b for b in pool.map(sizes, samples, chunksize=64) if b is not None]
    if bad:
        first = next(iter(samples[0].values()))
        raise DataError(first.parent if first is not None else None,
                        f"{len(bad)} of {len(samples)} samples have files of different sizes: {'; '.join(bad[:3])}"
                        + (f" and {len(bad) - 3} more" if len(bad) > 3 else ""))


def split_rows(path: Path, n_paths: int, expected: str) -> Iterator[list[str]]:
    """The rows of a split file, each ``n_paths`` whitespace-separated paths (blank lines skipped).

    A missing or unreadable file, a row of another length (``expected`` names its columns) or a file without
    rows is a one-line :class:`DataError` naming the file.
    """
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise DataError(path, "split file not found") from None
    except OSError as exc:
        raise DataError(path, f"cannot read split file ({exc.strerror or exc})") from None
    rows = 0
    for number, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != n_paths:
            raise DataError(path, f"line {number} has {len(parts)} paths, expected {n_paths} ({expected})")
        rows += 1
        yield parts
    if not rows:
        raise DataError(path, "split file lists no samples")


def keyed_generator(key: int | tuple[int, Any], size: int, seed: int) -> tuple[int, np.random.Generator]:
    """Resolve a dataset key into (index, the sample's augmentation generator).

    ``(index, sample_seed)`` (the engine's keyed sampler: seeded by run seed, epoch and index) or a bare
    index (seeded by the dataset's seed and the index).
    """
    index, material = key if isinstance(key, tuple) else (key, None)
    index = operator.index(index)
    if not 0 <= index < size:
        raise IndexError(f"index {index} out of range for {size} samples")
    return index, np.random.default_rng((seed, index) if material is None else material)
