"""Build a Lightning Trainer from a config and run training or evaluation.

Single process, several GPUs, or several nodes: the same code runs under ``torchrun``
(or SLURM), which Lightning detects from the environment.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint, TQDMProgressBar

from depthforge.config import Config, dump_yaml, metric_mode
from depthforge.engine.callbacks import AtomicCheckpointIO, RNGStateCallback
from depthforge.engine.datamodule import EngineDataModule
from depthforge.engine.module import EngineModule
from depthforge.errors import ConfigError
from depthforge.io import prepare_output_dir
from depthforge.logs import quiet_logs

log = logging.getLogger("depthforge")


def run_dir_of(cfg: Config) -> Path:
    """The run folder: the resumed run's folder, else ``work_dir/name``."""
    if cfg.run.resume:
        ckpt = Path(cfg.run.resume)
        if ckpt.parent.name == "checkpoints":
            return ckpt.parent.parent
    return Path(cfg.run.work_dir) / cfg.run.name


def _refuse_reused_run_dir(cfg: Config, run_dir: Path) -> None:
    """Two runs never share a folder: their logs and checkpoints would mix."""
    if cfg.run.resume or int(os.environ.get("RANK", "0")) != 0:  # only the first process decides
        return
    if (run_dir / "config.yaml").exists() or (run_dir / "checkpoints").exists():
        raise ConfigError(f"{run_dir}: holds an earlier run; continue it with --resume "
                          f"{run_dir / 'checkpoints' / 'last.ckpt'}, or choose another run.name (--name)")


def _strategy(cfg: Config, module: EngineModule) -> Any:
    strategy = cfg.trainer.strategy
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if strategy == "ddp" or (strategy == "auto" and world > 1):
        from lightning.pytorch.strategies import DDPStrategy

        # Only a model that declares parameters without gradients pays DDP's per-step search for them.
        unused = bool(module.contract.unused_parameters) and not _all_frozen(module)
        backend = None if torch.cuda.is_available() else "gloo"
        return DDPStrategy(process_group_backend=backend, find_unused_parameters=unused)
    return strategy


def _all_frozen(module: EngineModule) -> bool:
    """Every declared unused parameter is frozen anyway (then DDP never waits for it)."""
    prefixes = module.contract.unused_parameters
    return all(not p.requires_grad for n, p in module.model.named_parameters() if n.startswith(prefixes))


def build_trainer(cfg: Config, module: EngineModule, run_dir: Path, *, fit: bool = True) -> L.Trainer:
    quiet_logs()  # Lightning is imported by now
    t, ck = cfg.trainer, cfg.checkpoint
    monitor = module.task.monitor
    monitor_mode = ck.mode or metric_mode(monitor)
    ckpt_dir = run_dir / "checkpoints"
    callbacks: list[L.Callback] = [RNGStateCallback()]
    if fit:
        callbacks.append(ModelCheckpoint(dirpath=ckpt_dir, filename="best-{epoch:03d}", monitor=monitor,
                                         mode=monitor_mode, save_top_k=1, save_last=False))
        callbacks.append(LastCheckpoint(ckpt_dir / "last.ckpt", ck.every_n_train_steps, ck.every_minutes))
    callbacks.extend(module.task.callbacks(run_dir))
    if t.progress_bar:
        callbacks.append(ProgressBar(cfg.run.epoch_offset))
    loggers: list[Any] = []
    if cfg.logging.tensorboard:
        from lightning.pytorch.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(save_dir=str(run_dir), name="tensorboard", version=""))
    if cfg.logging.csv:
        from lightning.pytorch.loggers import CSVLogger

        loggers.append(CSVLogger(save_dir=str(run_dir), name="csv", version=""))
    if cfg.logging.wandb:
        loggers.append(_wandb_logger(cfg, run_dir))
    if fit and loggers:
        callbacks.append(LearningRateMonitor(logging_interval="step"))
    devices = t.devices
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if devices == "auto" and world > 1 and not torch.cuda.is_available():
        devices = int(os.environ.get("LOCAL_WORLD_SIZE", world // max(t.num_nodes, 1)))
    return L.Trainer(
        max_epochs=t.epochs,
        max_steps=t.max_steps,
        accelerator=t.accelerator,
        devices=devices,
        num_nodes=t.num_nodes,
        strategy=_strategy(cfg, module),
        precision=t.precision,  # type: ignore[arg-type]
        deterministic=t.deterministic,
        sync_batchnorm=t.sync_batchnorm and world > 1 and torch.cuda.is_available(),
        gradient_clip_val=cfg.optim.grad_clip,
        logger=loggers or False,
        callbacks=callbacks,
        default_root_dir=str(run_dir),
        log_every_n_steps=t.log_every_n_steps,
        check_val_every_n_epoch=t.val_every_n_epochs,
        num_sanity_val_steps=t.num_sanity_val_steps,
        enable_progress_bar=t.progress_bar,
        enable_model_summary=False,
        use_distributed_sampler=False,  # the keyed sampler shards by rank itself
        limit_train_batches=t.limit_train_batches,
        limit_val_batches=t.limit_val_batches,
        accumulate_grad_batches=t.accumulate_grad_batches,
        plugins=[AtomicCheckpointIO()],
    )


class LastCheckpoint(L.Callback):
    """``last.ckpt`` for exact resume: after every epoch (at the first step of the next, once the epoch's
    schedulers have stepped), every N training steps, every T minutes inside long epochs, at the end, and
    when the run is stopped with Ctrl-C. Written atomically (``AtomicCheckpointIO``)."""

    def __init__(self, path: Path, every_n_train_steps: int | None, every_minutes: float | None) -> None:
        self.path = path
        self.every_n = every_n_train_steps or 0
        self.every_s = 60.0 * every_minutes if every_minutes else 0.0
        self._last_save = time.monotonic()

    def _save(self, trainer: L.Trainer) -> None:
        trainer.save_checkpoint(self.path)  # a collective call: every process makes it
        self._last_save = time.monotonic()

    # Ctrl-C: the first one finishes the current step, writes last.ckpt and stops; a second one stops at once.
    interrupted = False

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.interrupted = False
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = True
        log.info("stopping after this step and saving %s (Ctrl-C again to stop at once)", self.path)

    def _restore_sigint(self) -> None:
        previous = getattr(self, "_previous", None)
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
            self._previous = None

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        stop = self.interrupted
        overdue = bool(self.every_s) and time.monotonic() - self._last_save >= self.every_s
        if trainer.world_size > 1:  # one collective: every process stops and saves after the same step
            flags = torch.tensor([float(stop), float(overdue)], device=pl_module.device)
            stop, overdue = (bool(v) for v in trainer.strategy.reduce(flags, reduce_op="max").tolist())
        if stop:
            self.interrupted = True
            self._save(trainer)
            trainer.should_stop = True
            return
        progress = trainer.fit_loop.epoch_loop.batch_progress
        if progress.is_last_batch:
            return  # this epoch's validation and epoch schedulers have not run yet; see below
        # A finished epoch is saved after the first step of the next one: only then has its validation run
        # and its epoch schedulers (a plateau scheduler among them) stepped, and Lightning resumes such a
        # mid-epoch state exactly. A checkpoint at the epoch's very end would miss those steps.
        due = trainer.current_epoch > 0 and progress.current.processed == 1
        due = due or overdue or (bool(self.every_n) and trainer.global_step % self.every_n == 0)
        if due:
            self._save(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._restore_sigint()
        if not self.interrupted:
            self._save(trainer)

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule,
                     exception: BaseException) -> None:
        self._restore_sigint()  # a second Ctrl-C stops at once; the last completed save stands


class ProgressBar(TQDMProgressBar):
    """The training bar counts the epoch like the run does (a stage's epoch offset included) and shows the
    position inside the epoch, also after a resume (Lightning counts ``batch_idx`` from 0 again)."""

    def __init__(self, epoch_offset: int = 0) -> None:
        super().__init__(refresh_rate=1)
        self.epoch_offset = epoch_offset

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        if trainer.fit_loop.epoch_loop.restarting:  # a resume inside an epoch does not start that epoch again
            self.on_train_epoch_start(trainer)

    def on_train_epoch_start(self, trainer: L.Trainer, *args: Any) -> None:
        # Lightning's hook redraws the bar with its own, stage-local label (a stray "Epoch 0" line in a log
        # file): give the bar the run's label before that hook draws, and keep the hook from relabelling it.
        label = f"Epoch {trainer.current_epoch + self.epoch_offset}"
        bar = self.train_progress_bar
        bar.desc = f"{label}: "
        bar.set_description = lambda *_, **__: None  # type: ignore[method-assign]
        try:
            super().on_train_epoch_start(trainer, *args)
        finally:
            del bar.set_description

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        done = int(trainer.fit_loop.epoch_loop.batch_progress.current.processed)
        super().on_train_batch_end(trainer, pl_module, outputs, batch, done - 1)


def _wandb_logger(cfg: Config, run_dir: Path) -> Any:
    try:
        from lightning.pytorch.loggers import WandbLogger
        import wandb  # noqa: F401
    except ImportError:
        raise ConfigError("logging.wandb=true needs the wandb package: pip install 'depthforge[wandb]'") from None
    os.environ.setdefault("WANDB_MODE", cfg.logging.wandb_mode)  # offline unless asked otherwise
    return WandbLogger(project=cfg.logging.wandb_project, name=cfg.logging.wandb_name or cfg.run.name,
                       tags=list(cfg.logging.wandb_tags) or None, save_dir=str(run_dir),
                       offline=cfg.logging.wandb_mode == "offline")


def build_module(cfg: Config) -> EngineModule:
    module = EngineModule(cfg)
    if not cfg.run.resume:  # a resume restores every weight from its own checkpoint
        load_initial_weights(module.model, cfg)
    if cfg.run.load_from:
        from depthforge.checkpoint import load_checkpoint

        info = load_checkpoint(module.model, cfg.run.load_from)
        log.info("initialised weights from %s (%s layout, %d entries into %s)", cfg.run.load_from,
                 info.get("layout"), info.get("loaded", 0), info.get("target") or "the model")
    return module


def load_initial_weights(model: torch.nn.Module, cfg: Config) -> None:
    """``model.weights`` in order, each into its target sub-module."""
    from depthforge.checkpoint import load_checkpoint

    for w in cfg.model.weights:
        try:
            part = model.get_submodule(w.target) if w.target else model
        except AttributeError:
            raise ConfigError(f"model.weights: {cfg.model.name} has no sub-module {w.target!r}") from None
        info = load_checkpoint(part, w.path, strict=w.strict)
        log.info("initialised %s from %s (%s layout, %d entries)", w.target or "the model", w.path,
                 info.get("layout"), info.get("loaded", 0))


def train(cfg: Config, datamodule: EngineDataModule | None = None) -> Path:
    """Train as configured; returns the run folder."""
    L.seed_everything(cfg.trainer.seed, workers=True, verbose=False)
    run_dir = run_dir_of(cfg)
    _refuse_reused_run_dir(cfg, run_dir)
    prepare_output_dir(run_dir, "run folder")
    if L.fabric.utilities.rank_zero.rank_zero_only.rank == 0:  # type: ignore[attr-defined]
        dump_yaml(cfg, run_dir / "config.yaml")
    module = build_module(cfg)
    dm = datamodule or EngineDataModule(cfg)
    trainer = build_trainer(cfg, module, run_dir)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        # Library-internal deprecation and a resume's expected non-empty checkpoint folder: noise to users.
        warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
        warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")
        # Small epochs and frozen parts (a coarse branch, a teacher) kept in eval mode by design.
        warnings.filterwarnings("ignore", message=r"The number of training batches .* is smaller than the logging")
        warnings.filterwarnings("ignore", message=r"Found \d+ module\(s\) in eval mode")
        trainer.fit(module, datamodule=dm, ckpt_path=cfg.run.resume)
    last = next((c for c in trainer.callbacks if isinstance(c, LastCheckpoint)), None)  # type: ignore[attr-defined]
    if last is not None and last.interrupted:
        log.info("interrupted: saved %s; continue with: depthforge train --resume %s", last.path, last.path)
        raise KeyboardInterrupt
    return run_dir
