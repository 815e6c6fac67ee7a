"""Every command checks its output folder before computing anything: one line, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from depthforge.cli import main as cli_main
from depthforge.cli.reference import main as reference_main
from depthforge.errors import DataError
from depthforge.io import prepare_output_dir

DATA = ["--data-folder", "kd", "--data-folder-rgb", "kr", "--data-semantic", "sm"]


@pytest.fixture
def blocked(tmp_path: Path) -> Path:
    """A folder path whose parent is a file."""
    (tmp_path / "afile").write_text("x")
    return tmp_path / "afile" / "out"


def _config(tmp_path: Path) -> str:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: {name: semattnet_bb, kwargs: {width_mult: 0.0625}}\n"
                   "data: {dataset: kitti, options: {data_folder: nowhere}}\n")
    return str(cfg)


def _argv(name: str, tmp_path: Path, out: Path) -> list[str]:
    ckpt = str(tmp_path / "missing.ckpt")
    return {
        "train": ["train", _config(tmp_path), "--work-dir", str(out)],
        "test-val": ["test", _config(tmp_path), "--ckpt", ckpt, "--out", str(out)],
        "test-test": ["test", _config(tmp_path), "--ckpt", ckpt, "--split", "test", "--out", str(out)],
        "eval": ["eval", "--dataset", "folder", "--pred", str(tmp_path), "--gt", str(tmp_path), "--out", str(out)],
        "predict": ["predict", "--ckpt", ckpt, "--rgb", "a.png", "--sparse", "b.png", "--semantic", "c.png",
                    "--out", str(out)],
        "synth": ["synth", "kitti", str(out), "--no-progress"],
        "demo": ["demo", "--out", str(out)],
    }[name]


@pytest.mark.parametrize("name", ["train", "test-val", "test-test", "eval", "predict", "synth", "demo"])
def test_blocked_output_is_one_line(name: str, blocked: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main(_argv(name, tmp_path, blocked))
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert str(blocked) in err and "is a file" in err and len(err.splitlines()) == 1, err


@pytest.mark.parametrize("flags", [["--val_results"], ["--test", "--test-save"]])
def test_reference_cli_checks_outputs_first(flags: list[str], blocked: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    from depthforge.registry import create_model

    ckpt = tmp_path / "bb.pth.tar"
    torch.save({"epoch": 3, "model": create_model("semattnet_bb", width_mult=0.0625).state_dict()}, ckpt)
    code = reference_main(["-n", "bb", "-e", str(ckpt), *DATA, *flags, str(blocked),
                           "--cfg-options", "model.kwargs.width_mult=0.0625"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "is a file" in err and len(err.splitlines()) == 1, err


def test_prepare_output_dir_creates_and_refuses(tmp_path: Path) -> None:
    made = prepare_output_dir(tmp_path / "a" / "b")
    assert made.is_dir()
    (tmp_path / "f").write_text("")
    with pytest.raises(DataError, match=r"cannot create the output folder: it is a file"):
        prepare_output_dir(tmp_path / "f")
