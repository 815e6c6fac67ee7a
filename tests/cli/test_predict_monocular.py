"""``depthforge predict`` on users' images with ZoeDepth-N or PatchRefiner (small variants)."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from depthforge.cli import main
from depthforge.io import read_npy, read_ply
from depthforge.registry import create_model, model_test_kwargs


def _save(name: str, path: Path) -> str:
    torch.manual_seed(0)
    torch.save({"model": create_model(name, **model_test_kwargs(name)).state_dict()}, path)
    return str(path)


def _images(folder: Path, h: int, w: int) -> None:
    folder.mkdir()
    rng = np.random.default_rng(0)
    cv2.imwrite(str(folder / "rgb.png"), rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    cv2.imwrite(str(folder / "grey.png"), rng.integers(0, 256, (h, w), dtype=np.uint8))
    cv2.imwrite(str(folder / "rgba.png"), rng.integers(0, 256, (h, w, 4), dtype=np.uint8))
    cv2.imwrite(str(folder / "deep.png"), rng.integers(0, 65536, (h, w, 3), dtype=np.uint16))


def test_zoedepth_on_a_folder_with_conversions_and_point_clouds(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    _images(tmp_path / "in", 48, 80)
    ckpt = _save("zoedepth_n", tmp_path / "zoe.pth")
    assert main(["predict", "--ckpt", ckpt, "--image", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                 "--fov", "60"]) == 0
    err = capsys.readouterr().err
    assert "grey.png: grey image repeated to RGB" in err and "rgba.png: alpha channel dropped" in err
    assert "deep.png: 16-bit image scaled to [0, 1]" in err
    for stem in ("rgb", "grey", "rgba", "deep"):
        depth = read_npy(tmp_path / "out" / f"{stem}.npy")
        assert depth.shape == (48, 80) and np.isfinite(depth).all() and (depth > 0).all()
        assert (tmp_path / "out" / f"{stem}.png").is_file() and (tmp_path / "out" / f"{stem}_color.png").is_file()
        points, colors = read_ply(tmp_path / "out" / f"{stem}.ply")
        assert points.shape == (48 * 80, 3) and colors.dtype == np.uint8
        np.testing.assert_allclose(points[:, 2], depth.reshape(-1), rtol=1e-6)


def test_patchrefiner_tiled_and_its_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _images(tmp_path / "in", 128, 128)
    ckpt = _save("patchrefiner", tmp_path / "pr.pth")
    out = tmp_path / "out"
    assert main(["predict", "--ckpt", ckpt, "--image", str(tmp_path / "in" / "rgb.png"), "--out", str(out),
                 "--patch-split-num", "2", "2", "--mode", "m1"]) == 0
    assert read_npy(out / "rgb.npy").shape == (128, 128)
    capsys.readouterr()
    cv2.imwrite(str(tmp_path / "odd.png"), np.zeros((129, 128, 3), np.uint8))
    assert main(["predict", "--ckpt", ckpt, "--image", str(tmp_path / "odd.png"), "--out", str(out),
                 "--patch-split-num", "2", "2"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip() and "%|" not in line]
    assert len(err) == 1 and "odd.png" in err[0] and "pad" in err[0], err
    assert main(["predict", "--ckpt", ckpt, "--image", str(tmp_path / "nothing*.png"), "--out", str(out)]) == 2
    assert "no images" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["zoedepth_n", "patchrefiner"])
def test_bf16_mixed_precision_is_close_to_float32(tmp_path: Path, name: str) -> None:
    _images(tmp_path / "in", 128, 128)
    ckpt = _save(name, tmp_path / "m.pth")
    image = str(tmp_path / "in" / "rgb.png")
    depth = {}
    for precision in ("32-true", "bf16-mixed"):
        out = tmp_path / precision
        assert main(["predict", "--ckpt", ckpt, "--image", image, "--out", str(out), "--precision", precision,
                     "--patch-split-num", "2", "2"]) == 0
        depth[precision] = read_npy(out / "rgb.npy")
    low, ref = depth["bf16-mixed"], depth["32-true"]
    assert low.dtype == np.float32 and low.shape == ref.shape == (128, 128)
    rel = np.abs(low - ref) / ref
    assert 0 < rel.max() < 0.05, rel.max()  # really run in 16 bits, and still close


def test_unknown_precision_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from depthforge.inference.monocular import MonocularPredictor
    from depthforge.inference.precision import PRECISIONS

    with pytest.raises(ValueError, match="bf16-mixed"):
        MonocularPredictor(torch.nn.Identity(), precision="bf16")
    with pytest.raises(SystemExit):  # the command line offers exactly the names the module knows
        main(["predict", "--help"])
    assert "{" + ",".join(PRECISIONS) + "}" in capsys.readouterr().out


def _reference_pair(folder: Path) -> tuple[Path, Path, dict[str, torch.Tensor]]:
    """A reduced PatchRefiner (trained at 64 x 64) written as the reference's coarse and refiner files."""
    torch.manual_seed(0)
    state = create_model("patchrefiner", **model_test_kwargs("patchrefiner")).state_dict()
    coarse, refiner = folder / "checkpoint_24.pth", folder / "checkpoint_36.pth"
    n = len("coarse_branch.")
    coarse_sd = {k[n:]: v for k, v in state.items() if k.startswith("coarse_branch.")}
    torch.save({"epoch": 23, "model_state_dict": coarse_sd}, coarse)
    refiner_sd = {k: v for k, v in state.items() if not k.startswith("coarse_branch.")}
    torch.save({"epoch": 35, "model_state_dict": refiner_sd}, refiner)
    return coarse, refiner, state


def test_patchrefiner_pair_of_a_reduced_model_and_a_swapped_pair(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The reference's coarse + refiner files of a model trained at another width run as they are; the same
    files given in the wrong order are one error line naming the file, not a silently wrong model."""
    _images(tmp_path / "in", 128, 128)
    coarse, refiner, _ = _reference_pair(tmp_path)
    image, out = str(tmp_path / "in" / "rgb.png"), tmp_path / "out"
    assert main(["predict", "--ckpt", str(coarse), str(refiner), "--image", image, "--out", str(out),
                 "--patch-split-num", "2", "2"]) == 0
    depth = read_npy(out / "rgb.npy")
    assert depth.shape == (128, 128) and np.isfinite(depth).all()
    capsys.readouterr()
    assert main(["predict", "--ckpt", str(refiner), str(coarse), "--image", image, "--out", str(out)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and f"{refiner}: a refiner checkpoint" in err[0], err
    assert "coarse checkpoint first" in err[0]


def test_process_shape_runs_a_pair_at_the_size_it_was_trained_at(tmp_path: Path) -> None:
    """The reference's files do not record the process shape: --process-shape gives the model's own output,
    where the default size (384 x 512) gives another."""
    from depthforge.models.patchrefiner import PatchRefiner

    _images(tmp_path / "in", 128, 128)
    coarse, refiner, state = _reference_pair(tmp_path)
    image = tmp_path / "in" / "rgb.png"
    depth = {}
    for name, extra in (("own", ["--process-shape", "64", "64"]), ("default", [])):
        assert main(["predict", "--ckpt", str(coarse), str(refiner), "--image", str(image),
                     "--out", str(tmp_path / name), "--patch-split-num", "2", "2", *extra]) == 0
        depth[name] = read_npy(tmp_path / name / "rgb.npy")
    model = create_model("patchrefiner", **model_test_kwargs("patchrefiner"))
    assert isinstance(model, PatchRefiner) and model.process_shape == (64, 64)
    model.load_state_dict(state)
    rgb = cv2.cvtColor(cv2.imread(str(image)), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    with torch.inference_mode():
        expected = model.eval().infer(torch.from_numpy(rgb).permute(2, 0, 1)[None], mode="m1",
                                      patch_split_num=(2, 2), process_num=4)["depth"][0, 0].numpy()
    np.testing.assert_allclose(depth["own"], expected, rtol=1e-5, atol=1e-6)
    assert np.abs(depth["default"] - expected).max() > 1e-3


def test_zoedepth_sees_the_process_shape() -> None:
    from depthforge.inference.monocular import ZOEDEPTH_SHAPE, MonocularPredictor

    model = create_model("zoedepth_n", **model_test_kwargs("zoedepth_n")).eval()
    seen: list[tuple[int, ...]] = []
    model.register_forward_pre_hook(lambda _, args: seen.append(tuple(args[0].shape[-2:])))
    image = np.random.default_rng(0).random((50, 70, 3), dtype=np.float32)
    for shape in (None, (64, 96)):
        depth = MonocularPredictor(model, process_shape=shape).predict(image)
        assert depth.shape == (50, 70)
    assert seen == [ZOEDEPTH_SHAPE, (64, 96)]


@pytest.mark.parametrize(("options", "message"), [
    (["--process-shape", "100", "64"], r"process_shape must be two positive multiples of 32, got \(100, 64\)"),
    (["--mode", "m3"], "unknown tiling mode 'm3'"),
    (["--process-num", "0"], "process_num must be an integer >= 1"),
    (["--patch-split-num", "0", "2"], "patch_split_num must be two positive integers"),
    (["--device", "tpu"], "unknown device 'tpu'"),
    (["--device", "cuda:7"], r"device 'cuda:7': 2 CUDA GPU\(s\) here: cuda:0..cuda:1"),
    (["--fx", "500"], "a point cloud needs all of --fx --fy --cx --cy, or --fov"),
    (["--fx", "500", "--fov", "60"], "give --fov or --fx --fy --cx --cy for the point cloud, not both"),
    (["--fov", "180"], "--fov must be between 0 and 180"),
    (["--max-depth", "0"], "--max-depth must be a finite positive"),
    (["--max-depth", "inf"], "--max-depth must be a finite positive"),
])
def test_bad_options_are_refused_before_any_model_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch, options: list[str],
                                                          message: str) -> None:
    """One line naming the option, before the checkpoint is even opened (it does not exist here)."""
    _two_gpus(monkeypatch)
    _images(tmp_path / "in", 32, 32)
    missing = str(tmp_path / "missing.pth")
    image = str(tmp_path / "in" / "rgb.png")
    argv = ["predict", "--ckpt", missing, "--image", image, "--out", str(tmp_path / "o")]
    assert main([*argv, *options]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and re.search(message, err[0]) and "missing.pth" not in err[0], err


def _two_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)


def test_resolve_device(monkeypatch: pytest.MonkeyPatch) -> None:
    from depthforge.errors import ConfigError
    from depthforge.inference.device import resolve_device

    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(ConfigError, match="unknown device 'gpu'"):
        resolve_device("gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        resolve_device("cuda")
    _two_gpus(monkeypatch)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(ConfigError, match="2 CUDA GPU"):
        resolve_device("cuda:2")


def test_predictor_options_are_checked_by_name(tmp_path: Path) -> None:
    from depthforge.errors import ConfigError
    from depthforge.inference.monocular import MonocularPredictor

    missing = [str(tmp_path / "missing.pth")]
    with pytest.raises(ConfigError, match="unknown predictor option.*patch_split"):
        MonocularPredictor.from_checkpoints(missing, patch_split=(2, 2))
    with pytest.raises(ConfigError, match="patch_split_num must be two positive integers, got"):
        MonocularPredictor.from_checkpoints(missing, patch_split_num=("a", 2))
    with pytest.raises(ConfigError, match="process_num must be an integer"):
        MonocularPredictor.from_checkpoints(missing, process_num=2.5)
