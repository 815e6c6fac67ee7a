"""The guide's reference configs resolve into our typed config with the reference's recipe."""

from __future__ import annotations

from pathlib import Path

import pytest

from depthforge.cli.patchrefiner_config import load_reference_config
from depthforge.config import to_dict
from depthforge.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
GUIDE = [
    "configs/patchfusion_zoedepth/zoedepth_coarse_pretrain_u4k.py",
    "configs/patchrefiner_zoedepth/coarse_pretrain_cs.py",
    "configs/patchrefiner_zoedepth/pr_u4k.py",
    "configs/patchrefiner_zoedepth/pr_cs.py",
    "configs/patchrefiner_zoedepth_online_pesudo/pr_ssi_midas_cs.py",
    "configs/patchrefiner_zoedepth_online_pesudo/pr_ranking_cs.py",
]
# What a _tiny twin may change: sizes (architecture, process shape, crops, batch, samples, workers).
SIZE_KEYS = {"kwargs", "process_shape", "crop_size", "batch_size", "max_train_samples", "max_val_samples",
             "workers", "val_workers", "weights", "ranking_pairs"}


def _load(rel: str, options: list[str] | None = None):
    return load_reference_config(ROOT / rel, options)


def _diff(a, b, path=()):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a.keys() | b.keys():
            yield from _diff(a.get(key), b.get(key), (*path, key))
    elif a != b:
        yield path


@pytest.mark.parametrize("rel", GUIDE)
def test_every_guide_config_and_its_tiny_twin_resolve(rel: str) -> None:
    full, _ = _load(rel)
    tiny, _ = _load(rel.replace(".py", "_tiny.py"))
    changed = {p for p in _diff(to_dict(full), to_dict(tiny))}
    assert changed, "the twin changes nothing"
    for path in changed:
        assert SIZE_KEYS & set(path), f"{rel}: the tiny twin changes {'.'.join(map(str, path))}"
    assert tiny.trainer.epochs == full.trainer.epochs  # same checkpoint names for the next stage


def test_pr_u4k_recipe() -> None:
    cfg, ref = _load("configs/patchrefiner_zoedepth/pr_u4k.py")
    assert cfg.model.name == "patchrefiner" and cfg.model.kwargs["refiner_target"] == "offset_coarse"
    assert [w.path for w in cfg.model.weights] == ["./work_dir/zoedepth/u4k/coarse_pretrain/checkpoint_24.pth"]
    assert cfg.optim.name == "adamw" and cfg.optim.lr == pytest.approx(1.61e-4)
    assert cfg.optim.weight_decay == pytest.approx(0.01) and cfg.optim.grad_clip == pytest.approx(0.1)
    (group,) = cfg.optim.param_groups
    assert group.prefix == "refiner_fine_branch.core." and group.lr_mult == pytest.approx(0.1)
    assert group.weight_decay == pytest.approx(0.01)
    s = cfg.scheduler
    assert (s.name, s.interval, s.div_factor, s.final_div_factor, s.pct_start) == ("onecycle", "step", 2, 100, 0.3)
    assert (s.cycle_momentum, s.base_momentum, s.max_momentum, s.three_phase) == (True, 0.85, 0.95, False)
    assert (cfg.trainer.epochs, cfg.trainer.val_every_n_epochs, cfg.task.options["save_interval"]) == (36, 4, 36)
    assert cfg.data.dataset == "u4k" and cfg.data.batch_size == 4
    assert cfg.data.options["train_split"] == "splits/train.txt"
    assert cfg.task.loss["max_depth"] == 80 and cfg.eval.protocol == "mono-zoe"
    assert ref["model"]["config"]["refiner"]["fusion_model"]["input_chl"] == [64, 512, 512, 512, 512, 512]


def test_coarse_pretraining_maps_the_core_group_onto_zoedepth() -> None:
    cfg, _ = _load("configs/patchfusion_zoedepth/zoedepth_coarse_pretrain_u4k.py")
    assert cfg.model.name == "zoedepth_n"
    assert [w.path for w in cfg.model.weights] == ["./work_dir/ZoeDepthv1.pt"]
    assert [g.prefix for g in cfg.optim.param_groups] == ["core."]
    assert (cfg.scheduler.div_factor, cfg.scheduler.final_div_factor, cfg.scheduler.pct_start) == (1, 1e4, 0.5)
    assert cfg.optim.lr == pytest.approx(2e-4) and cfg.trainer.epochs == 24
    # the reference's BaselinePretrain sees the whole frame (image_lr) against full-size GT, never a crop
    assert cfg.data.options["sample"] == "whole"
    pr, _ = _load("configs/patchrefiner_zoedepth/pr_u4k.py")
    assert "sample" not in pr.data.options  # PatchRefiner trains on random crops (the default)


@pytest.mark.parametrize("rel", ["configs/patchfusion_zoedepth/zoedepth_coarse_pretrain_u4k_demo.py",
                                 "configs/patchrefiner_zoedepth/pr_u4k_demo.py"])
def test_demo_twins_resolve_with_the_guide_recipe(rel: str) -> None:
    demo, _ = _load(rel)
    full, _ = _load(rel.replace("_demo.py", ".py"))
    assert demo.model.name == full.model.name and demo.data.dataset == full.data.dataset
    assert demo.scheduler == full.scheduler and demo.optim.grad_clip == full.optim.grad_clip
    assert demo.data.max_train_samples is None and demo.data.options.get("sample") == full.data.options.get("sample")


def test_teacher_student_stage_and_typed_cfg_options() -> None:
    cfg, _ = _load("configs/patchrefiner_zoedepth_online_pesudo/pr_ssi_midas_cs.py", ["model.edge_loss_weight=7e-2"])
    assert cfg.model.name == "patchrefiner_semi"
    assert cfg.task.loss["edge_loss"] == "ssi"
    weight = cfg.task.loss["edge_weight"]
    assert isinstance(weight, float) and weight == pytest.approx(0.07)
    assert [(w.target, Path(w.path).parent.name) for w in cfg.model.weights] == [
        ("student_model", "coarse_pretrain"), ("student_model", "pr"),
        ("teacher_model", "coarse_pretrain"), ("teacher_model", "pr")]
    assert cfg.optim.param_groups[0].prefix == "student_model.refiner_fine_branch.core."
    assert cfg.scheduler.div_factor == 1 and cfg.trainer.epochs == 2
    assert cfg.data.dataset == "cityscapes" and cfg.data.options["sky_masks"] == "require"
    assert cfg.eval.protocol == "cityscapes-pr" and cfg.task.loss["max_depth"] == 250
    ranking, _ = _load("configs/patchrefiner_zoedepth_online_pesudo/pr_ranking_cs.py")
    assert ranking.task.loss["edge_loss"] == "ranking" and ranking.task.loss["ranking_pairs"] == 10000


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "mine.py"
    path.write_text(f"_base_ = ['{ROOT / 'configs/patchrefiner_zoedepth/pr_u4k.py'}']\n{body}\n")
    return path


@pytest.mark.parametrize("body, message", [
    ("model = dict(config=dict(strategy_refiner_targt='offset_coarse'))", "did you mean 'model.config.strategy_refiner_target'"),
    ("train_cgf = dict(max_epochs=1)", "did you mean 'config.train_cfg'"),
    ("model = dict(config=dict(fusion_feat_level=4))", "fusion_feat_level=4 is not supported"),
    ("model = dict(config=dict(coarse_branch=dict(attractor_kind='sum')))", "attractor_kind='sum' is not supported"),
    ("optim_wrapper = dict(optimizer=dict(type='SGD'))", "type='SGD' is not supported"),
    ("train_cfg = dict(val_type='iter_base')", "val_type='iter_base' is not supported"),
    ("model = dict(type='Unknown')", "model.type='Unknown' is not supported"),
    ("import os", "is not allowed in a config"),
])
def test_user_config_errors_are_one_line_and_name_the_file(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_reference_config(_write(tmp_path, body))
    text = str(info.value)
    assert message in text and "mine.py" in text and "\n" not in text


def test_users_own_variables_are_allowed(tmp_path: Path) -> None:
    cfg, ref = load_reference_config(_write(tmp_path, "my_lr = 1e-4 * 2\noptim_wrapper = dict(optimizer=dict(lr=my_lr))"))
    assert cfg.optim.lr == pytest.approx(2e-4) and ref["my_lr"] == pytest.approx(2e-4)
