"""The SemAttNet demo's pieces, without training: its staged configs, labelled figures and merged curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from depthforge.batch import GT, IMAGE, SPARSE
from depthforge.demos import semattnet
from depthforge.viz.panels import render_panels

PATHS = {"data": {"options": {"data_folder": "/nowhere/depth", "data_folder_rgb": "/nowhere/raw",
                              "data_semantic": "/nowhere/sem"}},
         "run": {"work_dir": "/tmp/demo_train"}}


def test_stages_follow_the_reference_recipe() -> None:
    bb, init, full = semattnet.stage_configs(PATHS, {})
    assert [s.name for s in semattnet.STAGES] == ["bb", "cspn_init", "full"]
    assert bb.model.name == "semattnet_bb" and init.model.name == full.model.name == "semattnet"
    assert bb.task.loss["deep_supervision"]["schedule"] == [[1, 0.2], [3, 0.05]]  # the reference's schedule
    assert "deep_supervision" not in init.task.loss and "deep_supervision" not in full.task.loss
    assert init.model.freeze == ["backbone."] and not full.model.freeze
    assert [(g.prefix, g.lr_mult) for g in full.optim.param_groups] == [("backbone.", 0.1)]
    heads = [(g.prefix, g.lr_mult) for g in bb.optim.param_groups]  # the depth heads' BatchNorm at 10x lr
    assert heads == [(f"{name}.1.", 10) for name in ("rgb_decoder_output", "segment_decoder_layer6",
                                                      "decoder_layer6")]
    from depthforge.engine.module import EngineModule

    groups = {g["name"]: g for g in EngineModule(bb)._param_groups()}  # the prefixes name the BatchNorms
    for prefix, _ in heads:
        assert len(groups[prefix]["params"]) == 2 and groups[prefix]["lr"] == 10 * bb.optim.lr
    # same loss and width in every stage; epochs continue; each stage starts from the previous one
    assert {c.task.loss["criterion"] for c in (bb, init, full)} == {"l1"}  # the reference's -c l1
    assert {c.model.kwargs["width_mult"] for c in (bb, init, full)} == {0.125}
    assert bb.run.load_from is None
    assert init.run.load_from == "/tmp/demo_train/bb/checkpoints/last.ckpt"
    assert full.run.load_from == "/tmp/demo_train/cspn_init/checkpoints/last.ckpt"
    assert init.run.epoch_offset == bb.trainer.epochs
    assert full.run.epoch_offset == bb.trainer.epochs + init.trainer.epochs


def test_user_overrides_apply_to_every_stage() -> None:
    configs = semattnet.stage_configs(PATHS, {"trainer": {"epochs": 1}})
    assert [c.trainer.epochs for c in configs] == [1, 1, 1]
    assert [c.run.epoch_offset for c in configs] == [0, 1, 2]


def _sample(h: int = 64, w: int = 128) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    gt = np.tile(np.linspace(4, 70, w, dtype=np.float32), (h, 1))
    gt[: h // 4] = 0  # no ground truth at the top, as in KITTI
    return {IMAGE: rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
            SPARSE: np.where(rng.random((h, w)) < 0.05, gt, 0).astype(np.float32), GT: gt}


def test_frame_panels_are_labelled_on_one_scale() -> None:
    s = _sample()
    preds = {"SemAttNet": s[GT] + 0.5, "IP-Basic": s[GT] - 1.0, "nearest fill": s[GT] * 1.1}
    panels = semattnet.frame_panels(s, preds, vmax=70.0)
    assert [p.title for p in panels][:6] == ["RGB", "sparse LiDAR input", "ground truth", *preds]
    assert [p.title for p in panels][6:] == [f"|error| {n}" for n in preds]
    depth = [p for p in panels if p.kind == "depth"]
    assert {(p.vmin, p.vmax) for p in depth} == {(0.0, 70.0)}
    errors = [p for p in panels if p.kind == "error"]
    assert len({(p.vmin, p.vmax) for p in errors}) == 1
    assert np.isnan(errors[0].data[0, 0])  # no ground truth there: no error shown
    fig = render_panels(panels, columns=3, zoom=(16, 32, 16, 21))
    assert len([a for a in fig.axes if a.get_label() == "colorbar"]) == 2 * (len(panels) - 1)


def test_pictures_write_one_figure_per_frame(tmp_path: Path) -> None:
    samples = [_sample(), _sample()]
    rows = {"SemAttNet": [s[GT] + 0.5 for s in samples], "nearest": [s[GT] + 2.0 for s in samples]}
    figures = semattnet._pictures(tmp_path, samples, rows, count=3)
    assert [f.path.name for f in figures] == ["frame_000.png", "frame_001.png"]
    assert all(f.path.is_file() and f.path.stat().st_size > 10_000 for f in figures)
    assert "SemAttNet" in figures[0].caption and "zoom" in figures[0].caption


def test_curves_merge_all_stages(tmp_path: Path) -> None:
    header = "epoch,rmse,photo,mae,delta1\n"
    dirs = []
    for k, name in enumerate(("bb", "cspn_init", "full")):
        d = tmp_path / "train" / name
        d.mkdir(parents=True)
        (d / "train.csv").write_text(header + f"{k},{3 - k},0,{2 - k},0.9\n")
        (d / "val.csv").write_text(header + f"{k},{4 - k},0,{3 - k},0.8\n")
        dirs.append(d)
    png = semattnet._curves(tmp_path / "curves.png", dirs)
    assert png is not None and png.is_file()
    merged = (tmp_path / "train" / "train.csv").read_text().splitlines()
    assert merged[0] == header.strip() and [r.split(",")[0] for r in merged[1:]] == ["0", "1", "2"]


def test_curves_without_logs_is_none(tmp_path: Path) -> None:
    assert semattnet._curves(tmp_path / "c.png", [tmp_path]) is None
