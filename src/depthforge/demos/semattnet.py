"""SemAttNet demo: synthetic KITTI -> train a small SemAttNet on the CPU -> compare with classical fills.

1. renders a small synthetic set in the exact KITTI depth-completion layout;
2. trains a reduced-width SemAttNet with the regular engine (progress bar, checkpoints, logs) in the
   reference's three stages, scaled down (``configs/demo_semattnet_stages.yaml``): the three-branch backbone
   with deep supervision, then the dilated CSPN++ head on the frozen backbone, then the full model with the
   backbone at lr/10;
3. scores it on the held-out ``val_selection_cropped`` frames against IP-Basic and
   nearest-neighbour fill with the KITTI metrics (kitti-penet protocol);
4. draws labelled figures (RGB, sparse input, ground truth, every method on one depth scale, their errors,
   a zoom where the methods differ) and the training curves of all stages.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depthforge.batch import GT, IMAGE, SEMANTIC, SPARSE
from depthforge.demos import DemoResult, Figure

if TYPE_CHECKING:  # the heavy imports happen when the demo runs, so that --help stays fast
    import numpy as np

    from depthforge.config import Config


@dataclass
class Options:
    drives: int = 2
    frames: int = 12
    held_out: int = 8
    seed: int = 0
    cfg_options: list[str] = field(default_factory=list)
    """Overrides of the embedded config (``key=value``), applied to every stage after the stage's own."""
    figures: int = 3
    """Held-out frames drawn as labelled figures."""


@dataclass(frozen=True)
class Stage:
    """One training stage: a normal ``train(cfg)`` run of the embedded config with these overrides."""

    name: str
    what: str
    overrides: dict[str, Any]


def _stages() -> tuple[Stage, ...]:
    """The stages of ``configs/demo_semattnet_stages.yaml`` (data: the family's names stay out of the code)."""
    import yaml

    from depthforge.configs import packaged

    with packaged("demo_semattnet_stages.yaml").open(encoding="utf-8") as fh:
        table = yaml.safe_load(fh)
    return tuple(Stage(str(s["name"]), str(s["what"]), dict(s["overrides"])) for s in table["stages"])


STAGES: tuple[Stage, ...] = _stages()


def stage_configs(base: dict[str, Any], user: dict[str, Any]) -> list[Config]:
    """The config of every stage: embedded config <- ``base`` (paths) <- stage overrides <- ``user``.

    ``run.epoch_offset`` continues the epoch count and ``run.load_from`` is set to the previous stage's
    ``last.ckpt`` (``<work_dir>/<stage>/checkpoints/last.ckpt``).
    """
    from depthforge.config import load_config, merge
    from depthforge.configs import packaged

    configs: list[Config] = []
    offset = 0
    for stage in STAGES:
        over = merge(merge(base, stage.overrides), user)
        over = merge(over, {"run": {"name": stage.name, "epoch_offset": offset}})
        if configs:
            prev = configs[-1]
            over = merge(over, {"run": {"load_from": str(Path(prev.run.work_dir) / prev.run.name / "checkpoints"
                                                         / "last.ckpt")}})
        cfg = load_config(packaged("demo_semattnet_tiny.yaml"), over)
        offset += cfg.trainer.epochs
        configs.append(cfg)
    return configs


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


def run(out: Path, opts: Options) -> DemoResult:
    import torch

    from depthforge.config import parse_overrides
    from depthforge.engine.datamodule import build_split
    from depthforge.engine.evaluation import load_model
    from depthforge.engine.runner import train
    from depthforge.io import prepare_output_dir, write_json
    from depthforge.metrics import get_protocol
    from depthforge.synth import write_kitti

    t0 = time.perf_counter()
    out = prepare_output_dir(out)
    print(f"[1/4] rendering synthetic KITTI-format data into {out / 'data'}")
    info = write_kitti(out / "data", drives=opts.drives, frames=opts.frames, seed=opts.seed,
                       n_val_select=opts.held_out, n_test=2)
    paths = {"data": {"options": {"data_folder": str(info.depth_root), "data_folder_rgb": str(info.rgb_root),
                                  "data_semantic": str(info.semantic_root)}},
             "run": {"work_dir": str(out / "train")}}
    configs = stage_configs(paths, parse_overrides(opts.cfg_options))

    if (out / "train").exists():  # the demo's own run folders: a new demo run replaces them
        import shutil

        print(f"      replacing the previous demo run in {out / 'train'}")
        shutil.rmtree(out / "train")
    width = configs[-1].model.kwargs.get("width_mult", 1.0)
    print(f"[2/4] training a reduced-width SemAttNet (w={width:g}) on the CPU in {len(STAGES)} stages")
    run_dirs: list[Path] = []
    for stage, cfg in zip(STAGES, configs):
        first, last = cfg.run.epoch_offset, cfg.run.epoch_offset + cfg.trainer.epochs - 1
        print(f"      {stage.what} (epochs {first}-{last})")
        run_dirs.append(train(cfg))
    cfg = configs[-1]

    print("[3/4] scoring held-out frames (val_selection_cropped) against IP-Basic and nearest fill")
    cfg.data.max_val_samples = None
    model = load_model(cfg, run_dirs[-1] / "checkpoints" / "last.ckpt")
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
    rows = {f"SemAttNet (demo, w={width:g})": preds}
    rows.update(_baseline_rows(samples))
    protocol = get_protocol(cfg.eval.protocol or "kitti-penet")
    table = {name: _score(p, samples, protocol.name) for name, p in rows.items()}
    text = protocol.format_table(table)
    print(f"KITTI metrics on {len(samples)} held-out frames (protocol {protocol.name}):")
    print(text)

    print("[4/4] drawing labelled figures and training curves")
    figures = _pictures(out / "figures", samples, rows, opts.figures)
    curves = _curves(out / "figures" / "curves.png", run_dirs)
    if curves is not None:
        spans = ", ".join(f"{s.name} {c.run.epoch_offset}-{c.run.epoch_offset + c.trainer.epochs - 1}"
                          for s, c in zip(STAGES, configs))
        figures.append(Figure(curves, f"training curves of the three stages (epochs: {spans}); train = the "
                                      "training crops, val = the first held-out frames during training"))
    (out / "results.md").write_text(
        f"KITTI metrics on {len(samples)} held-out synthetic frames, protocol {protocol.name}\n\n```\n{text}\n```\n")
    write_json(out / "results.json", table)
    seconds = time.perf_counter() - t0
    print(f"done in {seconds:.0f} s; results, pictures and curves in {out}")
    recipe = "; ".join(f"{s.name}: {c.trainer.epochs} epochs" for s, c in zip(STAGES, configs))
    return DemoResult(
        name="semattnet", title="SemAttNet depth completion (synthetic KITTI)", out=out, table=table,
        columns={k: protocol.header(k) for k in protocol.keys},
        figures=figures, seconds=seconds,
        commands=_commands(out, opts, configs),
        notes=[(f"KITTI metrics ({protocol.name} protocol) on {len(samples)} held-out synthetic "
                f"val_selection_cropped frames; the model is trained on {opts.drives} drives x {opts.frames} "
                "frames on the CPU."),
               ("Training follows the reference recipe's stages, scaled down (width, crop, epochs; a larger "
                "learning rate for the few steps, 10x that for the depth heads' BatchNorm in stage 1): the "
                "three-branch backbone with deep supervision, then the dilated CSPN++ head on the frozen "
                f"backbone, then the whole model with the backbone at lr/10 ({recipe}); every stage uses the "
                "reference's masked L1 criterion (-c l1).")])


def _commands(out: Path, opts: Options, configs: list[Config]) -> list[str]:
    """The same data and stages by hand, into ``<out>/rerun`` (each stage's saved config, chained)."""
    rerun = out / "rerun"
    cmds = [(f"depthforge synth kitti {out / 'data'} --drives {opts.drives} --frames {opts.frames} "
             f"--n-val-select {opts.held_out} --n-test 2 --seed {opts.seed}")]
    previous: str | None = None
    for cfg in configs:
        cmd = f"depthforge train {Path(cfg.run.work_dir) / cfg.run.name / 'config.yaml'} --work-dir {rerun}"
        if previous is not None:
            cmd += f" --load-from {rerun / previous / 'checkpoints' / 'last.ckpt'}"
        cmds.append(cmd)
        previous = cfg.run.name
    return cmds


def _curves(path: Path, run_dirs: list[Path]) -> Path | None:
    """One ``train.csv`` / ``val.csv`` over all stages (their epochs already continue) and their curves."""
    from depthforge.viz import plot_curves

    merged: list[Path] = []
    for name in ("train", "val"):
        lines: list[str] = []
        for run_dir in run_dirs:
            csv = run_dir / f"{name}.csv"
            if csv.is_file():
                rows = csv.read_text().splitlines()
                lines.extend(rows if not lines else rows[1:])  # one header
        if lines:
            target = run_dirs[-1].parent / f"{name}.csv"
            target.write_text("\n".join(lines) + "\n")
            merged.append(target)
    if not merged:
        return None
    return plot_curves(merged, path, columns=("rmse", "mae", "delta1"),
                       title="SemAttNet demo: backbone -> CSPN++ init -> full model")


def frame_panels(sample: dict[str, np.ndarray], preds: dict[str, np.ndarray], vmax: float) -> list[Any]:
    """RGB, sparse input, ground truth, every method on one depth scale ``[0, vmax]``, then their errors."""
    import numpy as np

    from depthforge.viz import Panel

    gt = sample[GT]
    valid = np.isfinite(gt) & (gt > 0)
    errors = {n: np.where(valid, np.abs(p - gt), np.nan) for n, p in preds.items()}
    stacked = np.concatenate([e[valid] for e in errors.values()])
    emax = float(np.percentile(stacked, 98)) if stacked.size else 1.0
    panels = [Panel("RGB", sample[IMAGE], kind="image"),
              Panel("sparse LiDAR input", sample[SPARSE], vmin=0.0, vmax=vmax),
              Panel("ground truth", gt, vmin=0.0, vmax=vmax)]
    panels += [Panel(name, p, vmin=0.0, vmax=vmax) for name, p in preds.items()]
    panels += [Panel(f"|error| {name}", e, kind="error", vmin=0.0, vmax=max(emax, 1e-3))
               for name, e in errors.items()]
    return panels


def _pictures(folder: Path, samples: list[dict[str, np.ndarray]], rows: dict[str, list[np.ndarray]],
              count: int) -> list[Figure]:
    import numpy as np

    from depthforge.viz import find_zoom, panel_figure

    gts = [s[GT][s[GT] > 0] for s in samples]
    vmax = float(np.percentile(np.concatenate(gts), 99)) if any(g.size for g in gts) else 80.0
    figures: list[Figure] = []
    for i, s in enumerate(samples[:count]):
        preds = {name: p[i] for name, p in rows.items()}
        h, w = s[GT].shape
        zoom = find_zoom(list(preds.values()), s[GT], (max(1, h // 4), max(1, w // 6)))
        path = panel_figure(frame_panels(s, preds, vmax), folder / f"frame_{i:03d}.png", columns=3, zoom=zoom,
                            title=f"held-out frame {i}: depth in metres on one scale for every method")
        figures.append(Figure(path, (
            f"held-out frame {i}: RGB, sparse LiDAR input, ground truth, then {', '.join(preds)} on one depth "
            f"scale (0-{vmax:.0f} m, black = no value) and their absolute errors against the ground truth; "
            f"the lower rows zoom into the box (rows {zoom[0]}-{zoom[0] + zoom[2] - 1}, columns "
            f"{zoom[1]}-{zoom[1] + zoom[3] - 1}) where the methods differ most")))
    return figures
