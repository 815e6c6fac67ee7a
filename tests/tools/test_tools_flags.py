"""The reference tools' flags: what each stands for in our config, and one-line errors."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from depthforge.cli import patchrefiner_tools as tools
from depthforge.cli.patchrefiner_tools import train_main, train_parser, train_settings

CONFIG = "configs/patchrefiner_zoedepth/pr_u4k.py"


def _settings(monkeypatch: pytest.MonkeyPatch, *argv: str, wandb: bool = True) -> dict:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    if wandb:
        monkeypatch.setitem(sys.modules, "wandb", types.ModuleType("wandb"))
    else:
        monkeypatch.setitem(sys.modules, "wandb", None)  # import fails
    return train_settings(train_parser().parse_args([CONFIG, *argv]), "20261202_101500")


def test_wandb_run_is_named_and_tagged_as_the_reference_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = _settings(monkeypatch, "--work-dir", "./work_dir/zoedepth/u4k", "--log-name", "pr", "--tag", "pr,u4k")
    assert extra["run"] == {"work_dir": "work_dir/zoedepth/u4k", "name": "pr"}
    assert extra["logging"] == {"wandb": True, "wandb_name": "pr_20261202_101500", "wandb_tags": ["pr", "u4k"]}
    assert extra["trainer"] == {"seed": 621}


def test_debug_or_no_wandb_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _settings(monkeypatch, "--debug")["logging"] == {"wandb": False}
    assert _settings(monkeypatch, wandb=False)["logging"] == {"wandb": False}


def test_amp_debug_val_seed_and_default_run_name(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = _settings(monkeypatch, "--amp", "--debug", "--debug-val", "--seed", "7")
    assert extra["trainer"] == {"seed": 7, "precision": "bf16-mixed", "num_sanity_val_steps": -1}
    assert extra["run"] == {"work_dir": "work_dir", "name": "pr_u4k"}


def test_resume_needs_a_checkpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from depthforge.errors import ConfigError

    with pytest.raises(ConfigError, match="no checkpoint to resume from"):
        _settings(monkeypatch, "--work-dir", str(tmp_path), "--log-name", "pr", "--resume")
    ckpt = tmp_path / "pr" / "checkpoints" / "last.ckpt"
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b"")
    assert _settings(monkeypatch, "--work-dir", str(tmp_path), "--log-name", "pr", "--resume")["run"]["resume"] == \
        str(ckpt)


@pytest.mark.parametrize("main, argv, message", [
    (train_main, [CONFIG, "--launcher", "mpi"], "--launcher mpi is not supported"),
    (train_main, ["configs/nope.py"], "config file not found"),
    (tools.test_main, [CONFIG, "--cai-mode", "m3"], "--cai-mode"),
    (tools.test_main, [CONFIG, "--ckp-path", "missing.pth"], "coarse_pretrain/checkpoint_24.pth: checkpoint not found"),
    (tools.test_main, [CONFIG, "--ckp-path", "missing.pth", "--cfg-options", "model.config.pretrain_coarse_model=None"],
     "missing.pth: checkpoint not found"),
])
def test_errors_are_one_line(main, argv, message, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


def test_config_show_resolves_a_reference_config(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from depthforge.cli import main

    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    assert main(["config", "show", "configs/patchrefiner_zoedepth_online_pesudo/pr_ssi_midas_cs.py",
                 "--cfg-options", "model.edge_loss_weight=7e-2"]) == 0
    out = capsys.readouterr().out
    assert "name: patchrefiner_semi" in out and "edge_weight: 0.07" in out and "div_factor: 1.0" in out
