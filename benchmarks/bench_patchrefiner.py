"""ZoeDepth-N and PatchRefiner inference cost at full size, as a fraction of this machine's matmul rate.

Usage::

    python benchmarks/bench_patchrefiner.py                    # the whole table (about an hour on 2 cores)
    python benchmarks/bench_patchrefiner.py --what zoedepth m1 --threads 2
    python benchmarks/bench_patchrefiner.py --what m1 --precision bf16-mixed   # torch.autocast, 16-bit products
    DEPTHFORGE_MALLOC=system python benchmarks/bench_patchrefiner.py --what m1 --process-num 1   # glibc default

Absolute times on a shared machine vary by 2x from hour to hour, so each figure is also given as a fraction of
the GFLOP/s of a 2048 x 2048 float32 matmul measured in the same process just before and just after it (the
faster of the two, so the fraction is a lower bound). FLOPs are counted by
``torch.utils.flop_counter`` (multiply-add = 2 FLOPs) on a separate, untimed run of the same call, once per
row in a process of its own (``process_num`` changes how the tiles are grouped, not the work). Every timed
run has a fresh process with synthetic weights (the cost does not depend on them); memory is the process's
peak RSS (``VmHWM``) during the timed run, model included (the peak is reset after the warm-up where the
kernel allows it, else it includes the warm-up). Each process first calls
:func:`depthforge.allocator.retain_large_blocks`, as the console scripts do (``allocator`` column);
``DEPTHFORGE_MALLOC=system`` measures glibc's default. ``--precision bf16-mixed`` times the same call under
``torch.autocast`` (FLOPs as counted in float32); the fraction still compares with the float32 matmul rate, so it
can exceed 1.

Reference (the spec's measurements on this machine): ZoeDepth 384x512 about 0.6 of the matmul rate; PatchRefiner
m1 on 2160x3840 split 4x4 397.5 s and 15.2 GB at process_num 1, out of 24 GB at process_num 4.
Targets: m1 4K at least 0.95 of the matmul rate and at most 6 GB at process_num 1, 4 and 8; ZoeDepth 0.8.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

from _memory import reset_peak, status_gb

from depthforge.allocator import retain_large_blocks
from depthforge.inference.precision import PRECISIONS, autocast

ROWS = {
    "zoedepth": {"model": "zoedepth_n", "shape": (384, 512)},
    "m1": {"model": "patchrefiner", "shape": (2160, 3840), "mode": "m1", "process_nums": (1, 4, 8)},
    "m2": {"model": "patchrefiner", "shape": (2160, 3840), "mode": "m2", "process_nums": (4,)},
    "r32": {"model": "patchrefiner", "shape": (2160, 3840), "mode": "r32", "process_nums": (4,)},
}


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Best GFLOP/s of an n x n float32 matmul."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def _child(row: str, process_num: int, threads: int, flops: float | None, precision: str) -> dict[str, Any]:
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    from depthforge.registry import create_model
    from depthforge.testing.weights import fill_state_dict

    heap = retain_large_blocks()  # as the console scripts do
    torch.set_num_threads(threads)
    spec = ROWS[row]
    model = fill_state_dict(create_model(spec["model"]), base_seed=0).eval()
    h, w = spec["shape"]
    image = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0))

    def run() -> torch.Tensor:
        with torch.inference_mode():
            if spec["model"] == "zoedepth_n":
                return model(image)["depth"]
            return model.infer(image, mode=spec["mode"], patch_split_num=(4, 4), process_num=process_num,
                               seed=0)["depth"]

    def warm_up() -> None:
        with torch.inference_mode():
            if spec["model"] == "zoedepth_n":
                run()
            else:
                model.coarse_forward(torch.rand(1, 3, *model.process_shape))

    # FLOPs come from a separate process (no timing there): under the counter's dispatch mode the fused
    # attention and the oneDNN convolutions are bypassed, so a counted run is no measure of time, and what it
    # leaves on the heap would count towards the timed run's peak. It uses the explicit attention, whose
    # products the counter sees (the fused kernel's it does not).
    if flops is None:
        counter = FlopCounterMode(display=False)
        with counter, sdpa_kernel(SDPBackend.MATH):
            run()
        return {"tflop": counter.get_total_flops() / 1e12}
    before = matmul_gflops()
    with autocast("cpu", precision):
        warm_up()
        exact_peak = reset_peak()
        t0 = time.perf_counter()
        out = run()
        seconds = time.perf_counter() - t0
    peak = status_gb("VmHWM")
    # The rate drifts with the machine's load during a long run: the faster of two readings, one on each side,
    # makes the fraction a lower bound.
    rates = (before, matmul_gflops())
    rate = max(rates)
    return {"row": row, "process_num": process_num, "precision": precision, "seconds": seconds,
            "tflop": flops / 1e12, "matmul_gflops": rate, "matmul_before_after": rates,
            "fraction": flops / seconds / 1e9 / rate,
            "peak_gb": peak, "exact_peak": exact_peak, "out": list(out.shape[-2:]),
            "allocator": "heap" if heap else "system"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--what", nargs="+", choices=list(ROWS), default=list(ROWS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--process-num", type=int, nargs="+", help="the 4K rows' process_num values (default 1 4 8 for "
                    "m1, 4 for m2 and r32)")
    ap.add_argument("--precision", nargs="+", default=["32-true"], choices=list(PRECISIONS))
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--flops", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.child[0], int(args.child[1]), args.threads, args.flops, args.precision[0])))
        return
    print(f"Full-size inference, CPU, {args.threads} threads, synthetic weights; fraction of the float32 matmul rate")
    print("| run | input | process_num | precision | output | TFLOP | s | matmul GFLOP/s before / after | "
          "fraction of the faster | peak RSS GB | allocator |")
    print("|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    for row in args.what:  # one row at a time: a long table is readable while it runs
        nums = ROWS[row].get("process_nums", (1,))
        if args.process_num and row != "zoedepth":
            nums = tuple(args.process_num)
        flops: float | None = None
        for precision, process_num in [("32-true", nums[0])] + [(p, n) for p in args.precision for n in nums]:
            cmd = [sys.executable, __file__, "--child", row, str(process_num), "--threads", str(args.threads),
                   "--precision", precision]
            if flops is not None:
                cmd += ["--flops", repr(flops)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if out.returncode:
                print(f"{row} process_num={process_num}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
                if flops is None:
                    break
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            if flops is None:  # the counting process
                flops = r["tflop"] * 1e12
                continue
            spec = ROWS[row]
            name = "ZoeDepth-N" if row == "zoedepth" else f"PatchRefiner {spec['mode']} (4x4)"
            print(f"| {name} | {spec['shape'][0]}x{spec['shape'][1]} | {process_num} | {precision} | "
                  f"{r['out'][0]}x{r['out'][1]} | {r['tflop']:.2f} | {r['seconds']:.1f} | "
                  f"{r['matmul_before_after'][0]:.0f} / {r['matmul_before_after'][1]:.0f} | "
                  f"{r['fraction']:.2f} | {r['peak_gb']:.2f}{'' if r['exact_peak'] else ' (incl. warm-up)'} | "
                  f"{r['allocator']} |",
                  flush=True)


if __name__ == "__main__":
    main()
