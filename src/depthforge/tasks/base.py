"""The interface between the generic engine and a model family's task."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import lightning as L
import numpy as np
import torch

from depthforge.config import Config
from depthforge.config.loader import from_dict
from depthforge.errors import ConfigError
from depthforge.metrics.protocols import Protocol, get_protocol
from depthforge.models.contract import ModelContract

# ``reduce(count)`` turns a per-process pixel count into (global count / world size), so that DDP's
# averaging of gradients over processes equals the gradient of the loss pooled over the global batch.
CountReducer = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class NoOptions:
    """A task section without options."""


class Task:
    """Batch keys, loss, scored output, protocol, pictures and artefacts of one model family.

    Subclasses set the class attributes and implement :meth:`training_loss` and :meth:`score`.
    """

    name: ClassVar[str]
    loss_config: ClassVar[type] = NoOptions
    """Dataclass that validates ``task.loss``."""
    options_config: ClassVar[type] = NoOptions
    """Dataclass that validates ``task.options``."""
    protocols: ClassVar[tuple[str, ...]]
    """Metric protocols the task can score with; the first is the default."""
    default_monitor: ClassVar[str]
    """Validation metric that picks the best checkpoint unless the config names one."""

    def __init__(self, cfg: Config, contract: ModelContract) -> None:
        self.cfg = cfg
        self.contract = contract
        self.loss_cfg, self.options, self.protocol = self.parse(cfg, contract.task)

    @classmethod
    def parse(cls, cfg: Config, model_task: str | None) -> tuple[Any, Any, Protocol]:
        """Validate the config's sections this task owns: (loss options, task options, protocol).

        ``model_task``: the task the model's contract declares (``None``: no model named)."""
        if model_task is not None and model_task != cls.name:
            raise ConfigError(f"task.name={cls.name} but model {cfg.model.name!r} is a {model_task} model")
        loss = from_dict(cls.loss_config, cfg.task.loss, where="config.task.loss")
        options = from_dict(cls.options_config, cfg.task.options, where="config.task.options")
        name = cfg.eval.protocol or cls.protocols[0]
        if name not in cls.protocols:
            raise ConfigError(f"eval.protocol={name} is not a {cls.name} protocol; choose one of "
                              f"{', '.join(cls.protocols)}")
        return loss, options, get_protocol(name)

    @property
    def train_metrics(self) -> bool:
        """Score training batches too (per-epoch training metrics)."""
        return False

    @property
    def monitor(self) -> str:
        return self.cfg.checkpoint.monitor or self.default_monitor

    # --- training ---------------------------------------------------------------------------------
    def training_loss(self, out: Mapping[str, torch.Tensor], batch: Mapping[str, Any], epoch: int,
                      reduce_count: CountReducer) -> torch.Tensor:
        raise NotImplementedError

    # --- evaluation -------------------------------------------------------------------------------
    def evaluate(self, model: torch.nn.Module, batch: Mapping[str, Any]) -> Mapping[str, torch.Tensor]:
        """The model's output on an evaluation batch (a family may evaluate otherwise than it trains)."""
        return model(batch)

    def prediction(self, out: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The output that is scored and saved (N x 1 x H x W metres)."""
        return out["depth"]

    def score_extras(self, batch: Mapping[str, Any], index: int) -> dict[str, Any]:
        """Per-image extra inputs of the protocol (``Protocol.needs``) taken from a batch."""
        return {}

    @property
    def grid_every(self) -> int:
        """Keep every n-th validation image for the comparison grid (0: no grid)."""
        return 0

    @property
    def grid_rows(self) -> int:
        return 0

    def picture(self, batch: Mapping[str, Any], pred: torch.Tensor, index: int) -> dict[str, np.ndarray]:
        """What a comparison grid or a ``val_results`` picture shows of one image."""
        return {"pred": pred[index, 0].float().cpu().numpy()}

    def visualise(self, sample: Mapping[str, np.ndarray]) -> np.ndarray:
        """One picture per evaluated image (``eval.val_results``)."""
        from depthforge.viz import colorize

        lo, hi = self.cfg.eval.depth_range
        return colorize(sample["pred"], vmin=lo, vmax=hi)

    # --- artefacts --------------------------------------------------------------------------------
    def callbacks(self, run_dir: Path) -> list[L.Callback]:
        """Callbacks that write the family's reference-format artefacts into the run folder."""
        return []

    def log_dir(self, run_dir: Path) -> Path | None:
        """Where the reference-format artefacts go (``None``: none are written)."""
        return None


def build_task(cfg: Config, contract: ModelContract) -> Task:
    """The task the config names, or the one the model's contract declares."""
    from depthforge.tasks import get_task

    return get_task(cfg.task.name or contract.task)(cfg, contract)


__all__ = ["CountReducer", "NoOptions", "Task", "build_task"]
