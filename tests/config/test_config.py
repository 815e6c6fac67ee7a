from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from depthforge.config import dump_yaml, from_dict, load_config, metric_mode, parse_overrides
from depthforge.errors import ConfigError
from depthforge.tasks.completion import CompletionLoss

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


def test_base_inheritance_and_override_order(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", {"data": {"dataset": "kitti", "batch_size": 2, "options": {"jitter": 0.3}},
                                   "optim": {"lr": 0.1}})
    child = write(tmp_path / "child.yaml", {"_base_": "base.yaml", "data": {"batch_size": 8}})
    cfg = load_config(child, ["optim.lr=0.5", "data.options.val=full"])
    assert cfg.data.batch_size == 8  # child wins over base
    assert cfg.data.options["jitter"] == 0.3  # inherited
    assert cfg.optim.lr == 0.5  # command line wins over files
    assert cfg.data.options["val"] == "full"


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.yaml", {"data": {"bach_size": 4}})
    with pytest.raises(ConfigError, match=r"unknown config key 'config.data.bach_size'.*did you mean 'config.data.batch_size'"):
        load_config(cfg)


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config.data.batch_size: expected an integer"):
        load_config(None, ["data.batch_size=abc"])
    with pytest.raises(ConfigError, match=r"data.options.val: must be one of"):
        load_config(None, ["data.dataset=kitti", "data.options.val=everything"])


def test_owned_sections_are_validated_at_load_time() -> None:
    with pytest.raises(ConfigError, match=r"task.loss.criterion: must be one of"):
        load_config(None, ["model.name=semattnet", "task.loss.criterion=l3"])
    with pytest.raises(ConfigError, match=r"unknown config key .*task.options.comparison_evry.*did you mean"):
        load_config(None, ["model.name=semattnet", "task.options.comparison_evry=3"])
    with pytest.raises(ConfigError, match=r"unknown config key .*jiter.*did you mean .*jitter"):
        load_config(None, ["data.dataset=kitti", "data.options.jiter=0.2"])
    with pytest.raises(ConfigError, match=r"did you mean 'kitti'"):
        load_config(None, ["data.dataset=kiti"])
    with pytest.raises(ConfigError, match=r"did you mean 'completion'"):
        load_config(None, ["task.name=completon"])
    with pytest.raises(ConfigError, match=r"eval.protocol=mono-zoe is not a completion protocol"):
        load_config(None, ["model.name=semattnet", "eval.protocol=mono-zoe"])
    with pytest.raises(ConfigError, match=r"model.name: unknown model 'semattnt'; did you mean 'semattnet'"):
        load_config(None, ["model.name=semattnt"])
    with pytest.raises(ConfigError, match=r"model.kwargs.width: semattnet takes no argument 'width'; did you mean "
                                          r"'width_mult'"):
        load_config(None, ["model.name=semattnet", "model.kwargs.width=0.5"])
    with pytest.raises(ConfigError, match=r"data.options is set but data.dataset is empty"):
        load_config(None, ["data.options.jitter=0.2"])


def test_yaml_tags_are_not_executed(tmp_path: Path) -> None:
    evil = tmp_path / "evil.yaml"
    evil.write_text("data: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(evil)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  name: semattnet\ndata:\n  batch_size: [4\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: not valid YAML at line \d+, column \d+") as caught:
        load_config(bad)
    assert "\n" not in str(caught.value)


def test_circular_base_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", {"_base_": "b.yaml"})
    write(tmp_path / "b.yaml", {"_base_": "a.yaml"})
    with pytest.raises(ConfigError, match="circular"):
        load_config(tmp_path / "a.yaml")


def test_resolved_config_round_trips(tmp_path: Path) -> None:
    cfg = load_config(CONFIGS / "semattnet" / "full_p3_kitti.yaml")
    assert cfg.scheduler.patience == 3 and cfg.optim.lr == pytest.approx(0.025298)
    assert cfg.optim.param_groups[0].prefix == "backbone." and cfg.optim.param_groups[0].lr_mult == 0.1
    dump_yaml(cfg, tmp_path / "resolved.yaml")
    again = load_config(tmp_path / "resolved.yaml")
    assert again == cfg


@pytest.mark.parametrize("name", sorted(p.name for p in (CONFIGS / "semattnet").glob("*.yaml")))
def test_recipe_configs_validate(name: str) -> None:
    cfg = load_config(CONFIGS / "semattnet" / name)
    assert cfg.optim.betas == (0.9, 0.99) and cfg.optim.weight_decay == pytest.approx(1e-6)


def test_recipe_values() -> None:
    bb = load_config(CONFIGS / "semattnet" / "bb_kitti.yaml")
    assert (bb.trainer.epochs, bb.data.batch_size, bb.scheduler.patience) == (60, 8, 4)
    loss = from_dict(CompletionLoss, bb.task.loss)
    assert loss.deep_supervision is not None and loss.deep_supervision.schedule == [(1, 0.2), (3, 0.05)]
    init = load_config(CONFIGS / "semattnet" / "cspn_init_kitti.yaml")
    assert init.model.freeze == ["backbone."] and init.trainer.epochs == 5 and not init.model.freeze_bn_stats


def test_overrides_parse_yaml_values() -> None:
    assert parse_overrides(["a.b=1", "a.c=[1, 2]", "d=true", "e=x"]) == {"a": {"b": 1, "c": [1, 2]}, "d": True, "e": "x"}
    with pytest.raises(ConfigError):
        parse_overrides(["novalue"])


def test_cross_field_validation() -> None:
    # The crop rule is the model's (its contract), checked against the dataset's options at load time.
    with pytest.raises(ConfigError, match="training crop size 100x1216 is not a multiple of 32"):
        load_config(None, ["model.name=semattnet", "data.dataset=kitti", "data.options.crop_h=100"])
    assert load_config(None, ["data.dataset=kitti", "data.options.crop_h=100"]).data.options["crop_h"] == 100
    with pytest.raises(ConfigError, match="exclusive"):
        load_config(None, ["run.resume=a.ckpt", "run.load_from=b.ckpt"])


def test_metric_direction() -> None:
    assert metric_mode("val/rmse") == "min" and metric_mode("val/delta1") == "max"
    assert metric_mode("boundary_f1") == "max" and metric_mode("val/EdgeComp") == "min"
