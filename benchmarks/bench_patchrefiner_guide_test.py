"""The guide's full-size evaluation command on one synthetic 2160x3840 UnrealStereo4K frame:

    bash ./tools/dist_test.sh configs/patchrefiner_zoedepth/pr_u4k.py 1 \\
        --ckp-path work_dir/zoedepth/u4k/pr/checkpoint_36.pth --cai-mode m1 --work-dir work_dir/zoedepth/u4k/pr/vis --save

in a scratch folder laid out like the repository root, with the coarse checkpoint (535 unprefixed entries) and the
refiner checkpoint (582 entries) written in the official layouts from the deterministic weight rule. Prints the
wall time, the peak memory of the process and what it wrote.

Usage: ``python benchmarks/bench_patchrefiner_guide_test.py [--mode m1] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def _write_checkpoints(work: Path) -> None:
    import torch

    from depthforge.checkpoint import save_checkpoint
    from depthforge.registry import create_model
    from depthforge.testing.weights import fill_state_dict

    with torch.device("cpu"):
        model = fill_state_dict(create_model("patchrefiner"), base_seed=0)
    state = model.state_dict()
    coarse = {k[len("coarse_branch."):]: v for k, v in state.items() if k.startswith("coarse_branch.")}
    save_checkpoint({"model_state_dict": coarse}, work / "zoedepth/u4k/coarse_pretrain/checkpoint_24.pth")
    save_checkpoint({"epoch": 35, "model_state_dict": model.reference_state_dict()},
                    work / "zoedepth/u4k/pr/checkpoint_36.pth")
    print(f"checkpoints: coarse {len(coarse)} entries, refiner {len(model.reference_state_dict())} entries")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", default="m1", help="--cai-mode")
    ap.add_argument("--keep", help="work in this folder and keep it (default: a temporary folder)")
    args = ap.parse_args()
    from bench_patchrefiner_data import write_u4k_frames

    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(args.keep or tmp)
        ws.mkdir(parents=True, exist_ok=True)
        for name in ("configs", "tools"):
            if not (ws / name).exists():
                (ws / name).symlink_to(ROOT / name)
        u4k = ws / "data/u4k"
        write_u4k_frames(u4k, 1)
        (u4k / "splits/val.txt").write_text((u4k / "splits/train.txt").read_text())
        _write_checkpoints(ws / "work_dir")
        command = ["bash", "./tools/dist_test.sh", "configs/patchrefiner_zoedepth/pr_u4k.py", "1", "--ckp-path",
                   "work_dir/zoedepth/u4k/pr/checkpoint_36.pth", "--cai-mode", args.mode, "--work-dir",
                   "work_dir/zoedepth/u4k/pr/vis", "--save"]
        print("$", " ".join(command))
        t0 = time.perf_counter()
        res = subprocess.run(command, cwd=ws, env={**os.environ, "PYTHON": sys.executable}, capture_output=True,
                             text=True, check=False)
        wall = time.perf_counter() - t0
        print(res.stdout.strip())
        if res.returncode:
            print(res.stderr[-3000:], file=sys.stderr)
            raise SystemExit(res.returncode)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
        vis = sorted(p.name for p in (ws / "work_dir/zoedepth/u4k/pr/vis").iterdir())
        print()
        print("| config | frame | mode | wall s | peak RSS GB | files |")
        print("|---|---|---|---|---|---|")
        print(f"| pr_u4k.py (full size) | 2160x3840 | {args.mode} | {wall:.0f} | {peak:.1f} | {', '.join(vis)} |")


if __name__ == "__main__":
    main()
