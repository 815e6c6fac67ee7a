"""Data module: any registered dataset behind resumable, rank-aware loaders."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch.utils.data import Dataset

from depthforge.config import Config
from depthforge.engine.sampling import KeyedSampler, PaddingAware, ResumableLoader, worker_init
from depthforge.errors import ConfigError


def build_split(cfg: Config, split: str) -> Dataset[Any]:
    """The configured dataset's ``train``, ``val`` or ``test`` split."""
    from depthforge.data.registry import build_dataset, dataset_options

    d = cfg.data
    if not d.dataset:
        raise ConfigError("data.dataset is empty; name a registered dataset (e.g. kitti)")
    options = dataset_options(d.dataset, d.options)
    limit = d.max_train_samples if split == "train" else d.max_val_samples
    return build_dataset(d.dataset, options, split, seed=cfg.trainer.seed, max_samples=limit)


class EngineDataModule(L.LightningDataModule):
    """The configured dataset's splits behind resumable, rank-aware loaders."""

    def __init__(self, cfg: Config, train_set: Dataset[Any] | None = None,
                 val_set: Dataset[Any] | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.train_set = train_set
        self.val_set = val_set

    def setup(self, stage: str | None = None) -> None:
        if stage in (None, "fit") and self.train_set is None:
            self.train_set = build_split(self.cfg, "train")
        if stage in (None, "fit", "validate") and self.val_set is None:
            self.val_set = build_split(self.cfg, "val")

    def _loader(self, dataset: Dataset[Any], *, train: bool) -> ResumableLoader:
        trainer = self.trainer
        rank = trainer.global_rank if trainer is not None else 0
        world = trainer.world_size if trainer is not None else 1
        d = self.cfg.data
        sampler = KeyedSampler(len(dataset), shuffle=train, seed=self.cfg.trainer.seed, rank=rank,  # type: ignore[arg-type]
                               world_size=world, mark_padding=not train)
        if not train:
            dataset = PaddingAware(dataset)
        progress = None
        if train and trainer is not None:
            progress = lambda: trainer.fit_loop.epoch_loop.batch_progress.current.processed  # noqa: E731
        workers = d.workers if train else d.val_workers
        return ResumableLoader(
            dataset, sampler, progress,
            batch_size=d.batch_size if train else d.val_batch_size,
            num_workers=workers,
            pin_memory=d.pin_memory and torch.cuda.is_available(),
            drop_last=False,
            persistent_workers=workers > 0,
            worker_init_fn=worker_init if workers > 0 else None,
        )

    def train_dataloader(self) -> ResumableLoader:
        assert self.train_set is not None
        return self._loader(self.train_set, train=True)

    def val_dataloader(self) -> ResumableLoader:
        assert self.val_set is not None
        return self._loader(self.val_set, train=False)
