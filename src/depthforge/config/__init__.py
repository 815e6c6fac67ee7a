"""Configuration: YAML with ``_base_`` inheritance, dotted overrides and typed validation;
mmengine-style Python configs are read (never executed) by :mod:`depthforge.config.pyconfig`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from depthforge.config.loader import dump_yaml, from_dict, load_yaml, merge, parse_overrides, to_dict
from depthforge.config.pyconfig import dump_pyconfig, load_pyconfig, parse_cfg_options
from depthforge.config.schema import Config, metric_mode
from depthforge.errors import ConfigError

if TYPE_CHECKING:
    from depthforge.models.contract import ModelContract

__all__ = [
    "Config",
    "build_config",
    "check_sections",
    "dump_pyconfig",
    "dump_yaml",
    "from_dict",
    "load_config",
    "load_pyconfig",
    "load_yaml",
    "merge",
    "metric_mode",
    "parse_cfg_options",
    "parse_overrides",
    "to_dict",
]


def build_config(data: dict[str, Any]) -> Config:
    """Validate a plain dict into a :class:`Config`, sections owned by the model, task and dataset included."""
    cfg = from_dict(Config, data).validate()
    check_sections(cfg)
    return cfg


def _check_model(cfg: Config) -> ModelContract:
    """``model.name`` and ``model.kwargs`` against the registry, with did-you-mean hints."""
    import difflib

    from depthforge.registry import UnknownModelError, model_arguments, model_contract

    try:
        contract = model_contract(cfg.model.name)
        accepted = model_arguments(cfg.model.name)
    except UnknownModelError as exc:
        raise ConfigError(f"model.name: {exc}") from None
    for key in cfg.model.kwargs if accepted is not None else ():
        if key not in accepted:
            close = difflib.get_close_matches(key, accepted, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"model.kwargs.{key}: {cfg.model.name} takes no argument {key!r}{hint} "
                              f"(it takes: {', '.join(accepted)})")
    return contract


def check_sections(cfg: Config) -> None:
    """Validate the sections the schema leaves to their owners, so that a typo fails before any work:
    ``model.name`` against the registry, ``task.*`` against the task, ``data.options`` against the dataset,
    and the dataset's training crop against the model's input size rule."""
    from depthforge.tasks import get_task

    contract = _check_model(cfg) if cfg.model.name else None
    task_name = cfg.task.name or (contract.task if contract is not None else "")
    if task_name:
        get_task(task_name).parse(cfg, contract.task if contract is not None else None)
    elif cfg.task.loss or cfg.task.options:
        raise ConfigError("task.loss / task.options are set but no task is selected (task.name or model.name)")
    if cfg.data.dataset:
        from depthforge.data.registry import dataset_options

        options = dataset_options(cfg.data.dataset, cfg.data.options)
        # Datasets that resize their crops to a process shape (PatchRefiner) are checked at that shape.
        crop = getattr(options, "process_shape", None) or getattr(options, "crop_size", None)
        if contract is not None and crop is not None:
            problem = contract.check_size(int(crop[0]), int(crop[1]), "training crop")
            if problem:
                raise ConfigError(f"data.options: {problem}, which model {cfg.model.name!r} requires")
    elif cfg.data.options:
        raise ConfigError("data.options is set but data.dataset is empty")


def load_config(path: str | Path | None, overrides: list[str] | dict[str, Any] | None = None) -> Config:
    """Load a YAML config (with ``_base_``), apply ``--cfg-options`` style overrides, validate."""
    data = load_yaml(path) if path else {}
    if overrides:
        data = merge(data, parse_overrides(overrides) if isinstance(overrides, list) else overrides)
    return build_config(data)
