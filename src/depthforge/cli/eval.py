"""``depthforge eval``: score a folder of predictions against a dataset's ground truth.

Prints the averaged metrics in the papers' order and units, and with ``--out`` writes ``per_image.csv``
and ``summary.json`` (which records the protocol name).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depthforge.errors import DataError, DepthforgeError

if TYPE_CHECKING:  # the data, io and metric layers load when the command runs, so that --help stays fast
    import numpy as np

    from depthforge.data.samples import GTSample
    from depthforge.metrics import Protocol

DEFAULT_PROTOCOL = {"kitti": "kitti-devkit", "folder": "mono-zoe", "u4k": "mono-zoe", "cityscapes": "cityscapes-pr"}
# Valid ground-truth depth range of each dataset's evaluation (metres).
DEFAULT_RANGE = {"kitti": (1e-3, 80.0), "folder": (1e-3, 80.0), "u4k": (1e-3, 80.0), "cityscapes": (1e-3, 250.0)}
ALLOWED = {
    "kitti": ("kitti-devkit", "kitti-penet", "mono-zoe", "depthpro-boundary", "mdec"),
    "folder": ("kitti-devkit", "kitti-penet", "mono-zoe", "depthpro-boundary", "mdec"),
    "u4k": ("mono-zoe", "depthpro-boundary", "mdec"),
    "cityscapes": ("cityscapes-pr", "mono-zoe"),
}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``eval`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser("eval", help="evaluate predicted depth maps against ground truth",
                              description=__doc__)
    p.add_argument("--dataset", required=True, choices=sorted(DEFAULT_PROTOCOL))
    p.add_argument("--pred", required=True, type=Path, help="folder of predictions (.png x256, .npy, .pfm)")
    p.add_argument("--gt", required=True, type=Path, help="GT folder (kitti, folder) or dataset root (u4k, cityscapes)")
    p.add_argument("--protocol", default=None,
                   help="metric protocol (default: kitti-devkit, mono-zoe, mono-zoe, cityscapes-pr by dataset)")
    p.add_argument("--out", type=Path, default=None, help="folder for per_image.csv and summary.json")
    p.add_argument("--match-sorted", action="store_true",
                   help="pair predictions with GT by sorted order like the KITTI devkit (names not compared)")
    p.add_argument("--min-depth", type=float, default=None)
    p.add_argument("--max-depth", type=float, default=None)
    p.add_argument("--split", type=Path, default=None, help="u4k: split file (default: every */Disp0/*.npy)")
    p.add_argument("--subset", default="val", help="cityscapes: subset folder under disparity/ (default: val)")
    p.add_argument("--nonfinite", choices=("error", "score"), default="error",
                   help="predictions holding NaN or inf: error (default) or score them as the protocol does")
    p.add_argument("--gt-edges", type=Path, default=None,
                   help="mdec: folder of ground-truth edge maps, <gt stem>.png, non-zero = edge")
    return p


def _pairs(samples: list[GTSample], pred_dir: Path, match_sorted: bool) -> list[tuple[GTSample, Path]]:
    """Match GT samples and prediction files by name (or sorted index), reporting every problem at once."""
    from depthforge.data.folder import index_by_stem
    from depthforge.io import DEPTH_SUFFIXES

    # ``depthforge predict`` output folders hold name.npy beside name.png (the float file is scored) and a
    # name_color.png preview (not a prediction).
    index = index_by_stem(pred_dir, DEPTH_SUFFIXES, "prediction", prefer=(".npy", ".pfm", ".png"))
    index = {k: v for k, v in index.items() if not (k.endswith("_color") and k[: -len("_color")] in index)}
    if match_sorted:
        preds = [index[k] for k in sorted(index)]
        if len(preds) != len(samples):
            raise DataError(pred_dir, f"{len(preds)} predictions but {len(samples)} ground-truth files; "
                            "--match-sorted needs equal counts")
        return list(zip(samples, preds))
    pairs, missing = [], []
    for s in samples:
        hit = next((index[n] for n in s.names if n in index), None)
        if hit is None:
            missing.append(f"{s.path.name} (expected one of {', '.join(n + '.*' for n in s.names)})")
        else:
            pairs.append((s, hit))
    if missing:
        raise DataError(pred_dir, f"{len(missing)} of {len(samples)} predictions missing: {_few(missing)}")
    unused = sorted(set(index.values()) - {path for _, path in pairs})
    if unused:
        print(f"note: {len(unused)} prediction file(s) match no ground truth and are not scored: "
              f"{_few([u.name for u in unused])}", file=sys.stderr)
    return pairs


def _few(names: list[str], limit: int = 3) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return "; ".join(names[:limit]) + more


def _samples(args: argparse.Namespace) -> Iterable[GTSample]:
    from depthforge.data.cityscapes import cityscapes_gt
    from depthforge.data.folder import folder_gt
    from depthforge.data.kitti import kitti_gt
    from depthforge.data.u4k import u4k_gt

    if args.dataset == "kitti":
        return kitti_gt(args.gt)
    if args.dataset == "folder":
        return folder_gt(args.gt)
    if args.dataset == "u4k":
        return u4k_gt(args.gt, args.split)
    return cityscapes_gt(args.gt, args.subset)


def _check_size(protocol: Protocol, pred: np.ndarray, s: GTSample, path: Path) -> None:
    if not protocol.resizes and pred.shape != s.depth.shape:
        raise DataError(path, f"size {pred.shape} does not match ground truth {s.path.name} "
                        f"{s.depth.shape}; {protocol.name} does not resize")


def _gt_edges(args: argparse.Namespace, s: GTSample) -> np.ndarray | None:
    """The ground-truth edge map of ``s`` (``--gt-edges`` folder, a PNG per GT stem, non-zero = edge)."""
    if args.gt_edges is None:
        return None
    from depthforge.io import read_edges

    return read_edges(args.gt_edges / f"{s.path.stem}.png")


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    """Run the evaluation described by ``args``; returns the summary dict (also written with ``--out``)."""
    import numpy as np

    from depthforge.engine.evaluation import Scorer
    from depthforge.io import prepare_output_dir, read_depth, write_json
    from depthforge.metrics import get_protocol

    if args.out is not None:
        prepare_output_dir(args.out)
    name = args.protocol or DEFAULT_PROTOCOL[args.dataset]
    protocol = get_protocol(name)
    if name not in ALLOWED[args.dataset]:
        raise DataError(args.gt, f"protocol {name} is not available for dataset {args.dataset}; "
                        f"choose one of {', '.join(ALLOWED[args.dataset])}")
    if "gt_edges" in protocol.needs and args.gt_edges is None:
        raise DataError(args.gt, f"protocol {name} needs ground-truth edge maps: pass --gt-edges FOLDER")
    lo, hi = DEFAULT_RANGE[args.dataset]
    lo = lo if args.min_depth is None else args.min_depth
    hi = hi if args.max_depth is None else args.max_depth
    pairs = _pairs(list(_samples(args)), args.pred, args.match_sorted)
    scorer = Scorer(protocol, depth_range=(lo, hi), keep_rows=True)
    nonfinite: list[str] = []
    resized: list[str] = []
    for s, pred_path in pairs:
        pred = read_depth(pred_path, strict=False)
        _check_size(protocol, pred, s, pred_path)
        bad = int(np.count_nonzero(~np.isfinite(pred)))
        if bad:
            nonfinite.append(f"{pred_path.name} ({bad} px)")
            if args.nonfinite == "error":
                continue
        if pred.shape != s.depth.shape:
            (ph, pw), (gh, gw) = pred.shape, s.depth.shape
            resized.append(f"{pred_path.name} {ph}x{pw} -> {gh}x{gw}")
        scorer.add(pred, s.depth, s.path.name, gt_edges=_gt_edges(args, s), **s.extras)
        scorer.rows[-1]["pred"] = pred_path.name
    if nonfinite and args.nonfinite == "error":
        raise DataError(args.pred, f"{len(nonfinite)} prediction(s) hold NaN or infinite values: "
                        f"{_few(nonfinite)}; fix them, or pass --nonfinite score to score them as {name} does")
    if nonfinite:
        print(f"note: {len(nonfinite)} prediction(s) hold NaN or infinite values, scored as {name} does: "
              f"{_few(nonfinite)}", file=sys.stderr)
    if resized:
        print(f"note: {len(resized)} prediction(s) resized bilinearly to the ground-truth size ({name}): "
              f"{_few(resized)}", file=sys.stderr)
    summary = scorer.compute()
    n_images = int(summary.pop("n_images"))
    result = {"protocol": name, "reference": protocol.reference, "units": dict(protocol.units),
              "n_images": n_images, "dataset": args.dataset, "depth_range": [lo, hi],
              "n_nonfinite_predictions": len(nonfinite), "n_resized_predictions": len(resized),
              "metrics": summary}
    print(f"{name}: {n_images} images")
    print(protocol.format_table({"mean": summary}))
    if args.out is not None:
        rows = [{"gt": r.pop("name"), "pred": r.pop("pred"), **r} for r in scorer.rows]
        with open(args.out / "per_image.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            w.writeheader()
            w.writerows(rows)
        write_json(args.out / "summary.json", result)
    return result


def run(args: argparse.Namespace) -> int:
    """Entry point of the subcommand: 0 on success, 2 on bad input (one-line message on stderr)."""
    try:
        evaluate(args)
    except DepthforgeError as exc:
        print(f"depthforge eval: error: {exc}", file=sys.stderr)
        return 2
    return 0
