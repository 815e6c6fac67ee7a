"""Checkpoint I/O: safe reading of official SemAttNet files, strict prefix-aware loading, atomic saving."""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import types

import pytest
import torch

import depthforge
from depthforge.checkpoint import (
    CheckpointError,
    ReferenceResultStub,
    build_from_checkpoint,
    convert_reference_checkpoint,
    extract_state_dict,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)

W = 1 / 16


@pytest.fixture
def fake_metrics(monkeypatch):
    """A throw-away ``metrics`` module with a ``Result`` class, as the reference code pickles it."""
    mod = types.ModuleType("metrics")

    class Result:
        def __init__(self):
            self.rmse, self.mae, self.irmse, self.imae = 753.01, 215.3, 2.1, 0.95
            self.delta1, self.gpu_time = 0.997, 0.12

    Result.__module__ = "metrics"
    Result.__qualname__ = "Result"
    mod.Result = Result
    monkeypatch.setitem(sys.modules, "metrics", mod)
    return mod


def _official_checkpoint(path, model, fake_metrics, epoch=11, **torch_save_kw):
    """Write a file laid out like the reference ``checkpoint-<epoch>.pth.tar``."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    out = model({k: v for k, v in _batch().items()})["depth"]
    out.mean().backward()
    opt.step()
    args = argparse.Namespace(
        network_model="sem_att", lr=1.2727e-3, batch_size=8, input="rgbd", dilation_rate=2
    )
    ckpt = {
        "epoch": epoch,
        "model": model.state_dict(),
        "best_result": fake_metrics.Result(),
        "optimizer": opt.state_dict(),
        "args": args,
    }
    torch.save(ckpt, path, **torch_save_kw)
    return ckpt


def _batch(h=32, w=64):
    g = torch.Generator().manual_seed(0)
    d = torch.where(
        torch.rand(1, 1, h, w, generator=g) < 0.1,
        5 + torch.rand(1, 1, h, w, generator=g),
        torch.zeros(1, 1, h, w),
    )
    return {
        "image": torch.rand(1, 3, h, w, generator=g) * 255,
        "semantic": torch.rand(1, 3, h, w, generator=g) * 255,
        "sparse": d,
    }


def _same_state(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# ----------------------------------------------------------------------------------------------------------
# reading official checkpoints
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("zipfile_format", [True, False])
def test_read_official_sem_att_checkpoint_without_reference_code(
    tmp_path, fake_metrics, monkeypatch, zipfile_format
):
    src = depthforge.create_model("semattnet", width_mult=W)
    path = tmp_path / "model_best.pth.tar"
    _official_checkpoint(path, src, fake_metrics, _use_new_zipfile_serialization=zipfile_format)
    monkeypatch.delitem(sys.modules, "metrics")  # the reference code is not importable any more

    ckpt = read_checkpoint(path)
    assert ckpt["epoch"] == 11
    assert isinstance(ckpt["best_result"], ReferenceResultStub)
    assert ckpt["best_result"].rmse == pytest.approx(753.01)
    assert isinstance(ckpt["args"], argparse.Namespace) and ckpt["args"].network_model == "sem_att"
    assert "state" in ckpt["optimizer"] and "param_groups" in ckpt["optimizer"]

    dst = depthforge.create_model("semattnet", width_mult=W)
    info = load_checkpoint(dst, path)
    assert info["layout"] == "sem_att" and info["target"] == "model" and info["epoch"] == 11
    assert info["loaded"] == 734 and not info["missing"] and not info["unexpected"]
    assert _same_state(src, dst)


def test_bb_checkpoint_into_full_model_backbone(tmp_path, fake_metrics):
    bb = depthforge.create_model("semattnet_bb", width_mult=W)
    path = tmp_path / "checkpoint-59.pth.tar"
    _official_checkpoint(path, bb, fake_metrics, epoch=59)
    full = depthforge.create_model("semattnet", width_mult=W)
    head_before = {k: v.clone() for k, v in full.state_dict().items() if not k.startswith("backbone.")}
    info = load_checkpoint(full, path)
    assert info["layout"] == "bb" and info["target"] == "backbone" and info["loaded"] == 662
    assert info["epoch"] == 59
    assert _same_state(bb, full.backbone)
    head_after = {k: v for k, v in full.state_dict().items() if not k.startswith("backbone.")}
    assert all(torch.equal(head_before[k], head_after[k]) for k in head_before)


def test_sem_att_checkpoint_into_bare_backbone_only_when_asked(tmp_path):
    full = depthforge.create_model("semattnet", width_mult=W)
    bb = depthforge.create_model("semattnet_bb", width_mult=W)
    with pytest.raises(CheckpointError, match="backbone_only=True"):
        load_checkpoint(bb, {"model": full.state_dict()})
    info = load_checkpoint(bb, {"model": full.state_dict()}, backbone_only=True)
    assert info["loaded"] == 662 and len(info["ignored"]) == 72
    assert _same_state(full.backbone, bb)


def test_lightning_and_bare_state_dicts():
    full = depthforge.create_model("semattnet", width_mult=W)
    sd = full.state_dict()
    lightning = {"state_dict": {"model." + k: v for k, v in sd.items()}, "epoch": 4, "global_step": 10}
    assert extract_state_dict(lightning).keys() == sd.keys()
    assert extract_state_dict(sd).keys() == sd.keys()
    assert extract_state_dict({"model": {"module." + k: v for k, v in sd.items()}}).keys() == sd.keys()
    info = load_checkpoint(depthforge.create_model("semattnet", width_mult=W), lightning)
    assert info["epoch"] == 4 and info["loaded"] == len(sd)
    with pytest.raises(CheckpointError, match="no model state dict"):
        extract_state_dict({"epoch": 1, "optimizer": {}})


# ----------------------------------------------------------------------------------------------------------
# refusing code and broken files
# ----------------------------------------------------------------------------------------------------------


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("zipfile_format", [True, False])
def test_refuses_arbitrary_globals(tmp_path, zipfile_format):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth.tar"
    torch.save(
        {"model": {"w": torch.ones(2)}, "x": _Evil(marker)},
        path,
        _use_new_zipfile_serialization=zipfile_format,
    )
    with pytest.raises(CheckpointError) as ei:
        read_checkpoint(path)
    msg = str(ei.value)
    assert str(path) in msg and "system" in msg  # names the file and the global (posix.system / nt.system)
    assert not marker.exists()
    with pytest.raises(CheckpointError):
        load_checkpoint(depthforge.create_model("semattnet_bb", width_mult=W), path)
    assert not marker.exists()


def test_refuses_plain_pickle_with_code(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    with open(path, "wb") as f:
        pickle.dump(_Evil(marker), f, protocol=2)
    with pytest.raises(CheckpointError, match=str(path.name)):
        read_checkpoint(path)
    assert not marker.exists()


def test_corrupt_truncated_missing_files(tmp_path):
    good = tmp_path / "good.pth.tar"
    save_checkpoint(
        {"model": depthforge.create_model("semattnet_bb", width_mult=W).state_dict(), "epoch": 1}, good
    )
    data = good.read_bytes()
    cases = {
        "truncated.pth.tar": data[: len(data) // 2],
        "garbage.pth.tar": b"this is not a checkpoint" * 50,
        "empty.pth.tar": b"",
    }
    for name, payload in cases.items():
        p = tmp_path / name
        p.write_bytes(payload)
        with pytest.raises(CheckpointError, match=name):
            read_checkpoint(p)
    with pytest.raises(CheckpointError, match="no such"):
        read_checkpoint(tmp_path / "missing.pth.tar")


# ----------------------------------------------------------------------------------------------------------
# strict verification
# ----------------------------------------------------------------------------------------------------------


def test_strict_errors_list_missing_unexpected_and_mismatched():
    model = depthforge.create_model("semattnet", width_mult=W)
    sd = dict(model.state_dict())
    del sd["kernel_conf_layer.0.weight"]
    sd["extra_layer.weight"] = torch.zeros(3)
    sd["mask_layer.0.weight"] = torch.zeros(1, 5, 3, 3)
    with pytest.raises(CheckpointError) as ei:
        load_checkpoint(model, {"model": sd})
    msg = str(ei.value)
    assert "missing 1: kernel_conf_layer.0.weight" in msg
    assert "unexpected 1: extra_layer.weight" in msg
    assert "shape mismatch 1: mask_layer.0.weight" in msg and "(1, 5, 3, 3)" in msg

    other_width = depthforge.create_model("semattnet", width_mult=1 / 8).state_dict()
    with pytest.raises(CheckpointError, match=r"shape mismatch \d+"):
        load_checkpoint(model, other_width)

    # non-strict loads what fits and reports the rest
    before = model.mask_layer[0].weight.clone()
    info = load_checkpoint(model, {"model": sd}, strict=False)
    assert info["missing"] == ["kernel_conf_layer.0.weight"] and info["unexpected"] == ["extra_layer.weight"]
    assert len(info["mismatched"]) == 1 and torch.equal(model.mask_layer[0].weight, before)

    # never a silent no-op, even non-strict
    with pytest.raises(CheckpointError, match="no key matches"):
        load_checkpoint(model, {"model": {"foo.weight": torch.zeros(1)}}, strict=False)


# ----------------------------------------------------------------------------------------------------------
# saving
# ----------------------------------------------------------------------------------------------------------


def test_atomic_save_leaves_no_temp_files(tmp_path, monkeypatch):
    model = depthforge.create_model("semattnet_bb", width_mult=W)
    path = tmp_path / "ckpts" / "last.pth"
    save_checkpoint({"model": model.state_dict(), "epoch": 3, "meta": {"lr": [1e-3, 1e-4]}}, path)
    save_checkpoint({"model": model.state_dict(), "epoch": 4}, path)  # overwrite
    assert sorted(os.listdir(path.parent)) == ["last.pth"]
    loaded = torch.load(path, weights_only=True)  # plain containers only
    assert loaded["epoch"] == 4

    # a failure while writing keeps the old file and removes the temporary one
    def boom(obj, f, *a, **k):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint({"epoch": 5}, path)
    monkeypatch.undo()
    assert sorted(os.listdir(path.parent)) == ["last.pth"]
    assert torch.load(path, weights_only=True)["epoch"] == 4

    with pytest.raises(CheckpointError, match="Namespace"):
        save_checkpoint({"args": argparse.Namespace(a=1)}, tmp_path / "x.pth")
    assert not (tmp_path / "x.pth").exists()


def test_convert_reference_checkpoint(tmp_path, fake_metrics):
    src_model = depthforge.create_model("semattnet", width_mult=W)
    src = tmp_path / "model_best_backup.pth.tar"
    _official_checkpoint(src, src_model, fake_metrics, epoch=95)
    dst = tmp_path / "semattnet_plain.pth"
    convert_reference_checkpoint(src, dst)
    plain = torch.load(dst, weights_only=True)  # no allow-list needed any more
    assert plain["epoch"] == 95 and plain["best_result"]["rmse"] == pytest.approx(753.01)
    assert plain["args"]["network_model"] == "sem_att"
    model = depthforge.create_model("semattnet", width_mult=W)
    load_checkpoint(model, dst)
    assert _same_state(model, src_model)


# ----------------------------------------------------------------------------------------------------------
# layouts belong to the model family; building the model a checkpoint holds
# ----------------------------------------------------------------------------------------------------------


class _Other(torch.nn.Module):
    """A model outside the SemAttNet family whose core is also called ``backbone``."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = torch.nn.Linear(3, 4)
        self.head = torch.nn.Linear(4, 1)


def test_models_without_a_filter_load_key_for_key():
    src, dst = _Other(), _Other()
    info = load_checkpoint(dst, {"model": src.state_dict()})
    assert info["layout"] == "direct" and info["target"] == "model" and info["loaded"] == 4
    assert _same_state(src, dst)
    # bare keys that would fit its backbone are not redirected there: only a family filter may decide that
    with pytest.raises(CheckpointError, match="layout 'direct' into model.*no key matches"):
        load_checkpoint(dst, {"model": src.backbone.state_dict()})


def test_build_from_official_files_reads_variant_and_width(tmp_path, fake_metrics):
    for name, width in (("semattnet", W), ("semattnet_bb", 1 / 8)):
        src = depthforge.create_model(name, width_mult=width)
        path = tmp_path / f"{name}.pth.tar"
        _official_checkpoint(path, src, fake_metrics)
        model = build_from_checkpoint(path)
        assert type(model) is type(src) and model.width_mult == width
        assert _same_state(src, model)
        # a name without width (a config of another width): the checkpoint's width still applies
        assert _same_state(src, build_from_checkpoint(path, name))


def test_build_from_recorded_config_and_explicit_overrides(tmp_path):
    src = depthforge.create_model("semattnet_bb", width_mult=W, channels_last=False)
    cfg = {"model": {"name": "semattnet_bb", "kwargs": {"width_mult": W, "channels_last": False}}}
    path = tmp_path / "last.ckpt"
    save_checkpoint(
        {"state_dict": {"model." + k: v for k, v in src.state_dict().items()}, "hyper_parameters": {"config": cfg}},
        path,
    )
    model = build_from_checkpoint(path)
    assert not model.channels_last and _same_state(src, model)
    assert build_from_checkpoint(path, channels_last=True).channels_last
    with pytest.raises(CheckpointError, match=r"last\.ckpt.*shape mismatch"):
        build_from_checkpoint(path, width_mult=1 / 8)


def test_build_from_unknown_layout_names_the_file(tmp_path):
    path = tmp_path / "other.pth"
    save_checkpoint({"model": _Other().state_dict()}, path)
    with pytest.raises(CheckpointError, match=r"other\.pth: cannot tell which model"):
        build_from_checkpoint(path)
