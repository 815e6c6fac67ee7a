"""``depthforge predict``: run a trained completion model on your own data, outside the KITTI tree.

Inputs are RGB + sparse depth (16-bit PNG x256, .npy or .pfm, metres) + semantic map, given as
single files or as folders paired by file stem, at any size (padded internally to a multiple of
32 and cropped back). Writes, per input, ``<stem>.png`` (16-bit, metres x 256), ``<stem>.npy``
(float32 metres) and ``<stem>_color.png`` (colourised).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from depthforge.errors import DataError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="dense depth for your own RGB + sparse depth + semantic maps",
                       description=__doc__)
    p.add_argument("--ckpt", required=True, help="checkpoint (depthforge, Lightning or official .pth.tar)")
    p.add_argument("--rgb", required=True, help="RGB image or folder")
    p.add_argument("--sparse", required=True, help="sparse depth file or folder (0 = missing)")
    p.add_argument("--semantic", required=True, help="3-channel semantic map file or folder")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--model", default=None, help="model variant (default: from the checkpoint)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    p.add_argument("--max-depth", type=float, default=None,
                   help="upper end of the colour scale in metres (default: 99th percentile per image)")


def _pairs(args: argparse.Namespace) -> list[tuple[str, Path, Path, Path]]:
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


def run(args: argparse.Namespace) -> int:
    import numpy as np
    from tqdm import tqdm

    from depthforge.inference.completion import CompletionPredictor
    from depthforge.io import prepare_output_dir, read_depth, read_rgb, read_semantic, write_depth_png, write_npy
    from depthforge.viz import colorize, save_png

    out = prepare_output_dir(args.out)
    pairs = _pairs(args)
    predictor = CompletionPredictor.from_checkpoint(args.ckpt, args.model, device=args.device)
    for name, rgb_path, sparse_path, sem_path in tqdm(pairs, desc="predict", unit="img"):
        rgb, sem, sparse = read_rgb(rgb_path), read_semantic(sem_path), read_depth(sparse_path)
        shapes = {rgb_path: rgb.shape[:2], sem_path: sem.shape[:2], sparse_path: sparse.shape[:2]}
        if len(set(shapes.values())) != 1:
            sizes = ", ".join(f"{p.name} {h}x{w}" for p, (h, w) in shapes.items())
            raise DataError(sparse_path, f"inputs differ in size ({sizes})")
        depth = predictor.predict(rgb, sem, sparse)
        write_depth_png(out / f"{name}.png", depth)
        write_npy(out / f"{name}.npy", depth.astype(np.float32))
        hi = args.max_depth or float(np.percentile(depth[np.isfinite(depth)], 99))
        save_png(out / f"{name}_color.png", colorize(depth, vmin=0.0, vmax=hi, cmap="magma_r"))
    print(f"{len(pairs)} prediction(s) written to {out}")
    return 0
