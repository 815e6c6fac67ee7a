"""PatchRefiner training-step cost on this CPU, and the memory of the published recipe on a GPU, on paper.

Usage::

    python benchmarks/bench_patchrefiner_train.py                 # tiny and full-size steps
    python benchmarks/bench_patchrefiner_train.py --what tiny --steps 10

A step is the recipe's: the frozen coarse branch under ``no_grad`` on the whole image, the fine branch and
the fusion network on the crops, SILog against the crop's ground truth, backward, gradient-norm clipping at 0.1
and AdamW with the fine-branch core in its own group. Weights are random (the cost does not depend on them).
Each size runs in a fresh process; memory is the peak RSS increase over the process with the model and the
optimiser built (``VmHWM`` after a reset through ``/proc/self/clear_refs``).

The GPU column is arithmetic, not a measurement: fp32 weights of both branches, gradients and two AdamW
moments of the trainable part, plus the measured activation memory of one sample times the batch (4 per
process in the recipe). The activation memory of a CPU step is a fair proxy for a GPU's (same tensors, no
cuDNN workspaces counted).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

from _memory import reset_peak, status_gb

TINY = {"embed_dim": 32, "depth": 4, "num_heads": 2, "pretrain_grid": 4, "num_classes": 10,
        "reassemble_channels": [8, 16, 32, 32], "features": 16, "head_features": 8, "n_bins": 8,
        "bin_embedding_dim": 8, "process_shape": [64, 96]}
SIZES = {
    "tiny": {"kwargs": TINY, "batch": 2, "crop": (54, 96)},
    "full": {"kwargs": {}, "batch": 1, "crop": (540, 960)},
}


def _measure(size: str, steps: int, threads: int) -> dict[str, Any]:
    import torch

    from depthforge.losses import silog_loss
    from depthforge.registry import create_model

    torch.set_num_threads(threads)
    spec = SIZES[size]
    model = create_model("patchrefiner", **spec["kwargs"]).train()
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    core = [p for n, p in trainable if n.startswith("refiner_fine_branch.core.")]
    rest = [p for n, p in trainable if not n.startswith("refiner_fine_branch.core.")]
    opt = torch.optim.AdamW([{"params": core, "lr": 1.61e-5}, {"params": rest, "lr": 1.61e-4}], weight_decay=0.01)
    h, w = model.process_shape
    b = spec["batch"]
    g = torch.Generator().manual_seed(0)
    batch = {"image": torch.rand(b, 3, h, w, generator=g), "image_lr": torch.rand(b, 3, h, w, generator=g),
             "boxes": torch.tensor([[64.0, 48.0, 64.0 + w / 4, 48.0 + h / 4]] * b)}
    gt = 1 + 60 * torch.rand(b, 1, *spec["crop"], generator=g)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = silog_loss(model(batch)["depth"], gt, 1e-3, 80.0)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        opt.step()

    step()  # warm-up: allocates gradients and AdamW moments
    base = status_gb("VmRSS")
    reset_peak()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    n_all = sum(p.numel() for p in model.parameters())
    n_train = sum(p.numel() for _, p in trainable)
    return {"size": size, "batch": b, "process": f"{h}x{w}", "step_s": min(times), "mean_s": sum(times) / len(times),
            "peak_gb": status_gb("VmHWM") - base, "params": n_all, "trainable": n_train}


def _gpu_on_paper(r: dict[str, Any], batch: int) -> float:
    state = 4 * r["params"] + 3 * 4 * r["trainable"]  # fp32 weights; grads + 2 AdamW moments of the trainable
    activations = r["peak_gb"] * 1024**3 / r["batch"]  # measured per sample (the step's transient memory)
    return (state + batch * activations) / 1024**3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--what", choices=["tiny", "full", "all"], default="all")
    ap.add_argument("--steps", type=int, default=0, help="timed steps (default: tiny 10, full 2)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_measure(args.child, args.steps, args.threads)))
        return
    rows = []
    for size in (["tiny", "full"] if args.what == "all" else [args.what]):
        steps = args.steps or (10 if size == "tiny" else 2)
        out = subprocess.run([sys.executable, __file__, "--child", size, "--steps", str(steps),
                              "--threads", str(args.threads)], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"PatchRefiner training step, CPU, {args.threads} threads, fp32")
    print("| size | process | batch | params | trainable | step s (min) | step s (mean) | peak GB above model |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['size']} | {r['process']} | {r['batch']} | {r['params'] / 1e6:.1f} M | "
              f"{r['trainable'] / 1e6:.1f} M | {r['step_s']:.2f} | {r['mean_s']:.2f} | {r['peak_gb']:.2f} |")
    full = next((r for r in rows if r["size"] == "full"), None)
    if full is not None:
        print()
        print("Published recipe on a GPU, on paper (fp32, batch per process):")
        print("| batch | GB per process |")
        print("|---|---|")
        for batch in (1, 4):
            print(f"| {batch} | {_gpu_on_paper(full, batch):.1f} |")


if __name__ == "__main__":
    main()
