"""Typed schema of a training/evaluation run. YAML files are validated into these dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from depthforge.errors import ConfigError


@dataclass
class ModelConfig:
    name: str = "semattnet_bb"
    """Registered variant (``depthforge.list_models()``)."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Extra keyword arguments of the factory, e.g. ``width_mult: 0.0625``."""
    freeze: list[str] = field(default_factory=list)
    """Parameter-name prefixes that are not trained, e.g. ``[backbone.]``."""
    freeze_bn_stats: bool = False
    """Keep BatchNorm statistics of frozen parts fixed. The reference keeps updating them (False)."""


@dataclass
class DataConfig:
    dataset: Literal["kitti"] = "kitti"
    data_folder: str = ""
    """``kitti_depth/depth`` root holding data_depth_velodyne/annotated/selection."""
    data_folder_rgb: str = ""
    """kitti_raw root."""
    data_semantic: str = ""
    """Semantic-maps root."""
    val: Literal["select", "full"] = "select"
    batch_size: int = 1
    val_batch_size: int = 1
    workers: int = 4
    val_workers: int = 2
    crop_h: int = 320
    crop_w: int = 1216
    random_crop: bool = True
    jitter: float = 0.1
    hflip: bool = True
    jitter_hue_roundtrip: bool = True
    max_train_samples: int | None = None
    max_val_samples: int | None = None
    pin_memory: bool = True


@dataclass
class DeepSupervisionConfig:
    keys: list[str] = field(default_factory=lambda: ["rgb_depth", "semantic_depth", "d_depth"])
    schedule: list[tuple[int, float]] = field(default_factory=lambda: [(1, 0.2), (3, 0.05)])
    """(last stage epoch, weight) pairs: weight w applies up to and including that epoch; 0 after."""


@dataclass
class LossConfig:
    criterion: Literal["l2", "l1"] = "l2"
    deep_supervision: DeepSupervisionConfig | None = None
    start_epoch_bias: int = 0
    """Added to the stage-relative epoch that drives the deep-supervision schedule."""


@dataclass
class ParamGroupConfig:
    prefix: str
    lr_mult: float = 1.0
    weight_decay: float | None = None


@dataclass
class OptimConfig:
    name: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = 1.2727e-3
    betas: tuple[float, float] = (0.9, 0.99)
    eps: float = 1e-8
    momentum: float = 0.9
    weight_decay: float = 1e-6
    param_groups: list[ParamGroupConfig] = field(default_factory=list)
    """Groups by name prefix with learning-rate multipliers; the rest forms the last group."""
    grad_clip: float | None = None


@dataclass
class SchedulerConfig:
    name: Literal["plateau", "onecycle", "step", "cosine", "none"] = "plateau"
    interval: Literal["epoch", "step"] = "epoch"
    monitor: str = "val/rmse"
    mode: Literal["min", "max"] = "min"
    patience: int = 4
    factor: float = 0.1
    threshold: float = 1e-4
    min_lr: float = 0.0
    step_size: int = 10
    pct_start: float = 0.3
    max_lr: float | None = None


@dataclass
class TrainerConfig:
    epochs: int = 60
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
    progress_bar: bool = True


@dataclass
class CheckpointConfig:
    monitor: str = "val/rmse"
    mode: Literal["min", "max"] | None = None
    """Direction of ``monitor``; derived from the metric name when empty (rmse: min, delta1: max)."""
    every_n_train_steps: int | None = None
    save_last: bool = True
    reference_files: bool = True
    """Also write the reference's ``checkpoint-<epoch>.pth.tar`` / ``model_best.pth.tar``."""
    keep_all_epochs: bool = False
    """The reference deletes the previous epoch's checkpoint; keep them all when true."""


@dataclass
class LoggingConfig:
    tensorboard: bool = True
    wandb: bool = False
    wandb_project: str = "depthforge"
    wandb_mode: Literal["offline", "online", "disabled"] = "offline"
    csv: bool = True
    """Reference-compatible ``train.csv`` / ``val.csv`` / ``best.txt``."""
    training_logs: str = "training_logs"
    """Where the reference-style run folder goes (relative to the working directory)."""
    comparison_every: int = 100
    """Validation image stride for the comparison grid rows (reference: 100)."""
    comparison_rows: int = 8


@dataclass
class EvalConfig:
    protocol: Literal["penet", "devkit"] = "penet"
    val_results: str | None = None
    """Folder for one visualisation per validation image (``--val_results``)."""
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
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def validate(self) -> Config:
        """Cross-field checks that a schema alone cannot express."""
        if self.data.batch_size < 1:
            raise ConfigError(f"data.batch_size must be >= 1, got {self.data.batch_size}")
        if self.data.crop_h % 32 or self.data.crop_w % 32:
            raise ConfigError(
                f"data.crop_h/crop_w must be multiples of 32 (five stride-2 stages), got "
                f"{self.data.crop_h}x{self.data.crop_w}"
            )
        if self.run.resume and self.run.load_from:
            raise ConfigError("run.resume and run.load_from are exclusive: resume continues a run, "
                              "load_from starts a new one from weights")
        if self.scheduler.name == "onecycle" and self.scheduler.interval != "step":
            raise ConfigError("scheduler.name=onecycle must use scheduler.interval=step")
        return self


# Metrics where larger is better; every other monitored metric is minimised.
HIGHER_IS_BETTER = ("delta1", "delta2", "delta3", "a1", "a2", "a3", "f1", "precision", "recall", "acc")


def metric_mode(name: str) -> Literal["min", "max"]:
    """Direction of a metric, from its name (``val/delta1`` -> max, ``val/rmse`` -> min)."""
    leaf = name.rsplit("/", 1)[-1]
    return "max" if leaf.startswith(HIGHER_IS_BETTER) else "min"
