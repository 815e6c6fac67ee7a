"""Same seed gives identical bytes, another seed gives other data; the ``synth`` CLI subcommand."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from depthforge.cli import synth as synth_cli
from depthforge.synth import write_kitti, write_u4k


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_kitti_is_deterministic_under_a_seed(tmp_path: Path) -> None:
    kw = dict(drives=1, frames=1, val_drives=0, n_val_select=0, n_test=0, progress=False)
    a = _tree(write_kitti(tmp_path / "a", seed=7, **kw).root)
    b = _tree(write_kitti(tmp_path / "b", seed=7, **kw).root)
    c = _tree(write_kitti(tmp_path / "c", seed=8, **kw).root)
    assert len(a) == 9 and a == b  # 8 PNGs (2 cameras x rgb, semantic, sparse, gt) + calib
    assert a.keys() == c.keys()
    pngs = [k for k in a if k.endswith(".png")]
    assert all(a[k] != c[k] for k in pngs)


def test_u4k_is_deterministic_under_a_seed(tmp_path: Path) -> None:
    kw = dict(scenes=1, frames=1, height=24, width=40, progress=False)
    a = _tree(write_u4k(tmp_path / "a", seed=0, **kw).root)
    assert a == _tree(write_u4k(tmp_path / "b", seed=0, **kw).root)
    c = _tree(write_u4k(tmp_path / "c", seed=1, **kw).root)
    assert a["00000/Disp0/00000.npy"] != c["00000/Disp0/00000.npy"]


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="depthforge")
    synth_cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_writes_cityscapes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse(["synth", "cityscapes", str(tmp_path), "--cities", "1", "--val-cities", "0", "--frames", "1",
                   "--height", "32", "--width", "64", "--seed", "4", "--no-progress"])
    assert args.command == "synth" and args.func is synth_cli.run
    assert synth_cli.run(args) == 0
    assert (tmp_path / "train.txt").read_text().count("\n") == 1
    assert "CityScapes root" in capsys.readouterr().out


def test_cli_rejects_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert synth_cli.run(_parse(["synth", "kitti", str(tmp_path), "--width", "10"])) == 2
    assert synth_cli.run(_parse(["synth", "u4k", str(tmp_path), "--frames", "0", "--no-progress"])) == 2
    err = capsys.readouterr().err
    assert "frames" in err and all(line.startswith("depthforge synth: error:") for line in err.splitlines())
    with pytest.raises(SystemExit):
        _parse(["synth", "nyu", str(tmp_path)])
