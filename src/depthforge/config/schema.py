"""Typed schema of a training/evaluation run. YAML files are validated into these dataclasses.

The schema is generic: the model's family, the task and the dataset validate their own sections
(``task.loss``, ``task.options``, ``data.options``, ``model.kwargs``) with their own dataclasses.
Defaults here favour no model family; the recipes live in ``configs/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from depthforge.errors import ConfigError


@dataclass
class WeightsConfig:
    path: str
    """A checkpoint file (official layouts included; the model's contract maps it)."""
    target: str = ""
    """Dotted sub-module that receives it (``student_model``); empty: the whole model."""
    strict: bool = True
    """Every key of the receiving part must be present with its shape."""


@dataclass
class ModelConfig:
    name: str = ""
    """Registered variant (``depthforge.list_models()``)."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of the factory, e.g. ``width_mult: 0.0625``."""
    freeze: list[str] = field(default_factory=list)
    """Parameter-name prefixes that are not trained, e.g. ``[backbone.]``."""
    freeze_bn_stats: bool = False
    """Keep BatchNorm statistics of frozen parts fixed (some references keep updating them: False)."""
    weights: list[WeightsConfig] = field(default_factory=list)
    """Checkpoints loaded in order when the model is built for training (a coarse model, then a refiner)."""


@dataclass
class TaskConfig:
    name: str = ""
    """Task family (``completion``); empty: the task the model's contract declares."""
    loss: dict[str, Any] = field(default_factory=dict)
    """The task's loss options, validated by the task."""
    options: dict[str, Any] = field(default_factory=dict)
    """The task's artefacts and pictures (reference logs, comparison grids), validated by the task."""


@dataclass
class DataConfig:
    dataset: str = ""
    """Registered dataset (``depthforge.data.registry.list_datasets()``)."""
    options: dict[str, Any] = field(default_factory=dict)
    """The dataset's own options (paths, crops, augmentation), validated by the dataset."""
    batch_size: int = 1
    val_batch_size: int = 1
    workers: int = 4
    val_workers: int = 2
    max_train_samples: int | None = None
    max_val_samples: int | None = None
    pin_memory: bool = True


@dataclass
class ParamGroupConfig:
    prefix: str
    lr_mult: float = 1.0
    weight_decay: float | None = None


@dataclass
class OptimConfig:
    name: Literal["adam", "adamw", "sgd"] = "adamw"
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    momentum: float = 0.9
    weight_decay: float = 0.0
    param_groups: list[ParamGroupConfig] = field(default_factory=list)
    """Groups by name prefix with learning-rate multipliers; the rest forms the last group."""
    grad_clip: float | None = None


@dataclass
class SchedulerConfig:
    name: Literal["plateau", "onecycle", "step", "cosine", "none"] = "none"
    interval: Literal["epoch", "step"] = "epoch"
    monitor: str = ""
    """Metric of ``plateau``; empty: ``checkpoint.monitor``."""
    mode: Literal["min", "max"] | None = None
    """Direction of ``monitor``; empty: the metric's own direction."""
    patience: int = 4
    factor: float = 0.1
    threshold: float = 1e-4
    min_lr: float = 0.0
    step_size: int = 10
    pct_start: float = 0.3
    max_lr: float | None = None
    """``onecycle``: peak learning rate; empty: each parameter group's own learning rate."""
    div_factor: float = 25.0
    """``onecycle``: the cycle starts at max_lr / div_factor."""
    final_div_factor: float = 1e4
    """``onecycle``: it ends at max_lr / (div_factor * final_div_factor)."""
    three_phase: bool = False
    cycle_momentum: bool = True
    """``onecycle``: cycle momentum (Adam's beta1) inversely to the learning rate."""
    base_momentum: float = 0.85
    max_momentum: float = 0.95


@dataclass
class TrainerConfig:
    epochs: int = 1
    max_steps: int = -1
    accelerator: str = "auto"
    devices: int | str = "auto"
    num_nodes: int = 1
    strategy: str = "auto"
    precision: str = "32-true"
    seed: int = 0
    deterministic: bool = False
    sync_batchnorm: bool = True
    """Synchronise BatchNorm across processes under DDP so N processes equal one big batch."""
    log_every_n_steps: int = 10
    val_every_n_epochs: int = 1
    limit_train_batches: float | int = 1.0
    limit_val_batches: float | int = 1.0
    num_sanity_val_steps: int = 0
    accumulate_grad_batches: int = 1
    """Micro-batches per optimiser step (their losses are averaged, as DDP averages processes)."""
    progress_bar: bool = True


@dataclass
class CheckpointConfig:
    monitor: str = ""
    """Validation metric that picks the best checkpoint (``val/rmse``); empty: the task's default."""
    mode: Literal["min", "max"] | None = None
    """Direction of ``monitor``; derived from the metric when empty (rmse: min, delta1: max)."""
    every_n_train_steps: int | None = None
    """Also write ``last.ckpt`` every N training steps."""
    every_minutes: float | None = 15.0
    """Also write ``last.ckpt`` when this many minutes have passed inside an epoch (long epochs)."""


@dataclass
class LoggingConfig:
    tensorboard: bool = True
    wandb: bool = False
    wandb_project: str = "depthforge"
    wandb_mode: Literal["offline", "online", "disabled"] = "offline"
    wandb_name: str = ""
    """Run name shown by W&B; empty: ``run.name``."""
    wandb_tags: list[str] = field(default_factory=list)
    csv: bool = True
    """Write ``csv/metrics.csv`` with every logged scalar."""


@dataclass
class EvalConfig:
    protocol: str = ""
    """Metric protocol (``depthforge.metrics.PROTOCOLS``); empty: the task's default."""
    val_results: str | None = None
    """Folder for one visualisation per validation image."""
    depth_range: tuple[float, float] = (0.0, 80.0)
    """Fixed colour range (metres) of saved depth pictures, the same for every image."""


@dataclass
class RunConfig:
    name: str = "run"
    work_dir: str = "runs"
    load_from: str | None = None
    """Initialise weights only (a new stage from a checkpoint)."""
    resume: str | None = None
    """Continue a run exactly: weights, optimizer, scheduler, epoch, data position, RNG."""
    epoch_offset: int = 0
    """Epoch numbering continues from an earlier stage (the reference's ``--resume`` counter)."""


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    task: TaskConfig = field(default_factory=TaskConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def validate(self) -> Config:
        """Cross-field checks that a schema alone cannot express (the task checks its own sections)."""
        if self.data.batch_size < 1:
            raise ConfigError(f"data.batch_size must be >= 1, got {self.data.batch_size}")
        if self.run.resume and self.run.load_from:
            raise ConfigError("run.resume and run.load_from are exclusive: resume continues a run, "
                              "load_from starts a new one from weights")
        if self.scheduler.name == "onecycle" and self.scheduler.interval != "step":
            raise ConfigError("scheduler.name=onecycle must use scheduler.interval=step")
        return self


def metric_mode(name: str) -> Literal["min", "max"]:
    """Direction of a metric, from the protocols (``val/delta1`` -> max, ``val/rmse`` -> min)."""
    from depthforge.metrics.protocols import direction

    return direction(name)
