"""``depthforge demo``: synthetic KITTI -> train a small SemAttNet on the CPU -> compare with baselines.

1. renders a small synthetic set in the exact KITTI depth-completion layout;
2. trains a reduced-width SemAttNet with the regular engine (progress bar, checkpoints, logs);
3. scores it on the held-out ``val_selection_cropped`` frames against IP-Basic and
   nearest-neighbour fill with the KITTI metrics (kitti-penet protocol);
4. writes colourised depth, error maps, a comparison grid and training curves.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from depthforge.batch import GT, IMAGE, SEMANTIC, SPARSE

if TYPE_CHECKING:  # the heavy imports happen when the command runs, so that --help stays fast
    import numpy as np


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="synthetic data -> train -> compare with IP-Basic (CPU, minutes)",
                       description=__doc__)
    p.add_argument("--out", default="demo_runs/semattnet", help="output folder")
    p.add_argument("--drives", type=int, default=2, help="synthetic training drives")
    p.add_argument("--frames", type=int, default=12, help="frames per drive")
    p.add_argument("--held-out", type=int, default=8, help="held-out val_selection_cropped frames")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                   help="overrides of the embedded demo config, e.g. trainer.epochs=2")


def _baseline_rows(samples: list[dict[str, np.ndarray]]) -> dict[str, list[np.ndarray]]:
    from depthforge.baselines import fill_in_fast, nearest_fill

    return {
        "IP-Basic (fill_in_fast)": [fill_in_fast(s[SPARSE]) for s in samples],
        "nearest-neighbour fill": [nearest_fill(s[SPARSE]) for s in samples],
    }


def _score(preds: list[np.ndarray], samples: list[dict[str, np.ndarray]], protocol: str) -> dict[str, float]:
    from depthforge.engine.evaluation import Scorer

    scorer = Scorer(protocol)
    for pred, s in zip(preds, samples):
        scorer.add(pred, s[GT])
    means = scorer.compute()
    return {k: means[k] for k in scorer.protocol.keys}


def run(args: argparse.Namespace) -> int:
    import torch

    from depthforge.config import load_config, merge, parse_overrides
    from depthforge.configs import packaged
    from depthforge.engine.datamodule import build_split
    from depthforge.engine.evaluation import load_model
    from depthforge.engine.runner import train
    from depthforge.io import prepare_output_dir, write_json
    from depthforge.metrics import get_protocol
    from depthforge.synth import write_kitti

    t0 = time.perf_counter()
    out = prepare_output_dir(args.out)
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    print(f"[1/4] rendering synthetic KITTI-format data into {out / 'data'}")
    info = write_kitti(out / "data", drives=args.drives, frames=args.frames, seed=args.seed,
                       n_val_select=args.held_out, n_test=2)
    paths = {"data": {"options": {"data_folder": str(info.depth_root), "data_folder_rgb": str(info.rgb_root),
                                  "data_semantic": str(info.semantic_root)}},
             "run": {"work_dir": str(out), "name": "train"}}
    cfg = load_config(packaged("demo_semattnet_tiny.yaml"), merge(paths, parse_overrides(args.cfg_options)))

    if (out / "train").exists():  # the demo's own run folder: a new demo run replaces it
        import shutil

        print(f"      replacing the previous demo run in {out / 'train'}")
        shutil.rmtree(out / "train")
    print("[2/4] training a reduced-width SemAttNet on the CPU")
    run_dir = train(cfg)

    print("[3/4] scoring held-out frames (val_selection_cropped) against IP-Basic and nearest fill")
    cfg.data.max_val_samples = None
    model = load_model(cfg, run_dir / "checkpoints" / "last.ckpt")
    dataset = build_split(cfg, "val")
    samples: list[dict[str, np.ndarray]] = []
    preds: list[np.ndarray] = []
    with torch.inference_mode():
        for i in range(len(dataset)):  # type: ignore[arg-type]
            item = dataset[i]
            batch = {k: v[None] for k, v in item.items() if isinstance(v, torch.Tensor)}
            preds.append(model(batch)["depth"][0, 0].numpy())
            samples.append({IMAGE: item[IMAGE].permute(1, 2, 0).byte().numpy(),
                            SEMANTIC: item[SEMANTIC].permute(1, 2, 0).byte().numpy(),
                            SPARSE: item[SPARSE][0].numpy(), GT: item[GT][0].numpy()})
    rows = {"SemAttNet (demo, w=%g)" % cfg.model.kwargs.get("width_mult", 1.0): preds}
    rows.update(_baseline_rows(samples))
    protocol = get_protocol(cfg.eval.protocol or "kitti-penet")
    table = {name: _score(p, samples, protocol.name) for name, p in rows.items()}
    text = protocol.format_table(table)
    print(f"KITTI metrics on {len(samples)} held-out frames (protocol {protocol.name}):")
    print(text)

    print("[4/4] writing pictures")
    _pictures(out / "figures", samples, rows)
    (out / "results.md").write_text(
        f"KITTI metrics on {len(samples)} held-out synthetic frames, protocol {protocol.name}\n\n```\n{text}\n```\n")
    write_json(out / "results.json", table)
    print(f"done in {time.perf_counter() - t0:.0f} s; results, pictures and curves in {out}")
    return 0


def _pictures(folder: Path, samples: list[dict[str, np.ndarray]], rows: dict[str, list[np.ndarray]]) -> None:
    import numpy as np

    from depthforge.viz import colorize, comparison_grid, error_map, save_png

    names = list(rows)
    ours = rows[names[0]]
    hi = float(np.percentile(np.concatenate([s[GT][s[GT] > 0] for s in samples]), 99))
    for i, s in enumerate(samples):
        save_png(folder / f"{i:03d}_depth.png", colorize(ours[i], vmin=0.0, vmax=hi))
        save_png(folder / f"{i:03d}_error.png", error_map(ours[i], s[GT]))
        panels = [error_map(rows[n][i], s[GT]) for n in names]
        save_png(folder / f"{i:03d}_error_vs_baselines.png", np.concatenate(panels, axis=0))
    grid_rows = [{**s, "pred": p} for s, p in zip(samples, ours)]
    save_png(folder / "comparison_grid.png", comparison_grid(grid_rows[:8], vmin=0.0, vmax=hi))
