"""PatchRefiner demo: synthetic Unreal4KStereo -> a reduced coarse ZoeDepth, then a reduced PatchRefiner on it
-> coarse vs tiled refinement vs joint bilateral upsampling, on held-out frames.

1. renders street scenes (buildings, cars, trees, thin poles) in the Unreal4KStereo layout;
2. trains the coarse ZoeDepth, then PatchRefiner on the frozen coarse model, with the guide's own command
   (``tools/train.py``) and its reference-dialect configs (the ``*_demo.py`` twins), on the CPU;
3. scores the held-out scene (``test_out``) with the U4K protocol (``mono-zoe`` with SEE), the boundary
   metrics on Canny edges of the ground truth and Depth Pro's scale-invariant boundary F1, plus the tile-seam
   measure of every tiled mode;
4. writes colourised depth, error maps, a zoom on a boundary region, ``results.md`` and ``results.json``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depthforge.demos import DemoResult, Figure
from depthforge.errors import ConfigError, DepthforgeError

if TYPE_CHECKING:
    import numpy as np
    import torch

# results.json keys: the protocols' own names (Depth Pro's boundary F1 is reported as si_boundary_f1);
# HEADERS labels them, plus the tiled modes' seam measure, in table order
KEYS: tuple[str, ...] = ("rmse", "abs_rel", "see", "EdgeAcc", "EdgeComp", "precision", "recall", "f1_score",
                         "si_boundary_f1")
HEADERS = {"rmse": "RMSE m", "abs_rel": "AbsRel", "see": "SEE m", "EdgeAcc": "EdgeAcc px", "EdgeComp": "EdgeComp px",
           "precision": "P", "recall": "R", "f1_score": "F1", "si_boundary_f1": "SI-BF1", "seam": "seam"}
METHODS = {"coarse": "coarse ZoeDepth, upsampled", "m1": "PatchRefiner m1", "m2": "PatchRefiner m2",
           "r32": "PatchRefiner r32", "bilateral": "coarse + joint bilateral"}
TILED = ("m1", "m2", "r32")
COARSE_CONFIG = "configs/patchfusion_zoedepth/zoedepth_coarse_pretrain_u4k_demo.py"
PR_CONFIG = "configs/patchrefiner_zoedepth/pr_u4k_demo.py"


@dataclass
class Options:
    seed: int = 0
    scenes: int = 10
    frames: int = 16
    height: int = 256
    width: int = 384
    split: tuple[int, int] = (4, 4)


def repository_root() -> Path:
    """The source checkout holding ``configs/`` and ``tools/`` (the demo runs the guide's own commands)."""
    root = Path(__file__).resolve().parents[3]
    if not (root / COARSE_CONFIG).is_file():
        raise ConfigError(f"{root / COARSE_CONFIG}: not found; the PatchRefiner demo runs the guide's configs of a "
                          "source checkout (git clone, then make demo)")
    return root


def _train(args: list[str], stage: str) -> None:
    from depthforge.cli.patchrefiner_tools import train_main

    if train_main(args) != 0:
        raise DepthforgeError(f"the {stage} training failed (its error is printed above)")


def _epochs(config: Path) -> int:
    from depthforge.config import load_pyconfig

    return int(load_pyconfig(config)["train_cfg"]["max_epochs"])


def run(out: Path, opts: Options) -> DemoResult:
    import torch

    from depthforge.io import prepare_output_dir, write_json
    from depthforge.synth import write_u4k

    t0 = time.perf_counter()
    root = repository_root()
    out = prepare_output_dir(out)
    data = out / "data"
    work = out / "work_dir"
    print(f"[1/5] rendering synthetic Unreal4KStereo-format scenes into {data}")
    write_u4k(data, scenes=opts.scenes, frames=opts.frames, height=opts.height, width=opts.width, seed=opts.seed)
    common = [f"train_dataloader.dataset.data_root={data}", f"val_dataloader.dataset.data_root={data}",
              f"train_dataloader.dataset.split={data / 'splits' / 'train.txt'}",
              f"val_dataloader.dataset.split={data / 'splits' / 'val.txt'}",
              f"test_in_dataloader.dataset.split={data / 'splits' / 'test_out.txt'}"]
    coarse_epochs = _epochs(root / COARSE_CONFIG)
    coarse_ckpt = work / "coarse" / f"checkpoint_{coarse_epochs:02d}.pth"
    pr_ckpt = work / "pr" / f"checkpoint_{_epochs(root / PR_CONFIG):02d}.pth"
    raw = f"[{opts.height},{opts.width}]"
    patch = f"[{opts.height // opts.split[0]},{opts.width // opts.split[1]}]"
    coarse_cmd = [str(root / COARSE_CONFIG), "--work-dir", str(work), "--log-name", "coarse", "--debug",
                  "--seed", str(opts.seed), "--cfg-options", *common]
    pr_cmd = [str(root / PR_CONFIG), "--work-dir", str(work), "--log-name", "pr", "--debug", "--seed",
              str(opts.seed), "--cfg-options", *common, f"model.config.image_raw_shape={raw}",
              f"model.config.patch_raw_shape={patch}", f"model.config.patch_split_num=[{opts.split[0]},{opts.split[1]}]",
              f"model.config.pretrain_coarse_model={coarse_ckpt}"]
    print(f"[2/5] training the reduced coarse ZoeDepth on the CPU (tools/train.py {COARSE_CONFIG})")
    _train(coarse_cmd, "coarse")
    print(f"[3/5] training the reduced PatchRefiner on the frozen coarse model (tools/train.py {PR_CONFIG})")
    _train(pr_cmd, "PatchRefiner")

    print("[4/5] scoring the held-out scene: coarse, m1, m2, r32 and joint bilateral upsampling")
    torch.manual_seed(opts.seed)
    coarse, refiner, items = _models_and_data(root, coarse_ckpt, pr_ckpt, common, pr_cmd)
    preds: dict[str, list[np.ndarray]] = {m: [] for m in METHODS}
    samples: list[dict[str, np.ndarray]] = []
    from tqdm import tqdm

    with torch.inference_mode():
        for item in tqdm(items, desc="score", unit="img"):
            for name, depth in _predict(coarse, refiner, item, opts).items():
                preds[name].append(depth)
            samples.append({"image": item["image"][0].permute(1, 2, 0).numpy(),
                            "gt": item["gt"][0, 0].numpy(), "boundary": item["boundary"][0, 0].numpy()})
    table = {m: _score(preds[m], samples) for m in METHODS}
    for m in TILED:
        table[m]["seam"] = _seam(preds[m], opts.split)
    text = format_markdown(table, dict(HEADERS), METHODS)
    print(text)

    print("[5/5] writing pictures")
    figures = _pictures(out / "figures", samples, preds)
    notes = [(f"{len(samples)} held-out frames ({opts.height}x{opts.width}, scene test_out, never seen in "
             f"training); tiles {opts.split[0]}x{opts.split[1]}. RMSE, AbsRel, SEE: protocol mono-zoe "
             "(SEE on get_boundaries of the disparity). EdgeAcc, EdgeComp, P, R, F1: boundary metrics on Canny "
             "edges of the ground-truth log depth. SI-BF1: Depth Pro's scale-invariant boundary F1. seam: "
             "mean jump across tile borders relative to the jump one pixel inside the tiles, minus 1 "
             "(0 = seamless).")]
    (out / "results.md").write_text(f"# PatchRefiner demo\n\n{notes[0]}\n\n{text}\n")
    write_json(out / "results.json", table)
    seconds = time.perf_counter() - t0
    print(f"done in {seconds:.0f} s; results and pictures in {out}")
    commands = [(f"depthforge synth u4k {data} --scenes {opts.scenes} --frames {opts.frames} "
                 f"--height {opts.height} --width {opts.width} --seed {opts.seed}"),
                "python tools/train.py " + " ".join(_relative(a, root) for a in coarse_cmd),
                "python tools/train.py " + " ".join(_relative(a, root) for a in pr_cmd)]
    return DemoResult(name="patchrefiner", title="PatchRefiner high-resolution depth (synthetic Unreal4KStereo)",
                      out=out, table={METHODS[m]: v for m, v in table.items()},
                      columns=dict(HEADERS),
                      figures=figures, commands=commands, notes=notes, seconds=seconds,
                      larger_better=frozenset({"si_boundary_f1"}))


def _relative(arg: str, root: Path) -> str:
    return arg.replace(str(root) + "/", "")


def _models_and_data(root: Path, coarse_ckpt: Path, pr_ckpt: Path, data_options: list[str],
                     pr_cmd: list[str]) -> tuple[Any, Any, list[dict[str, Any]]]:
    """The trained coarse and PatchRefiner models, as tools/test.py builds them, and the held-out frames."""
    from depthforge.cli.patchrefiner_config import load_reference_config
    from depthforge.cli.patchrefiner_tools import build_model
    from depthforge.data.registry import build_dataset, dataset_options

    options = pr_cmd[pr_cmd.index("--cfg-options") + 1:]
    ccfg, _ = load_reference_config(root / COARSE_CONFIG, data_options)
    coarse = build_model(ccfg, str(coarse_ckpt))
    cfg, _ = load_reference_config(root / PR_CONFIG, options)
    refiner = build_model(cfg, str(pr_ckpt))
    dataset = build_dataset(cfg.data.dataset, dataset_options(cfg.data.dataset, cfg.data.options), "test",
                            seed=cfg.trainer.seed, max_samples=None)
    items = []
    for i in range(len(dataset)):  # type: ignore[arg-type]
        item = dataset[i]
        items.append({k: v[None] for k, v in item.items() if hasattr(v, "shape")})
    return coarse, refiner, items


def _predict(coarse: Any, refiner: Any, item: dict[str, torch.Tensor], opts: Options) -> dict[str, np.ndarray]:
    import torch.nn.functional as F
    from kornia.filters import joint_bilateral_blur

    image = item["image"]
    size = tuple(image.shape[-2:])
    low = coarse(item["image_lr"])["depth"]
    up = F.interpolate(low, size=size, mode="bilinear", align_corners=False)
    # joint bilateral: the image decides which neighbours of the upsampled coarse depth are averaged
    bilateral = joint_bilateral_blur(up, image, kernel_size=9, sigma_color=0.1, sigma_space=(3.0, 3.0))
    out = {"coarse": up, "bilateral": bilateral}
    for mode in TILED:
        out[mode] = refiner.infer(image, mode=mode, patch_split_num=opts.split, seed=opts.seed)["depth"]
    return {k: v[0, 0].float().numpy() for k, v in out.items()}


def _score(preds: list[np.ndarray], samples: list[dict[str, np.ndarray]]) -> dict[str, float]:
    import numpy as np

    from depthforge.metrics.boundary import boundary_metrics
    from depthforge.metrics.depthpro import boundary_f1
    from depthforge.metrics.edges import extract_edges
    from depthforge.metrics.mono import monocular

    rows: list[dict[str, float]] = []
    for pred, s in zip(preds, samples):
        gt = s["gt"]
        valid = (gt > 1e-3) & (gt < 80.0)
        row = monocular(pred, gt, 1e-3, 80.0, boundary=s["boundary"])
        edges = extract_edges(np.where(valid, gt, 0.0), mask=valid)
        row.update(boundary_metrics(pred, edges, valid))
        row["si_boundary_f1"] = boundary_f1(np.where(valid, pred, 0.0), np.where(valid, gt, 0.0),
                                            mask=valid)["boundary_f1"]
        rows.append(row)
    return {k: float(np.nanmean([r[k] for r in rows])) for k in KEYS}


def _seam(preds: list[np.ndarray], split: tuple[int, int]) -> float:
    import numpy as np

    from depthforge.metrics import seam_error

    return seam_error(np.stack(preds)[:, None], split)


def format_markdown(table: dict[str, dict[str, float]], columns: dict[str, str],
                    labels: dict[str, str] | None = None) -> str:
    """A Markdown table: one row per method, the given columns (missing values as blanks)."""
    labels = labels or {}
    lines = ["| method | " + " | ".join(columns.values()) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, metrics in table.items():
        cells = [f"{metrics[k]:.4f}" if k in metrics else "" for k in columns]
        lines.append(f"| {labels.get(name, name)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _pictures(folder: Path, samples: list[dict[str, np.ndarray]],
              preds: dict[str, list[np.ndarray]], count: int = 2) -> list[Figure]:
    """Per frame: image, ground truth and every method on one depth scale, their error maps, and a zoom on
    the region where the coarse and refined depths differ most (usually a depth boundary)."""
    import numpy as np

    from depthforge.viz import Panel, find_zoom, panel_figure

    figures = []
    picks = np.linspace(0, len(samples) - 1, num=min(count, len(samples))).round().astype(int)
    for i in dict.fromkeys(int(k) for k in picks):
        s = samples[i]
        gt = np.where(np.isfinite(s["gt"]) & (s["gt"] > 0), s["gt"], 0.0)
        hi = float(np.percentile(gt[gt > 0], 98)) if (gt > 0).any() else 1.0
        depth = [Panel("image", (s["image"] * 255).round().clip(0, 255).astype(np.uint8), "image"),
                 Panel("ground truth", gt, "depth", 0.0, hi)]
        depth += [Panel(METHODS[m], preds[m][i], "depth", 0.0, hi) for m in METHODS]
        size = (s["gt"].shape[0] // 4, s["gt"].shape[1] // 4)
        # where refinement changed the coarse depth most, relative to the true depth (in metres the far range
        # and the sky would win): depth over ground truth, so that the error term is the relative error
        valid = gt > 0
        relative = [np.where(valid, preds[m][i] / np.where(valid, gt, 1.0), np.nan) for m in ("coarse", "m1")]
        zoom = find_zoom(relative, valid.astype(np.float32), size)
        path = panel_figure(depth, folder / f"{i:03d}_depth.png", columns=4, zoom=zoom,
                            title=f"held-out frame {i}: depth (one scale, metres) and a zoom on a boundary")
        figures.append(Figure(path, f"held-out frame {i}: image, ground truth and every method on one depth "
                                    "scale; the boxed region is enlarged below"))
        err = [Panel(f"|error| {METHODS[m]}", np.where(valid, np.abs(preds[m][i] - gt), np.nan), "error", 0.0,
                     hi / 4) for m in METHODS]
        path = panel_figure(err, folder / f"{i:03d}_error.png", columns=3,
                            title=f"held-out frame {i}: absolute error (metres; sky has no ground truth)")
        figures.append(Figure(path, f"held-out frame {i}: absolute error of every method, one scale"))
    return figures
