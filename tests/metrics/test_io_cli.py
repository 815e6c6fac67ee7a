"""Depth file reading and the ``depthforge eval`` subcommand."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from depthforge.cli import eval as eval_cli
from depthforge.errors import DataError
from depthforge.io import read_depth, read_pfm, write_pfm
from depthforge.metrics import kitti_completion


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="depthforge")
    eval_cli.add_parser(parser.add_subparsers(dest="cmd"))
    return parser.parse_args(["eval", *argv])


def _png16(path: Path, depth: np.ndarray) -> None:
    cv2.imwrite(str(path), np.clip(np.round(depth * 256), 0, 65535).astype(np.uint16))


def test_pfm_round_trip_and_errors(tmp_path):
    d = np.arange(12, dtype=np.float32).reshape(3, 4)
    write_pfm(tmp_path / "a.pfm", d)
    np.testing.assert_array_equal(read_pfm(tmp_path / "a.pfm"), d)
    np.testing.assert_array_equal(read_depth(tmp_path / "a.pfm"), d)
    (tmp_path / "b.pfm").write_bytes(b"P6\n1 1\n255\n\0\0\0")
    with pytest.raises(DataError, match="b.pfm: not a PFM"):
        read_pfm(tmp_path / "b.pfm")
    cv2.imwrite(str(tmp_path / "c.png"), np.zeros((2, 2), np.uint8))
    with pytest.raises(DataError, match="16-bit"):
        read_depth(tmp_path / "c.png")


@pytest.fixture()
def kitti_dirs(tmp_path):
    rng = np.random.default_rng(3)
    gt_dir, pred_dir = tmp_path / "groundtruth_depth", tmp_path / "pred"
    gt_dir.mkdir()
    pred_dir.mkdir()
    gts, preds = [], []
    for i in range(3):
        gt = rng.uniform(2, 60, (12, 20)).astype(np.float32)
        gt[rng.random(gt.shape) > 0.3] = 0
        pred = rng.uniform(2, 60, (12, 20)).astype(np.float32)
        name = f"2011_09_26_drive_0002_sync_groundtruth_depth_000000000{i}_image_02.png"
        _png16(gt_dir / name, gt)
        _png16(pred_dir / name.replace("groundtruth_depth", "image"), pred)
        gts.append(read_depth(gt_dir / name))
        preds.append(read_depth(pred_dir / name.replace("groundtruth_depth", "image")))
    return gt_dir, pred_dir, gts, preds


def test_kitti_eval_writes_csv_and_json(kitti_dirs, tmp_path, capsys):
    gt_dir, pred_dir, gts, preds = kitti_dirs
    out = tmp_path / "out"
    args = _parse(["--dataset", "kitti", "--pred", str(pred_dir), "--gt", str(gt_dir), "--out", str(out)])
    assert eval_cli.run(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["protocol"] == "kitti-devkit" and summary["n_images"] == 3
    expected = np.mean([kitti_completion(p, g, "devkit")["rmse"] for p, g in zip(preds, gts)])
    assert summary["metrics"]["rmse"] == pytest.approx(expected)
    assert len((out / "per_image.csv").read_text().strip().splitlines()) == 4
    printed = capsys.readouterr().out
    assert printed.index("rmse") < printed.index("mae") < printed.index("irmse")


def test_missing_prediction_is_named(kitti_dirs, capsys):
    gt_dir, pred_dir, _, _ = kitti_dirs
    victim = sorted(pred_dir.iterdir())[1]
    victim.unlink()
    args = _parse(["--dataset", "kitti", "--pred", str(pred_dir), "--gt", str(gt_dir), "--protocol", "kitti-penet"])
    assert eval_cli.run(args) == 2
    err = capsys.readouterr().err
    assert "1 of 3 predictions missing" in err and victim.stem in err


def test_sorted_matching_and_size_mismatch(kitti_dirs, tmp_path, capsys):
    gt_dir, _, gts, _ = kitti_dirs
    sub = tmp_path / "submission"
    sub.mkdir()
    for i, g in enumerate(gts):
        np.save(sub / f"{i:010d}.npy", g)
    args = _parse(["--dataset", "kitti", "--pred", str(sub), "--gt", str(gt_dir), "--match-sorted"])
    assert eval_cli.evaluate(args)["metrics"]["rmse"] == pytest.approx(0.0, abs=1e-9)
    np.save(sub / f"{1:010d}.npy", np.ones((5, 5), np.float32))
    assert eval_cli.run(args) == 2
    assert "does not resize" in capsys.readouterr().err


def test_folder_mono_resizes(tmp_path):
    gt_dir, pred_dir = tmp_path / "gt", tmp_path / "pred"
    gt_dir.mkdir()
    pred_dir.mkdir()
    gt = np.full((8, 10), 5.0, np.float32)
    np.save(gt_dir / "a.npy", gt)
    write_pfm(pred_dir / "a.pfm", np.full((4, 5), 5.0, np.float32))
    args = _parse(["--dataset", "folder", "--pred", str(pred_dir), "--gt", str(gt_dir)])
    assert eval_cli.evaluate(args)["metrics"]["a1"] == 1.0


def test_u4k_reader_and_eval(tmp_path):
    scene = tmp_path / "00003"
    for sub in ("Disp0", "Extrinsics0", "Extrinsics1"):
        (scene / sub).mkdir(parents=True)
    disp = np.full((6, 8), 20.0, np.float32)
    disp[:, 4:] = 40.0
    np.save(scene / "Disp0" / "00007.npy", disp)
    (scene / "Extrinsics0" / "00007.txt").write_text("1000 0 0 0\n1 0 0 0.5\n")
    (scene / "Extrinsics1" / "00007.txt").write_text("1000 0 0 0\n1 0 0 0.3\n")
    pred_dir = tmp_path / "pred"
    pred_dir.mkdir()
    depth = 1000 * 0.2 / disp  # focal * |0.5 - 0.3| / disparity
    np.save(pred_dir / "00003_Image0_00007.npy", depth)
    args = _parse(["--dataset", "u4k", "--pred", str(pred_dir), "--gt", str(tmp_path)])
    res = eval_cli.evaluate(args)
    assert res["protocol"] == "mono-zoe"
    assert res["metrics"]["rmse"] == pytest.approx(0.0, abs=1e-5) and res["metrics"]["see"] == pytest.approx(0, abs=1e-5)


def test_cityscapes_reader_and_eval(tmp_path):
    h, w = 64, 128
    rel = Path("val") / "aachen"
    for top in ("disparity", "camera", "gtFine", "leftImg8bit"):
        (tmp_path / top / rel).mkdir(parents=True)
    stem = "aachen_000000_000019"
    disp = np.full((h, w), 1 + 20 * 256, np.uint16)
    disp[:, 64:] = 1 + 40 * 256
    cv2.imwrite(str(tmp_path / "disparity" / rel / f"{stem}_disparity.png"), disp)
    cam = {"extrinsic": {"baseline": 0.209313}, "intrinsic": {"fx": 2262.52}}
    (tmp_path / "camera" / rel / f"{stem}_camera.json").write_text(json.dumps(cam))
    seg = np.zeros((h, w, 3), np.uint8)
    seg[:, :64] = (128, 64, 128)
    seg[:, 64:] = (0, 0, 142)
    seg[:8] = (70, 130, 180)  # sky -> depth 0
    cv2.imwrite(str(tmp_path / "gtFine" / rel / f"{stem}_gtFine_color.png"), seg[:, :, ::-1])
    cv2.imwrite(str(tmp_path / "leftImg8bit" / rel / f"{stem}_leftImg8bit.png"), seg[:, :, ::-1])
    pred_dir = tmp_path / "pred"
    pred_dir.mkdir()
    factor = 0.209313 * 2262.52
    pred = np.where(np.arange(w)[None, :] < 64, factor / 20, factor / 40).repeat(h, 0).astype(np.float32)
    np.save(pred_dir / f"{stem}_leftImg8bit.npy", pred)
    args = _parse(["--dataset", "cityscapes", "--pred", str(pred_dir), "--gt", str(tmp_path)])
    res = eval_cli.evaluate(args)["metrics"]
    assert res["a1"] == 1.0 and res["rmse"] == pytest.approx(0.0, abs=1e-3)
    assert set(res) >= {"EdgeAcc", "EdgeComp", "f1_score"}


def test_folder_mdec_needs_and_reads_gt_edges(tmp_path, capsys):
    from depthforge.io import write_edges
    from depthforge.metrics import mdec_edge_metrics
    from depthforge.metrics.mono import get_boundaries

    gt_dir, pred_dir, edge_dir = tmp_path / "gt", tmp_path / "pred", tmp_path / "edges"
    for d in (gt_dir, pred_dir, edge_dir):
        d.mkdir()
    gt = np.full((40, 60), 20.0, np.float32)
    gt[10:30, 15:45] = 8.0
    pred = gt.copy()
    pred[10:30, 17:47] = 8.0  # the square shifted by two pixels
    np.save(gt_dir / "a.npy", gt)
    np.save(pred_dir / "a.npy", pred)
    edges = get_boundaries(gt, th=1.0) > 0
    write_edges(edge_dir / "a.png", edges)
    argv = ["--dataset", "folder", "--pred", str(pred_dir), "--gt", str(gt_dir), "--protocol", "mdec"]
    assert eval_cli.run(_parse(argv)) == 2  # no edge maps: a one-line error
    err = capsys.readouterr().err.strip()
    assert "needs ground-truth edge maps" in err and len(err.splitlines()) == 1
    result = eval_cli.evaluate(_parse([*argv, "--gt-edges", str(edge_dir)]))
    expected = mdec_edge_metrics(pred, gt, edges, 1e-3, 80.0)
    assert result["protocol"] == "mdec" and result["n_images"] == 1
    assert result["metrics"]["EdgeAcc"] == pytest.approx(expected["EdgeAcc"])
    assert result["metrics"]["EdgeComp"] == pytest.approx(expected["EdgeComp"])
    assert 0 < result["metrics"]["EdgeAcc"] < 10


def test_nonfinite_predictions_fail_unless_a_policy_is_chosen(tmp_path, capsys):
    gt_dir, pred_dir = tmp_path / "gt", tmp_path / "pred"
    gt_dir.mkdir()
    pred_dir.mkdir()
    gt = np.full((8, 10), 5.0, np.float32)
    for stem in ("a", "b"):
        np.save(gt_dir / f"{stem}.npy", gt)
    np.save(pred_dir / "a.npy", np.full((8, 10), np.nan, np.float32))
    np.save(pred_dir / "b.npy", gt)
    np.save(pred_dir / "orphan.npy", gt)
    argv = ["--dataset", "folder", "--pred", str(pred_dir), "--gt", str(gt_dir), "--protocol", "kitti-devkit"]
    assert eval_cli.run(_parse(argv)) == 2
    err = capsys.readouterr().err
    assert "1 prediction(s) hold NaN or infinite values: a.npy (80 px)" in err
    assert "orphan.npy" in err  # unmatched predictions are listed, never ignored silently
    result = eval_cli.evaluate(_parse([*argv, "--nonfinite", "score"]))
    assert result["n_nonfinite_predictions"] == 1 and result["n_images"] == 2
    assert "scored as kitti-devkit does" in capsys.readouterr().err


def test_resize_is_said(tmp_path, capsys):
    gt_dir, pred_dir = tmp_path / "gt", tmp_path / "pred"
    gt_dir.mkdir()
    pred_dir.mkdir()
    np.save(gt_dir / "a.npy", np.full((8, 10), 5.0, np.float32))
    np.save(pred_dir / "a.npy", np.full((4, 5), 5.0, np.float32))
    result = eval_cli.evaluate(_parse(["--dataset", "folder", "--pred", str(pred_dir), "--gt", str(gt_dir)]))
    assert result["n_resized_predictions"] == 1
    assert "resized bilinearly to the ground-truth size (mono-zoe): a.npy 4x5 -> 8x10" in capsys.readouterr().err
