"""``depthforge synth {kitti,u4k,cityscapes} OUT``: write a procedural synthetic data set."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``synth`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser(
        "synth",
        help="write a synthetic data set in the KITTI DC, UnrealStereo4K or CityScapes layout",
        description="Render procedural street scenes (exact ray-cast depth) in a data set's on-disk format.",
    )
    p.add_argument("format", choices=("kitti", "u4k", "cityscapes"), help="on-disk layout to write")
    p.add_argument("out", type=Path, help="output root folder")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same bytes)")
    p.add_argument("--frames", type=int, default=None,
                   help="frames per drive / scene / city (default: kitti 8, u4k 4, cityscapes 3)")
    p.add_argument("--drives", type=int, default=2, help="kitti: training drives")
    p.add_argument("--val-drives", type=int, default=1, help="kitti: validation drives")
    p.add_argument("--n-val-select", type=int, default=4, help="kitti: images in val_selection_cropped")
    p.add_argument("--n-test", type=int, default=4, help="kitti: images in test_depth_completion_anonymous")
    p.add_argument("--scenes", type=int, default=3, help="u4k: scene folders (the last one is test_out)")
    p.add_argument("--cities", type=int, default=2, help="cityscapes: training cities")
    p.add_argument("--val-cities", type=int, default=1, help="cityscapes: validation cities")
    p.add_argument("--height", type=int, default=None,
                   help="u4k/cityscapes: image height (default 216 / 256)")
    p.add_argument("--width", type=int, default=None, help="u4k/cityscapes: image width (default 384 / 512)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Write the requested set and print where it went; returns the exit status."""
    from depthforge import synth
    from depthforge.io import prepare_output_dir

    prepare_output_dir(args.out, "synthetic data folder")
    progress = not args.no_progress

    def pick(value: int | None, default: int) -> int:
        return default if value is None else value

    try:
        if args.format == "kitti":
            if args.height is not None or args.width is not None:
                print("depthforge synth: error: --height/--width do not apply to kitti (frames are 1242x375)",
                      file=sys.stderr)
                return 2
            info = synth.write_kitti(args.out, drives=args.drives, frames=pick(args.frames, 8),
                                     seed=args.seed,
                                     val_drives=args.val_drives, n_val_select=args.n_val_select,
                                     n_test=args.n_test, progress=progress)
            print(f"KITTI depth root: {info.depth_root}\nRGB root: {info.rgb_root}\n"
                  f"semantic root: {info.semantic_root}\n"
                  f"images: train {info.n_train}, val {info.n_val}, val-select {info.n_val_select}, "
                  f"test {info.n_test}")
        elif args.format == "u4k":
            u = synth.write_u4k(args.out, scenes=args.scenes, frames=pick(args.frames, 4),
                                height=pick(args.height, 216),
                                width=pick(args.width, 384), seed=args.seed, progress=progress)
            print(f"UnrealStereo4K root: {u.root}\nsplit lines: {u.splits}")
        else:
            c = synth.write_cityscapes(args.out, cities=args.cities, frames=pick(args.frames, 3),
                                       height=pick(args.height, 256), width=pick(args.width, 512),
                                       seed=args.seed,
                                       val_cities=args.val_cities, progress=progress)
            print(f"CityScapes root: {c.root}\nimages: {c.counts}")
    except ValueError as err:
        print(f"depthforge synth: error: {args.format}: {err}", file=sys.stderr)
        return 2
    return 0
