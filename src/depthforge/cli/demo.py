"""``depthforge demo``: the embedded default. Synthetic data -> training on the CPU -> tables, pictures and
one self-contained ``report.html`` for both systems.

- ``semattnet``: synthetic KITTI -> a reduced-width SemAttNet -> compared with IP-Basic and nearest fill;
- ``patchrefiner``: synthetic Unreal4KStereo -> a reduced ZoeDepth coarse model, then a reduced PatchRefiner
  on it -> coarse vs m1 / m2 / r32 vs joint bilateral upsampling, with boundary and tile-seam measures;
- ``all`` (the default): both, then the report.
"""

from __future__ import annotations

import argparse
import sys

WHICH = ("all", "semattnet", "patchrefiner")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="synthetic data -> train -> compare with baselines -> report.html (CPU)",
                       description=__doc__)
    p.add_argument("which", nargs="?", choices=WHICH, default="all", help="which demo (default: all)")
    p.add_argument("--out", default="demo_runs",
                   help="output folder (each demo writes a sub-folder; report.html goes here)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--drives", type=int, default=2, help="SemAttNet: synthetic training drives")
    p.add_argument("--frames", type=int, default=12, help="SemAttNet: frames per drive")
    p.add_argument("--held-out", type=int, default=8, help="SemAttNet: held-out val_selection_cropped frames")
    p.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                   help="SemAttNet: overrides of the embedded demo config, e.g. trainer.epochs=2")


def run(args: argparse.Namespace) -> int:
    import torch

    from depthforge.demos import DemoResult
    from depthforge.demos.report import write_report
    from depthforge.io import prepare_output_dir

    out = prepare_output_dir(args.out)
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    results: list[DemoResult] = []
    if args.which in ("all", "semattnet"):
        from depthforge.demos import semattnet

        results.append(semattnet.run(out / "semattnet", semattnet.Options(
            drives=args.drives, frames=args.frames, held_out=args.held_out, seed=args.seed,
            cfg_options=list(args.cfg_options))))
    if args.which in ("all", "patchrefiner"):
        from depthforge.demos import patchrefiner

        results.append(patchrefiner.run(out / "patchrefiner", patchrefiner.Options(seed=args.seed)))
    command = "depthforge " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["demo"] else "depthforge demo"
    for r in results:  # each section states the command that reproduces it alone
        r.commands.insert(0, f"depthforge demo {r.name} --out {out} --seed {args.seed}")
    report = write_report(out / "report.html", results, command=command)
    print(f"report: {report} (open it in a browser)")
    return 0
