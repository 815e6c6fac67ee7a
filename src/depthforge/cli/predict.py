"""``depthforge predict``: dense metric depth for your own data.

Monocular (ZoeDepth-N or PatchRefiner): --image takes a file, a folder or a glob; --ckpt takes a ZoeDepth
or PatchRefiner checkpoint, or a PatchRefiner pair (coarse, then refiner). PatchRefiner runs tiled
(--mode m1 / m2 / rN, --patch-split-num, --process-num).

Depth completion (SemAttNet): --rgb, --sparse (16-bit PNG x256, .npy or .pfm, metres) and --semantic, as
single files or as folders paired by file stem, at any size (padded to the model's size multiple).

Writes per input <stem>.png (16-bit, metres x 256; values past 256 m are clipped with a warning),
<stem>.npy (float32 metres), <stem>_color.png (a colourised preview) and, with intrinsics or a field of
view, <stem>.ply (a point cloud coloured by the image).
"""

from __future__ import annotations

import argparse
import glob
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from depthforge.errors import ConfigError, DataError

if TYPE_CHECKING:
    import numpy as np

MAX_PNG_DEPTH = 65535 / 256  # metres a 16-bit PNG at x256 can hold


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="dense depth for your own images (monocular) or RGB + sparse + semantic",
                       description=__doc__)
    p.add_argument("--ckpt", required=True, nargs="+",
                   help="checkpoint; for PatchRefiner also a pair: COARSE REFINER")
    p.add_argument("--image", help="monocular: image file, folder or glob (png, jpg)")
    p.add_argument("--rgb", help="completion: RGB image or folder")
    p.add_argument("--sparse", help="completion: sparse depth file or folder (0 = missing)")
    p.add_argument("--semantic", help="completion: 3-channel semantic map file or folder")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--model", default=None, help="completion: model variant (default: from the checkpoint)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    # the names of depthforge.inference.precision.PRECISIONS, spelled out so that --help does not import torch
    p.add_argument("--precision", default="32-true", choices=("32-true", "bf16-mixed", "16-mixed"),
                   help="32-true (default, the reference's); bf16-mixed is faster on CPUs with AMX or "
                        "AVX512-BF16 and on recent GPUs, at a small cost in accuracy")
    p.add_argument("--mode", default="m1", help="PatchRefiner tiling mode: m1, m2 or r<N> (e.g. r32)")
    p.add_argument("--patch-split-num", type=int, nargs=2, default=(4, 4), metavar=("ROWS", "COLS"),
                   help="PatchRefiner tiles per image side (default 4 4)")
    p.add_argument("--process-num", type=int, default=4, help="PatchRefiner: tiles per forward")
    p.add_argument("--process-shape", type=int, nargs=2, default=None, metavar=("H", "W"),
                   help="size the network sees, multiples of 32 (default: the checkpoint's, else 384 512); "
                        "needed for a model trained at another size, which the reference's files do not record")
    p.add_argument("--fit", choices=("error", "pad", "crop"), default="error",
                   help="PatchRefiner: an image the tiling does not divide is an error, padded or cropped")
    p.add_argument("--gray-scale", action="store_true", help="grey preview instead of the Spectral colour map")
    p.add_argument("--max-depth", type=float, default=None,
                   help="upper end of the preview's scale in metres (default: 99th percentile per image)")
    p.add_argument("--fx", type=float, help="point cloud: focal length x (pixels)")
    p.add_argument("--fy", type=float, help="point cloud: focal length y (pixels)")
    p.add_argument("--cx", type=float, help="point cloud: principal point x (pixels)")
    p.add_argument("--cy", type=float, help="point cloud: principal point y (pixels)")
    p.add_argument("--fov", type=float, help="point cloud: horizontal field of view in degrees (instead of fx...)")


def _completion_inputs(args: argparse.Namespace) -> list[tuple[str, Path, Path, Path]]:
    if not (args.rgb and args.sparse and args.semantic):
        raise DataError(None, "give --image (monocular) or all of --rgb, --sparse and --semantic (completion)")
    rgb, sparse, sem = Path(args.rgb), Path(args.sparse), Path(args.semantic)
    kinds = {p.is_dir() for p in (rgb, sparse, sem)}
    if len(kinds) != 1:
        raise DataError(None, "--rgb, --sparse and --semantic must be all files or all folders")
    if rgb.is_dir():
        from depthforge.data.folder import scan_folders

        return [(s.name, s.image, s.sparse, s.semantic) for s in scan_folders(rgb, sparse, sem)]
    for path in (rgb, sparse, sem):
        if not path.is_file():
            raise DataError(path, "file not found")
    return [(rgb.stem, rgb, sparse, sem)]


def _images(spec: str) -> list[Path]:
    """The images a file, a folder or a glob names, sorted; none is an error."""
    from depthforge.io import IMAGE_SUFFIXES

    path = Path(spec)
    if path.is_dir():
        found = [p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
    elif path.is_file():
        found = [path]
    else:
        found = [Path(p) for p in glob.glob(spec) if Path(p).suffix.lower() in IMAGE_SUFFIXES]
    if not found:
        raise DataError(spec, f"no images ({', '.join(IMAGE_SUFFIXES)}) found")
    stems = [p.stem for p in found]
    if len(set(stems)) != len(stems):
        raise DataError(spec, "two images share a file stem; their outputs would overwrite each other")
    return sorted(found)


def _write(out: Path, name: str, depth: np.ndarray, args: argparse.Namespace, image: np.ndarray | None) -> None:
    import numpy as np

    from depthforge.inference.monocular import intrinsics_from_fov, point_cloud
    from depthforge.io import write_depth_png, write_npy, write_ply
    from depthforge.viz import colorize, save_png

    finite = depth[np.isfinite(depth)]
    if finite.size and float(finite.max()) > MAX_PNG_DEPTH:
        n = int((finite > MAX_PNG_DEPTH).sum())
        print(f"warning: {name}: {n} pixel(s) beyond {MAX_PNG_DEPTH:.1f} m clipped in {name}.png "
              f"(the .npy keeps them)", file=sys.stderr)
    write_depth_png(out / f"{name}.png", depth)
    write_npy(out / f"{name}.npy", depth.astype(np.float32))
    hi = args.max_depth or (float(np.percentile(finite, 99)) if finite.size else 1.0)
    cmap = "gray" if args.gray_scale else "Spectral"
    save_png(out / f"{name}_color.png", colorize(depth, vmin=0.0, vmax=hi, cmap=cmap))
    intrinsics = (args.fx, args.fy, args.cx, args.cy)
    if image is not None and (args.fov is not None or all(v is not None for v in intrinsics)):
        h, w = depth.shape
        fx, fy, cx, cy = intrinsics_from_fov(w, h, args.fov) if args.fov is not None else intrinsics
        write_ply(out / f"{name}.ply", *point_cloud(depth, image, fx, fy, cx, cy))


def _check_output_options(args: argparse.Namespace) -> None:
    """Options of the written files, checked before a model is built and the first file is written."""
    intrinsics = (args.fx, args.fy, args.cx, args.cy)
    if args.fov is not None and any(v is not None for v in intrinsics):
        raise ConfigError("give --fov or --fx --fy --cx --cy for the point cloud, not both")
    if any(v is not None for v in intrinsics) and None in intrinsics:
        raise ConfigError("a point cloud needs all of --fx --fy --cx --cy, or --fov")
    if args.fov is not None and not 0 < args.fov < 180:
        raise ConfigError(f"--fov must be between 0 and 180 degrees, got {args.fov}")
    if any(v is not None and not 0 < v < math.inf for v in (args.fx, args.fy)):
        raise ConfigError(f"--fx and --fy must be finite positive focal lengths, got {args.fx}, {args.fy}")
    if args.max_depth is not None and not 0 < args.max_depth < math.inf:
        raise ConfigError(f"--max-depth must be a finite positive depth (metres), got {args.max_depth}")


def _monocular(args: argparse.Namespace, out: Path) -> int:
    from tqdm import tqdm

    from depthforge.inference.monocular import MonocularPredictor, read_user_image

    images = _images(args.image)
    predictor = MonocularPredictor.from_checkpoints(
        args.ckpt, device=args.device, mode=args.mode, patch_split_num=tuple(args.patch_split_num),
        process_num=args.process_num, fit=args.fit, precision=args.precision,
        process_shape=tuple(args.process_shape) if args.process_shape else None)
    for path in tqdm(images, desc="predict", unit="img"):
        image, notes = read_user_image(path)
        for note in notes:
            print(f"note: {path.name}: {note}", file=sys.stderr)
        _write(out, path.stem, predictor.predict(image, name=str(path)), args, image)
    print(f"{len(images)} prediction(s) written to {out}")
    return 0


def _completion(args: argparse.Namespace, out: Path) -> int:
    from tqdm import tqdm

    from depthforge.inference.completion import CompletionPredictor
    from depthforge.io import read_depth, read_rgb, read_semantic

    pairs = _completion_inputs(args)
    if len(args.ckpt) != 1:
        raise DataError(None, "depth completion takes one checkpoint")
    predictor = CompletionPredictor.from_checkpoint(args.ckpt[0], args.model, device=args.device,
                                                   precision=args.precision)
    for name, rgb_path, sparse_path, sem_path in tqdm(pairs, desc="predict", unit="img"):
        rgb, sem, sparse = read_rgb(rgb_path), read_semantic(sem_path), read_depth(sparse_path)
        shapes = {rgb_path: rgb.shape[:2], sem_path: sem.shape[:2], sparse_path: sparse.shape[:2]}
        if len(set(shapes.values())) != 1:
            sizes = ", ".join(f"{p.name} {h}x{w}" for p, (h, w) in shapes.items())
            raise DataError(sparse_path, f"inputs differ in size ({sizes})")
        _write(out, name, predictor.predict(rgb, sem, sparse), args, rgb.astype("float32") / 255)
    print(f"{len(pairs)} prediction(s) written to {out}")
    return 0


def run(args: argparse.Namespace) -> int:
    from depthforge.io import prepare_output_dir

    _check_output_options(args)
    out = prepare_output_dir(args.out)
    return _monocular(args, out) if args.image else _completion(args, out)
