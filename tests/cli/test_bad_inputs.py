"""The bad-input catalogue: one row per bad input a user can meet, each run as a user runs it (a separate
process: ``depthforge``, ``main.py`` or PatchRefiner's ``tools/``) with the shipped defaults (loader workers
included). Every row must end with exit status 2 and one line on stderr that names the file or key and the
problem: no traceback, nothing silent."""

from __future__ import annotations

import os
import pickle
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from depthforge.registry import create_model

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = {"depthforge": [sys.executable, "-m", "depthforge"], "main.py": [sys.executable, str(ROOT / "main.py")],
            "tools/train.py": [sys.executable, str(ROOT / "tools/train.py")],
            "tools/test.py": [sys.executable, str(ROOT / "tools/test.py")]}


def _load_tree_builder():  # the small KITTI tree builder shared with the data tests
    import importlib.util

    import sys

    path = Path(__file__).parents[1] / "data" / "kitti_tree.py"
    spec = importlib.util.spec_from_file_location("_kitti_tree_for_cli_tests", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


_tree = _load_tree_builder()
KittiTree, build_kitti = _tree.KittiTree, _tree.build_kitti

TINY = {"model": "{name: semattnet_bb, kwargs: {width_mult: 0.0625}}"}


@dataclass
class Case:
    """``make(root, tree) -> argv`` builds the bad input in a fresh copy of a small KITTI tree."""

    name: str
    make: Callable[[Path, KittiTree], list[str]]
    message: str
    command: str = "depthforge"


def _config(root: Path, tree: KittiTree, extra: str = "") -> str:
    path = root / "config.yaml"
    path.write_text(
        f"model: {TINY['model']}\n"
        "data:\n  dataset: kitti\n  batch_size: 8\n  max_val_samples: 1\n  options:\n"
        f"    data_folder: {tree.depth}\n    data_folder_rgb: {tree.rgb}\n    data_semantic: {tree.semantic}\n"
        "    crop_h: 32\n    crop_w: 64\n    bottom_crop: [32, 64]\n"
        "trainer: {epochs: 1, accelerator: cpu, devices: 1, progress_bar: false}\n"
        "logging: {tensorboard: false}\n"
        f"run: {{work_dir: {root / 'runs'}}}\n" + extra)
    return str(path)


def _train_depth(tree: KittiTree, kind: str = "groundtruth") -> Path:
    folder = "data_depth_annotated" if kind == "groundtruth" else "data_depth_velodyne"
    return sorted((tree.depth / folder / "train").rglob("*.png"))[0]


def _ckpt(root: Path, name: str = "semattnet_bb") -> str:
    path = root / f"{name}.pth.tar"
    torch.save({"epoch": 1, "model": create_model(name, width_mult=0.0625).state_dict()}, path)
    return str(path)


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(60, len(data) - 20, 7):  # inside the compressed data, header and IEND intact
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def _train(root: Path, tree: KittiTree, extra: str = "") -> list[str]:
    return ["train", _config(root, tree, extra)]


def _predictions(root: Path, tree: KittiTree, values: Callable[[np.ndarray], np.ndarray]) -> list[str]:
    gt_dir = tree.selection / "val_selection_cropped" / "groundtruth_depth"
    pred = root / "pred"
    pred.mkdir()
    for f in sorted(gt_dir.glob("*.png")):
        gt = cv2.imread(str(f), cv2.IMREAD_UNCHANGED).astype(np.float32) / 256
        np.save(pred / f"{f.stem}.npy", values(gt))
    return ["eval", "--dataset", "kitti", "--pred", str(pred), "--gt", str(gt_dir)]


def _evil_pickle(root: Path) -> str:
    class Evil:
        def __reduce__(self):  # would run a command when unpickled
            return (print, ("executed",))

    path = root / "evil.pth"
    path.write_bytes(pickle.dumps({"model": Evil()}))
    return str(path)


def _reference_args(tree: KittiTree) -> list[str]:
    return ["--data-folder", str(tree.depth), "--data-folder-rgb", str(tree.rgb), "--data-semantic",
            str(tree.semantic), "--cpu", "--cfg-options", "model.kwargs.width_mult=0.0625"]


CASES = [
    Case("truncated depth PNG, train with 4 workers",
         lambda r, t: (_truncate(_train_depth(t)), _train(r, t))[1], r"truncated PNG"),
    Case("corrupt depth PNG, train with 4 workers",
         lambda r, t: (_corrupt(_train_depth(t, "sparse")), _train(r, t))[1], r"corrupt PNG"),
    Case("8-bit depth PNG",
         lambda r, t: (cv2.imwrite(str(_train_depth(t)), np.ones((40, 70), np.uint8)), _train(r, t))[1],
         r"8-bit PNG where a 16-bit depth PNG is expected"),
    Case("RGB of another size than its depth maps",
         lambda r, t: (cv2.imwrite(str(sorted(t.rgb.rglob("*.png"))[0]), np.zeros((50, 80, 3), np.uint8)),
                       _train(r, t))[1], r"samples have files of different sizes"),
    Case("missing semantic map",
         lambda r, t: (sorted(t.semantic.rglob("*.png"))[0].unlink(), _train(r, t))[1], r"semantic"),
    Case("empty data folder",
         lambda r, t: (shutil.rmtree(t.depth), t.depth.mkdir(), _train(r, t))[2], r"depth"),
    Case("wrong config type", lambda r, t: [*_train(r, t), "--cfg-options", "data.batch_size=abc"],
         r"config.data.batch_size: expected an integer"),
    Case("unknown config key", lambda r, t: [*_train(r, t), "--cfg-options", "optim.lrr=0.1"],
         r"unknown config key 'config.optim.lrr'; did you mean 'config.optim.lr'"),
    Case("typo in a dataset option", lambda r, t: [*_train(r, t), "--cfg-options", "data.options.jiter=0.2"],
         r"jiter.*did you mean.*jitter"),
    Case("YAML syntax error",
         lambda r, t: (Path(_config(r, t)).write_text("model: {name: [semattnet\n"), ["train", str(r / "config.yaml")])[1],
         r"not valid YAML at line \d+, column \d+"),
    Case("typo in model.name", lambda r, t: [*_train(r, t), "--cfg-options", "model.name=semattnet_b"],
         r"model.name: unknown model 'semattnet_b'; did you mean 'semattnet_bb'"),
    Case("typo in model.kwargs", lambda r, t: [*_train(r, t), "--cfg-options", "model.kwargs.widthmult=0.5"],
         r"model.kwargs.widthmult: .* did you mean 'width_mult'"),
    Case("training crop not a multiple of 32",
         lambda r, t: [*_train(r, t), "--cfg-options", "data.options.crop_h=30"], r"not a multiple of 32"),
    Case("run folder reused",
         lambda r, t: ((r / "runs" / "run").mkdir(parents=True), (r / "runs" / "run" / "config.yaml").write_text("{}"),
                       _train(r, t))[2], r"holds an earlier run"),
    Case("run folder parent is a file",
         lambda r, t: ((r / "afile").write_text(""), [*_train(r, t), "--work-dir", str(r / "afile")])[1],
         r"cannot create the run folder"),
    Case("resume that changes the run's config",
         lambda r, t: ((r / "runs" / "run" / "checkpoints").mkdir(parents=True),
                       shutil.copy(_config(r, t), r / "runs" / "run" / "config.yaml"),
                       ["train", "--resume", str(r / "runs" / "run" / "checkpoints" / "last.ckpt"),
                        "--cfg-options", "data.batch_size=2"])[2],
         r"changes the run's config \(data.batch_size: run 8, now 2\)"),
    Case("missing checkpoint", lambda r, t: ["test", _config(r, t), "--ckpt", str(r / "nope.pth")], r"nope.pth"),
    Case("malicious pickle checkpoint", lambda r, t: ["test", _config(r, t), "--ckpt", _evil_pickle(r)],
         r"evil.pth: .*refus"),
    Case("backbone checkpoint with a full-model config",
         lambda r, t: ["test", _config(r, t), "--cfg-options", "model.name=semattnet", "--ckpt", _ckpt(r)],
         r"fills only the backbone"),
    Case("corrupt ground truth in validation (2 workers)",
         lambda r, t: (_truncate(sorted((t.selection / "val_selection_cropped" / "groundtruth_depth").glob("*"))[0]),
                       ["test", _config(r, t), "--ckpt", _ckpt(r)])[1], r"truncated PNG"),
    Case("predictions with NaN", lambda r, t: _predictions(r, t, lambda g: np.full_like(g, np.nan)),
         r"hold NaN or infinite values"),
    Case("a prediction missing", lambda r, t: (lambda a: (sorted(Path(a[4]).glob("*"))[0].unlink(), a)[1])(
        _predictions(r, t, lambda g: g)), r"1 of 2 predictions missing"),
    Case("prediction of another size (KITTI does not resize)", lambda r, t: _predictions(r, t, lambda g: g[:-2]),
         r"does not resize"),
    Case("unknown protocol", lambda r, t: [*_predictions(r, t, lambda g: g), "--protocol", "kitti-penett"],
         r"unknown metric protocol 'kitti-penett'; did you mean 'kitti-penet'"),
    Case("eval output folder blocked",
         lambda r, t: ((r / "f").write_text(""), [*_predictions(r, t, lambda g: g), "--out", str(r / "f" / "o")])[1],
         r"cannot create the output folder"),
    Case("predict on an empty folder",
         lambda r, t: ([(r / d).mkdir() for d in ("a", "b", "c")],
                       ["predict", "--ckpt", _ckpt(r), "--rgb", str(r / "a"), "--sparse", str(r / "b"),
                        "--semantic", str(r / "c"), "--out", str(r / "o")])[1], r"empty"),
    Case("synth into a file", lambda r, t: ((r / "f").write_text(""), ["synth", "kitti", str(r / "f")])[1],
         r"cannot create the synthetic data folder: it is a file"),
    Case("main.py: unsupported --input", lambda r, t: ["-n", "bb", "-i", "rgb", *_reference_args(t)],
         r"only 'rgbd' exists", command="main.py"),
    Case("main.py: --test without -e", lambda r, t: ["-n", "sem_att", "--test", *_reference_args(t)],
         r"--test needs -e", command="main.py"),
    Case("main.py: sem_att from a backbone without -f",
         lambda r, t: ["-n", "sem_att", "--resume", _ckpt(r), *_reference_args(t)],
         r"holds a backbone \(-n bb\) model", command="main.py"),
    Case("main.py: --val_results into a file",
         lambda r, t: ((r / "f").write_text(""),
                       ["-n", "bb", "-e", _ckpt(r), "--val_results", str(r / "f" / "v"), *_reference_args(t)])[1],
         r"cannot create the --val_results folder", command="main.py"),
    # PatchRefiner's reference tools, on synthetic UnrealStereo4K data laid out as its guide shows (cwd = root)
    Case("tools: a config that imports", lambda r, t: (
        (r / "bad.py").write_text("import os\nmodel = dict()\n"), [str(r / "bad.py")])[1],
        r"bad.py:1: .* is not allowed in a config", command="tools/train.py"),
    Case("tools: typo in a reference config key", lambda r, t: [
        *_pr_train(r), "--cfg-options", "model.coarse_branch.n_binz=8"],
        r"did you mean 'model.coarse_branch.n_bins'", command="tools/train.py"),
    Case("tools: the previous stage's checkpoint is missing", lambda r, t: [
        str(ROOT / "configs/patchrefiner_zoedepth/pr_u4k_tiny.py"), "--work-dir", str(r / "wd")],
        r"coarse_pretrain/checkpoint_24.pth: checkpoint not found", command="tools/train.py"),
    Case("tools: truncated .raw image", lambda r, t: (_truncate(sorted((r / "data/u4k").glob("*/Image0/*.raw"))[0]),
                                                      _pr_train(r))[1],
         r"\.raw: \.raw image has \d+ bytes, expected", command="tools/train.py"),
    Case("tools: a split lists a missing frame", lambda r, t: (
        sorted((r / "data/u4k").glob("*/Disp0/*.npy"))[0].unlink(), _pr_train(r))[1],
        r"\.npy: .*does not exist", command="tools/train.py"),
    Case("tools: unknown tiling mode", lambda r, t: [
        str(ROOT / "configs/patchrefiner_zoedepth/pr_u4k_tiny.py"), "--cai-mode", "m3"],
        r"--cai-mode", command="tools/test.py"),
]


def _pr_train(root: Path) -> list[str]:
    """The guide's tiny coarse stage (no earlier checkpoint needed), one process, into ``root/wd``."""
    return [str(ROOT / "configs/patchfusion_zoedepth/zoedepth_coarse_pretrain_u4k_tiny.py"), "--work-dir",
            str(root / "wd"), "--debug"]


@pytest.fixture(scope="module")
def u4k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("u4k")
    subprocess.run([*COMMANDS["depthforge"], "synth", "u4k", str(root), "--no-progress"], check=True,
                   capture_output=True)
    return root


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("kitti")
    build_kitti(root)
    return root


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_one_line(case: Case, pristine: Path, u4k: Path, tmp_path: Path) -> None:
    shutil.copytree(pristine, tmp_path / "data")
    shutil.copytree(u4k, tmp_path / "data" / "u4k")
    tree = KittiTree(tmp_path / "data" / "kitti_depth" / "depth", tmp_path / "data" / "kitti_raw",
                     tmp_path / "data" / "semantic_maps", [])
    argv = case.make(tmp_path, tree)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run([*COMMANDS[case.command], *argv], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600, check=False)
    progress = re.compile(r"\d+%\|")  # progress bars are not log lines
    lines = [line for line in res.stderr.splitlines()
             if line.strip() and not line.startswith("note:") and not progress.search(line)]
    assert res.returncode == 2, res.stderr[-2000:]
    assert len(lines) == 1, res.stderr[-2000:]
    assert "Traceback" not in res.stderr and "executed" not in res.stdout
    assert re.search(case.message, lines[0]), lines[0]
