"""SemAttNet cost benchmark: parameters, CPU inference time, training-step memory, CSPN head.

Usage (defaults are the reference measurement conditions: 2 threads, fp32, batch 1, synthetic weights)::

    python benchmarks/bench_semattnet.py                       # everything, incl. reference-style baselines
    python benchmarks/bench_semattnet.py --what infer --runs 5 --threads 2 --height 352 --width 1216
    python benchmarks/bench_semattnet.py --what train --no-baseline
    python benchmarks/bench_semattnet.py --what cspn

Every heavy measurement runs in a fresh subprocess.  Memory = peak RSS increase (``VmHWM`` after resetting it
through ``/proc/self/clear_refs``) over the process with the model loaded.  The *reference-style* baseline is
the same network run the way the reference code runs it: NCHW tensors, naive CSPN (k*k zero-padded shifted
copies per step, phases in a Python loop, dead att blend evaluated), no activation checkpointing.

The machine may be shared: the table reports the 1-minute load average around each measurement and the
process CPU time next to the wall time; compare configurations measured in the same invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from _memory import reset_peak, status_gb

SPEC_REF = {
    "infer_s": 11.0,  # reference sem_att forward @352x1216, 2 threads
    "infer_target_s": 7.5,
    "train_gb": 6.3,  # reference train-step peak RSS increase @320x1216
    "train_target_gb": 0.6 * 6.3,
}


def _load() -> float:
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return float("nan")


# ----------------------------------------------------------------------------------------------------------
# child-side measurements
# ----------------------------------------------------------------------------------------------------------


def _build(variant: str, width_mult: float, reference_style: bool, memory_efficient: bool):
    import torch

    import depthforge
    from depthforge.testing import fill_state_dict

    kw: dict[str, Any] = {"width_mult": width_mult, "channels_last": not reference_style}
    kw["memory_efficient"] = memory_efficient and not reference_style
    if variant == "semattnet" and reference_style:
        kw["bitwise_parity"] = True  # naive CSPN + att blend, like the reference
    with torch.device("meta"):
        model = depthforge.create_model(variant, **kw)
    model = model.to_empty(device="cpu")
    fill_state_dict(model, 1)  # synthetic weights: finite outputs, no default-init cost
    for k, b in model.state_dict().items():
        if k.endswith("num_batches_tracked"):
            b.zero_()
    return model


def _inputs(h: int, w: int, seed: int = 0):
    import torch

    g = torch.Generator().manual_seed(seed)
    d = torch.where(
        torch.rand(1, 1, h, w, generator=g) < 0.05,
        1 + 79 * torch.rand(1, 1, h, w, generator=g),
        torch.zeros(1, 1, h, w),
    )
    return {
        "image": torch.rand(1, 3, h, w, generator=g) * 255,
        "semantic": torch.rand(1, 3, h, w, generator=g) * 255,
        "sparse": d,
    }, torch.where(
        torch.rand(1, 1, h, w, generator=g) < 0.3,
        1 + 79 * torch.rand(1, 1, h, w, generator=g),
        torch.zeros(1, 1, h, w),
    )


def child_infer(a: argparse.Namespace) -> dict[str, Any]:
    import torch

    torch.set_num_threads(a.threads)
    model = _build(a.variant, a.width_mult, a.reference_style, True).eval()
    inp, _ = _inputs(a.height, a.width)
    walls, cpus, loads = [], [], []
    with torch.inference_mode():
        t0 = time.perf_counter()
        model(inp)  # warm-up (allocator, oneDNN primitive creation)
        first = time.perf_counter() - t0
        for _ in range(a.runs):
            loads.append(_load())
            t0, c0 = time.perf_counter(), time.process_time()
            model(inp)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
    return {
        "first_s": first,
        "median_s": statistics.median(walls),
        "min_s": min(walls),
        "max_s": max(walls),
        "cpu_median_s": statistics.median(cpus),
        "runs": len(walls),
        "load": max(loads + [_load()]),
        "peak_rss_gb": status_gb("VmHWM"),
    }


def child_train(a: argparse.Namespace) -> dict[str, Any]:
    import torch

    torch.set_num_threads(a.threads)
    model = _build(a.variant, a.width_mult, a.reference_style, not a.no_memory_efficient).train()
    inp, gt = _inputs(a.train_height, a.train_width, seed=1)
    load0 = _load()
    base = status_gb("VmRSS")
    exact = reset_peak()
    base_hwm = status_gb("VmHWM")
    t0 = time.perf_counter()
    out = model(inp)
    pred = out["depth"]
    valid = gt > 0
    loss = ((pred - gt)[valid] ** 2).mean()
    t1 = time.perf_counter()
    peak_fwd = status_gb("VmHWM")
    loss.backward()
    t2 = time.perf_counter()
    peak = status_gb("VmHWM")
    grads_gb = (
        sum(p.grad.numel() * p.grad.element_size() for p in model.parameters() if p.grad is not None)
        / 1024**3
    )
    return {
        "base_rss_gb": base,
        "peak_increase_gb": peak - (base if exact else base_hwm),
        "peak_increase_fwd_gb": peak_fwd - (base if exact else base_hwm),
        "grads_gb": grads_gb,
        "fwd_s": t1 - t0,
        "bwd_s": t2 - t1,
        "exact_peak": exact,
        "load": max(load0, _load()),
    }


def child_cspn(a: argparse.Namespace) -> dict[str, Any]:
    """Both propagation stages of the head (72 half-res + 18 full-res steps) on random guides."""
    import torch
    import torch.nn.functional as F

    from depthforge.models.semattnet.cspn import (
        cspn_chain,
        cspn_chain_reference,
        normalize_guide,
        shift_guide,
    )

    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(0)
    h, w = a.height, a.width
    ks = (3, 5, 7)

    def make(hh: int, ww: int, grad: bool):
        raw = [torch.randn(1, k * k - 1, hh, ww, generator=g).requires_grad_(grad) for k in ks]
        mask = torch.rand(1, 1, hh, ww, generator=g) * (torch.rand(1, 1, hh, ww, generator=g) < 0.05)
        d = 80 * torch.rand(1, 1, hh, ww, generator=g)
        return raw, mask, d

    coarse = (80 * torch.rand(1, 1, h, w, generator=g)).requires_grad_()
    s2 = make(h // 2, w // 2, True)
    s1 = make(h, w, True)

    def run(impl: str):
        def stage(raw, mask, d, h0):
            outs = []
            for k, r in zip(ks, raw):
                gn, gc = normalize_guide(r)
                if impl == "fast":
                    outs.append(cspn_chain(shift_guide(gn, k), gc, h0, mask, d, k, 6))
                else:
                    outs.append(cspn_chain_reference(gn, gc, h0, mask, d, k, 6))
            return (outs[0] + outs[1] + outs[2]) / 3

        r2 = F.pixel_shuffle(stage(*s2, F.pixel_unshuffle(coarse, 2)), 2)
        return stage(*s1, r2)

    res: dict[str, Any] = {}
    for impl in ("fast", "naive"):
        with torch.inference_mode():
            run(impl)
            ts = []
            for _ in range(a.cspn_runs):
                t0 = time.perf_counter()
                run(impl)
                ts.append(time.perf_counter() - t0)
        res[f"{impl}_infer_s"] = statistics.median(ts)
        ts = []
        for _ in range(max(1, a.cspn_runs // 2)):
            t0 = time.perf_counter()
            out = run(impl)
            out.sum().backward()
            ts.append(time.perf_counter() - t0)
        res[f"{impl}_train_s"] = statistics.median(ts)
    res["load"] = _load()
    return res


# ----------------------------------------------------------------------------------------------------------
# parent
# ----------------------------------------------------------------------------------------------------------


def _spawn(kind: str, a: argparse.Namespace, **over: Any) -> dict[str, Any]:
    args = dict(vars(a), **over)
    cmd = [sys.executable, os.path.abspath(__file__), "--_child", kind]
    for k, v in args.items():
        if k in ("what", "_child", "json", "baseline"):
            continue
        flag = "--" + k.replace("_", "-")
        if isinstance(v, bool):
            if v:
                cmd.append(flag)
        else:
            cmd += [flag, str(v)]
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    p = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"child {kind} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def param_counts() -> dict[str, int]:
    import torch

    import depthforge

    out = {}
    for name in ("semattnet_bb", "semattnet"):
        with torch.device("meta"):
            m = depthforge.create_model(name)
        out[name] = sum(p.numel() for p in m.parameters())
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--what", default="params,infer,train,cspn", help="comma list of params,infer,train,cspn")
    ap.add_argument("--variant", default="semattnet", choices=["semattnet", "semattnet_bb"])
    ap.add_argument("--width-mult", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--height", type=int, default=352)
    ap.add_argument("--width", type=int, default=1216)
    ap.add_argument("--train-height", type=int, default=320)
    ap.add_argument("--train-width", type=int, default=1216)
    ap.add_argument("--runs", type=int, default=5, help="timed inference runs after one warm-up")
    ap.add_argument("--cspn-runs", type=int, default=3)
    ap.add_argument(
        "--baseline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure the reference-style configuration (slow)",
    )
    ap.add_argument(
        "--no-memory-efficient", action="store_true", help="train without activation checkpointing"
    )
    ap.add_argument("--json", help="also write the results to this JSON file")
    ap.add_argument("--_child", help=argparse.SUPPRESS)
    ap.add_argument("--reference-style", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a._child:
        fn = {"infer": child_infer, "train": child_train, "cspn": child_cspn}[a._child]
        print(json.dumps(fn(a)))
        return 0

    what = set(a.what.split(","))
    results: dict[str, Any] = {"config": {k: v for k, v in vars(a).items() if not k.startswith("_")}}
    rows: list[tuple[str, str, str, str]] = []
    res_tag = f"{a.height}x{a.width}"
    tr_tag = f"{a.train_height}x{a.train_width}"

    def progress(msg: str) -> None:
        print(f"[bench] {msg} (load {_load():.2f})", file=sys.stderr, flush=True)

    if "params" in what:
        pc = param_counts()
        results["params"] = pc
        rows.append(("parameters semattnet_bb", f"{pc['semattnet_bb']:,}", "360,717,636", ""))
        rows.append(("parameters semattnet", f"{pc['semattnet']:,}", "360,957,784", ""))

    if "infer" in what:
        progress(f"inference {a.variant} {res_tag}")
        r = _spawn("infer", a)
        results["infer"] = r
        rows.append(
            (
                f"{a.variant} forward {res_tag}, {a.threads} thr (median of {r['runs']})",
                f"{r['median_s']:.2f} s (min {r['min_s']:.2f}, max {r['max_s']:.2f}; CPU {r['cpu_median_s']:.1f} s)",
                f"ref ≈ {SPEC_REF['infer_s']} s; target ≤ {SPEC_REF['infer_target_s']} s",
                f"load ≤ {r['load']:.2f}; first call {r['first_s']:.1f} s; peak RSS {r['peak_rss_gb']:.2f} GB",
            )
        )
        if a.baseline:
            progress("inference, reference-style baseline")
            rb = _spawn("infer", a, reference_style=True, runs=max(2, a.runs // 2))
            results["infer_reference_style"] = rb
            rows.append(
                (
                    "  same, reference-style (NCHW, naive CSPN) on this machine",
                    f"{rb['median_s']:.2f} s (CPU {rb['cpu_median_s']:.1f} s)",
                    f"speed-up ×{rb['median_s'] / r['median_s']:.2f}",
                    f"load ≤ {rb['load']:.2f}",
                )
            )

    if "train" in what:
        progress(f"training step {a.variant} {tr_tag}")
        r = _spawn("train", a)
        results["train"] = r
        me = "memory_efficient" if not a.no_memory_efficient else "no checkpointing"
        rows.append(
            (
                f"train step fwd+bwd {tr_tag} b1, peak RSS over loaded model ({me})",
                f"{r['peak_increase_gb']:.2f} GB (after fwd {r['peak_increase_fwd_gb']:.2f}; grads {r['grads_gb']:.2f})",
                f"ref ≈ {SPEC_REF['train_gb']} GB; target ≤ {SPEC_REF['train_target_gb']:.2f} GB",
                f"fwd {r['fwd_s']:.1f} s, bwd {r['bwd_s']:.1f} s; load ≤ {r['load']:.2f}",
            )
        )
        if a.baseline:
            progress("training step, reference-style baseline")
            rb = _spawn("train", a, reference_style=True)
            results["train_reference_style"] = rb
            rows.append(
                (
                    "  same, reference-style on this machine",
                    f"{rb['peak_increase_gb']:.2f} GB (after fwd {rb['peak_increase_fwd_gb']:.2f})",
                    f"ratio {r['peak_increase_gb'] / rb['peak_increase_gb']:.2f}",
                    f"fwd {rb['fwd_s']:.1f} s, bwd {rb['bwd_s']:.1f} s; load ≤ {rb['load']:.2f}",
                )
            )

    if "cspn" in what:
        progress(f"CSPN head propagation {res_tag}")
        r = _spawn("cspn", a)
        results["cspn"] = r
        rows.append(
            (
                f"CSPN propagation only (90 steps) {res_tag}, inference",
                f"{r['fast_infer_s'] * 1e3:.0f} ms",
                f"naive {r['naive_infer_s'] * 1e3:.0f} ms (×{r['naive_infer_s'] / r['fast_infer_s']:.0f})",
                f"load {r['load']:.2f}",
            )
        )
        rows.append(
            (
                "CSPN propagation fwd+bwd",
                f"{r['fast_train_s'] * 1e3:.0f} ms",
                f"naive {r['naive_train_s'] * 1e3:.0f} ms (×{r['naive_train_s'] / r['fast_train_s']:.1f})",
                "",
            )
        )

    import torch

    print(
        f"\nSemAttNet benchmark — torch {torch.__version__}, {os.cpu_count()} CPUs, {a.threads} threads, fp32, batch 1"
    )
    widths = [
        max(len(r[i]) for r in rows + [("quantity", "measured", "reference / target", "notes")])
        for i in range(4)
    ]
    head = ("quantity", "measured", "reference / target", "notes")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
