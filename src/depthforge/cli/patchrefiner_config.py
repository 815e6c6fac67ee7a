"""PatchRefiner's reference configs (the mmengine-style Python dialect) as a typed :class:`~depthforge.config.Config`.

A reference config is read without executing code (:func:`depthforge.config.load_pyconfig`) and translated
key by key. Keys that only steered the reference's own machinery (ZoeDepth's trainer settings, image-logging
intervals, cuDNN flags) are accepted and ignored; keys whose value we cannot honour are refused with a
one-line error; unknown keys get the same did-you-mean as our YAML configs. Every deliberate difference from
the reference is listed in ``docs/patchrefiner_tools.md``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from depthforge.config import Config, build_config
from depthforge.errors import ConfigError

__all__ = ["load_reference_config", "translate"]

# ZoeDepth settings of the reference configs that do not change the network we build.
_ZOE_INERT = frozenset({
    "type", "pretrained_resource", "use_pretrained_midas", "train_midas", "freeze_midas_bn", "do_resize",
    "attractor_alpha",  # recorded by the reference but never passed to its attractors (300 applies)
    "aug", "clip_grad", "dataset", "distributed", "force_keep_ar", "gpu", "img_size", "inverse_midas",
    "log_images_every", "max_translation", "memory_efficient", "model", "name", "notes", "prefetch",
    "print_losses", "project", "random_crop", "random_translate", "root", "save_dir", "shared_dict", "tags",
    "translate_prob", "uid", "use_amp", "use_shared_dict", "validate_every", "version_name", "workers",
})
# ZoeDepth settings with one supported value.
_ZOE_FIXED = {"attractor_kind": "mean", "attractor_type": "inv", "bin_centers_type": "softplus",
              "output_distribution": "logbinomial", "midas_model_type": "DPT_BEiT_L_384"}
# ZoeDepth settings that are architecture arguments of ours (the last group only in reduced-size configs).
_ZOE_ARGS = frozenset({
    "n_bins", "bin_embedding_dim", "n_attractors", "attractor_gamma", "min_temp", "max_temp",
    "embed_dim", "depth", "num_heads", "mlp_ratio", "pretrain_grid", "num_classes", "taps",
    "reassemble_channels", "features", "head_features",
})
_PR_KEYS = frozenset({
    "image_raw_shape", "patch_process_shape", "patch_raw_shape", "patch_split_num", "fusion_feat_level",
    "min_depth", "max_depth", "pretrain_coarse_model", "strategy_refiner_target", "coarse_branch", "refiner",
    "sigloss", "pretrained", "pre_norm_bbox", "load_whole",
})
_COARSE_KEYS = frozenset({"type", "min_depth", "max_depth", "target", "coarse_branch", "fine_branch", "sigloss",
                          "image_raw_shape", "patch_split_num", "patch_process_shape", "patch_raw_shape"})
_SEMI_KEYS = frozenset({"type", "model_cfg_student", "model_cfg_teacher", "mix_loss", "edge_loss_weight",
                        "edgeloss", "sigloss", "min_depth", "max_depth", "edge_thr", "distill", "pseudo_strat",
                        "ranking_weight", "ssi_weight"})
_TOP_KEYS = frozenset({
    "model", "train_dataloader", "val_dataloader", "test_in_dataloader", "test_out_dataloader",
    "general_dataloader", "train_cfg", "optim_wrapper", "param_scheduler", "project", "collect_input_args",
    "convert_syncbn", "find_unused_parameters", "env_cfg", "min_depth", "max_depth", "zoe_depth_config",
    "zoe_depth_teacher_config", "sub_model_student", "model_cfg_teacher", "seed", "work_dir", "depthforge",
})
_DATASETS = {"UnrealStereo4kDataset": "u4k", "CityScapesDataset": "cityscapes"}
_PROTOCOLS = {"u4k": "mono-zoe", "cityscapes": "cityscapes-pr"}
_EDGE_LOSSES = {"ScaleAndShiftInvariantLoss": "ssi", "EdgeguidedRankingLoss": "ranking"}


def _check_keys(section: Mapping[str, Any], known: Iterable[str], where: str) -> None:
    known = sorted(known)
    for key in section:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"; did you mean '{where}.{close[0]}'?" if close else ""
            raise ConfigError(f"unknown config key '{where}.{key}'{hint}")


def _section(cfg: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = cfg.get(key) or {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}.{key}: expected dict(...), got {value!r}")
    return dict(value)


def _zoe_kwargs(zoe: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Our ZoeDepth architecture arguments from a reference ``zoe_depth_config``."""
    _check_keys(zoe, _ZOE_INERT | _ZOE_ARGS | set(_ZOE_FIXED) | {"min_depth", "max_depth"}, where)
    for key, value in _ZOE_FIXED.items():
        if key in zoe and zoe[key] != value:
            raise ConfigError(f"{where}.{key}={zoe[key]!r} is not supported (only {value!r})")
    return {k: list(v) if isinstance(v, tuple) else v for k, v in zoe.items() if k in _ZOE_ARGS}


def _local_path(resource: Any, where: str) -> str | None:
    """``'local::path'`` (ZoeDepth's resource syntax) or a plain path; ``None`` stays ``None``."""
    if resource in (None, ""):
        return None
    if not isinstance(resource, str):
        raise ConfigError(f"{where}: expected a path, got {resource!r}")
    if resource.startswith("url::"):
        raise ConfigError(f"{where}: downloads are not supported; give a local file ('local::path')")
    return resource.split("::", 1)[1] if resource.startswith("local::") else resource


def _refiner(pr: Mapping[str, Any], where: str) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """(model kwargs, weight files in loading order, task options) of a reference ``PatchRefiner``."""
    if pr.get("type", "PatchRefiner") != "PatchRefiner":
        raise ConfigError(f"{where}.type={pr.get('type')!r}: expected 'PatchRefiner'")
    config = _section(pr, "config", where)
    _check_keys({k: v for k, v in pr.items() if k != "config"}, {"type"}, where)
    where = f"{where}.config"
    _check_keys(config, _PR_KEYS, where)
    if config.get("fusion_feat_level", 6) != 6:
        raise ConfigError(f"{where}.fusion_feat_level={config['fusion_feat_level']} is not supported (only 6)")
    if config.get("pre_norm_bbox", True) is not True:
        raise ConfigError(f"{where}.pre_norm_bbox=False is not supported (boxes are in coarse-frame units)")
    coarse = _zoe_kwargs(_section(config, "coarse_branch", where), f"{where}.coarse_branch")
    refiner = _section(config, "refiner", where)
    _check_keys(refiner, {"fine_branch", "fusion_model"}, f"{where}.refiner")
    fine = _zoe_kwargs(_section(refiner, "fine_branch", f"{where}.refiner"), f"{where}.refiner.fine_branch")
    if fine != coarse:
        raise ConfigError(f"{where}: coarse_branch and refiner.fine_branch must have one architecture "
                          f"(the fine branch starts from the coarse weights)")
    fusion = _section(refiner, "fusion_model", f"{where}.refiner")
    if fusion.get("type", "FusionUnet") != "FusionUnet":
        raise ConfigError(f"{where}.refiner.fusion_model.type={fusion['type']!r} is not supported (FusionUnet)")
    kwargs: dict[str, Any] = dict(coarse)
    for key, ours in (("min_depth", "min_depth"), ("max_depth", "max_depth"),
                      ("strategy_refiner_target", "refiner_target"), ("patch_process_shape", "process_shape")):
        if key in config:
            kwargs[ours] = list(config[key]) if isinstance(config[key], (list, tuple)) else config[key]
    weights = [p for p in (_local_path(config.get("pretrain_coarse_model"), f"{where}.pretrain_coarse_model"),
                           _local_path(config.get("pretrained"), f"{where}.pretrained")) if p]
    options = {"patch_split_num": list(config.get("patch_split_num", (4, 4)))}
    return kwargs, weights, options


def _model(model: Mapping[str, Any]) -> dict[str, Any]:
    """The ``model``, ``task`` and ``optim`` prefix rule of a reference model section."""
    kind = model.get("type")
    if kind == "PatchRefiner":
        kwargs, weights, options = _refiner(model, "model")
        return {"name": "patchrefiner", "kwargs": kwargs, "weights": [{"path": p} for p in weights],
                "options": options, "depth": (kwargs.get("min_depth", 1e-3), kwargs.get("max_depth", 80.0))}
    if kind == "BaselinePretrain":
        _check_keys(model, _COARSE_KEYS, "model")
        if model.get("target", "coarse") != "coarse":
            raise ConfigError(f"model.target={model['target']!r} is not supported (only 'coarse': PatchRefiner "
                              f"trains no separate fine model)")
        zoe = _section(model, "coarse_branch", "model")
        kwargs = _zoe_kwargs(zoe, "model.coarse_branch")
        depth = (model.get("min_depth", zoe.get("min_depth", 1e-3)), model.get("max_depth", zoe.get("max_depth", 80.0)))
        kwargs.update(min_depth=depth[0], max_depth=depth[1])
        init = _local_path(zoe.get("pretrained_resource"), "model.coarse_branch.pretrained_resource")
        return {"name": "zoedepth_n", "kwargs": kwargs, "weights": [{"path": init}] if init else [],
                "options": {}, "depth": depth, "prefix_from": "coarse_branch."}
    if kind == "PatchRefinerSemi":
        _check_keys(model, _SEMI_KEYS, "model")
        if model.get("mix_loss", False):
            raise ConfigError("model.mix_loss=True is not supported (the reference's own mixed-loss branch is "
                              "disabled and raises NotImplementedError)")
        student, s_weights, options = _refiner(_section(model, "model_cfg_student", "model"),
                                               "model.model_cfg_student")
        teacher, t_weights, _ = _refiner(_section(model, "model_cfg_teacher", "model"), "model.model_cfg_teacher")
        arch = {k: v for k, v in student.items() if k not in ("min_depth", "max_depth")}
        if arch != {k: v for k, v in teacher.items() if k not in ("min_depth", "max_depth")}:
            raise ConfigError("model: student and teacher must have one architecture")
        edge = _section(model, "edgeloss", "model")
        kind_edge = edge.get("type", "ScaleAndShiftInvariantLoss")
        if kind_edge not in _EDGE_LOSSES:
            raise ConfigError(f"model.edgeloss.type={kind_edge!r} is not supported "
                              f"({', '.join(_EDGE_LOSSES)})")
        if edge.get("only_missing_area", False):
            raise ConfigError("model.edgeloss.only_missing_area=True is not supported (unused by the released "
                              "models)")
        _check_keys(edge, {"type", "only_missing_area", "min_depth", "max_depth", "alpha", "reweight_target",
                           "point_pairs", "sigma"}, "model.edgeloss")
        loss = {"edge_loss": _EDGE_LOSSES[kind_edge], "edge_weight": float(model.get("edge_loss_weight", 1.0))}
        if kind_edge == "EdgeguidedRankingLoss":
            loss.update(ranking_pairs=int(edge.get("point_pairs", 10000)), ranking_sigma=float(edge.get("sigma", 0.03)),
                        ranking_alpha=float(edge.get("alpha", 1.0)))
        weights = [{"path": p, "target": "student_model"} for p in s_weights]
        weights += [{"path": p, "target": "teacher_model"} for p in t_weights]
        depth = (model.get("min_depth", student.get("min_depth", 1e-3)),
                 model.get("max_depth", student.get("max_depth", 80.0)))
        return {"name": "patchrefiner_semi", "kwargs": student, "weights": weights, "options": options,
                "depth": depth, "loss": loss}
    raise ConfigError(f"model.type={kind!r} is not supported (BaselinePretrain, PatchRefiner, PatchRefinerSemi)")


def _split(dataset: Mapping[str, Any], root: str) -> str | None:
    split = dataset.get("split")
    if split is None:
        return None
    return os.path.relpath(os.path.normpath(split), os.path.normpath(root))


def _data(ref: Mapping[str, Any], depth: tuple[float, float]) -> dict[str, Any]:
    train = _section(ref, "train_dataloader", "config")
    dataset = _section(train, "dataset", "train_dataloader")
    kind = dataset.get("type")
    if kind not in _DATASETS:
        raise ConfigError(f"train_dataloader.dataset.type={kind!r} is not supported ({', '.join(_DATASETS)})")
    name = _DATASETS[kind]
    root = dataset.get("data_root", f"./data/{name}")
    transform = _section(dataset, "transform_cfg", "train_dataloader.dataset")
    options: dict[str, Any] = {"root": root, "min_depth": depth[0], "max_depth": depth[1]}
    if "degree" in transform:
        options["degree"] = float(transform["degree"])
    if "network_process_size" in transform:
        options["process_shape"] = list(transform["network_process_size"])
    if "random_crop_size" in transform:
        options["crop_size"] = list(transform["random_crop_size"])
    if transform.get("random_crop", True) is not True:
        raise ConfigError("train_dataloader.dataset.transform_cfg.random_crop=False is not supported")
    if (s := _split(dataset, root)) is not None:
        options["train_split"] = s
    for section, key in (("val_dataloader", "val_split"), ("test_in_dataloader", "test_split")):
        ds = _section(_section(ref, section, "config"), "dataset", section)
        if (s := _split(ds, root)) is not None:
            options[key] = s
    if name == "cityscapes":
        if dataset.get("with_pseudo_label", False):
            raise ConfigError("train_dataloader.dataset.with_pseudo_label=True (offline pseudo labels) is not "
                              "supported; the released recipe uses the online teacher")
        # The reference always filters the sky with its undocumented skyArea masks: parity needs them.
        options["sky_masks"] = "require" if dataset.get("filter_sky", True) else "off"
    return {"dataset": name, "options": options, "batch_size": int(train.get("batch_size", 4)),
            "workers": int(train.get("num_workers", 4)),
            "val_workers": int(_section(ref, "val_dataloader", "config").get("num_workers", 2))}


def translate(ref: Mapping[str, Any]) -> dict[str, Any]:
    """A reference config dict as our config dict (validate it with :func:`~depthforge.config.build_config`).

    A ``depthforge`` section, if present, is merged last: settings of ours with no reference key.
    """
    for key in ref:  # other top-level names are the config's own variables; a near-miss is a typo
        close = difflib.get_close_matches(str(key), sorted(_TOP_KEYS), n=1, cutoff=0.8)
        if key not in _TOP_KEYS and close:
            raise ConfigError(f"unknown config key 'config.{key}'; did you mean 'config.{close[0]}'?")
    model = _model(_section(ref, "model", "config"))
    depth = (float(model["depth"][0]), float(model["depth"][1]))
    data = _data(ref, depth)
    if model["name"] == "zoedepth_n":  # coarse pretraining: the whole frame at the process shape, full-size GT
        data["options"]["sample"] = "whole"
    train_cfg = _section(ref, "train_cfg", "config")
    if train_cfg.get("val_type", "epoch_base") != "epoch_base":
        raise ConfigError(f"train_cfg.val_type={train_cfg['val_type']!r} is not supported (epoch_base)")
    optim = _section(ref, "optim_wrapper", "config")
    _check_keys(optim, {"optimizer", "clip_grad", "paramwise_cfg", "type"}, "optim_wrapper")
    optimizer = _section(optim, "optimizer", "optim_wrapper")
    if optimizer.get("type", "AdamW") != "AdamW":
        raise ConfigError(f"optim_wrapper.optimizer.type={optimizer['type']!r} is not supported (AdamW)")
    _check_keys(optimizer, {"type", "lr", "weight_decay", "betas", "eps"}, "optim_wrapper.optimizer")
    lr = float(optimizer.get("lr", 1e-3))
    wd = float(optimizer.get("weight_decay", 0.01))
    clip = _section(optim, "clip_grad", "optim_wrapper")
    if clip and (clip.get("type", "norm") != "norm" or clip.get("norm_type", 2) != 2):
        raise ConfigError("optim_wrapper.clip_grad: only type='norm' with norm_type=2 is supported")
    groups = []
    paramwise = _section(optim, "paramwise_cfg", "optim_wrapper")
    for key, rule in _section(paramwise, "custom_keys", "optim_wrapper.paramwise_cfg").items():
        prefix = key[len(model.get("prefix_from", "")):] if key.startswith(model.get("prefix_from", "\0")) else key
        groups.append({"prefix": prefix if prefix.endswith(".") else prefix + ".",
                       "lr_mult": float(rule.get("lr_mult", 1.0)),
                       "weight_decay": wd * float(rule.get("decay_mult", 1.0))})
    sched = _section(ref, "param_scheduler", "config")
    _check_keys(sched, {"cycle_momentum", "base_momentum", "max_momentum", "div_factor", "final_div_factor",
                        "pct_start", "three_phase", "type"}, "param_scheduler")
    betas = optimizer.get("betas", (0.9, 0.999))
    out: dict[str, Any] = {
        "model": {"name": model["name"], "kwargs": model["kwargs"], "weights": model["weights"]},
        "task": {"name": "monocular",
                 "loss": {"min_depth": depth[0], "max_depth": depth[1], **model.get("loss", {})},
                 "options": {**model["options"], "save_interval": int(train_cfg.get("save_checkpoint_interval", 0))}},
        "data": data,
        "optim": {"name": "adamw", "lr": lr, "weight_decay": wd, "betas": list(betas),
                  "eps": float(optimizer.get("eps", 1e-8)), "param_groups": groups,
                  "grad_clip": float(clip["max_norm"]) if clip else None},
        "scheduler": {"name": "onecycle", "interval": "step",
                      **{k: v for k, v in sched.items() if k != "type"}},
        "trainer": {"epochs": int(train_cfg.get("max_epochs", 1)),
                    "val_every_n_epochs": int(train_cfg.get("val_interval", 1)),
                    "log_every_n_steps": int(train_cfg.get("log_interval", 50))},
        "logging": {"wandb_project": str(ref.get("project", "patchrefiner"))},
        "eval": {"protocol": _PROTOCOLS[data["dataset"]], "depth_range": [0.0, depth[1]]},
    }
    if "seed" in ref:
        out["trainer"]["seed"] = int(ref["seed"])
    extra = ref.get("depthforge")
    if extra is not None:
        from depthforge.config import merge

        if not isinstance(extra, Mapping):
            raise ConfigError(f"config.depthforge: expected dict(...), got {extra!r}")
        out = merge(out, extra)
    return out


def load_reference_config(path: str | Path, cfg_options: Iterable[str] | Mapping[str, Any] | None = None,
                          extra: Mapping[str, Any] | None = None) -> tuple[Config, dict[str, Any]]:
    """(our validated config, the resolved reference dict) of a reference ``.py`` config.

    ``cfg_options``: the reference's ``--cfg-options`` (``key=value`` strings, typed as meant) applied to the
    reference dict; ``extra``: our own settings merged after translation (the tools' flags).
    """
    from depthforge.config import load_pyconfig, merge, parse_cfg_options

    ref = load_pyconfig(path)
    if cfg_options:
        options = dict(cfg_options) if isinstance(cfg_options, Mapping) else parse_cfg_options(cfg_options)
        ref = merge(ref, options)
    try:
        ours = translate(ref)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if extra:
        ours = merge(ours, extra)
    try:
        return build_config(ours), ref
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
