"""Deterministic, resumable, rank-aware sampling.

Every sample is keyed by ``(index, sample_seed)`` where ``sample_seed`` depends only on the run
seed, the epoch and the index. Augmentation randomness therefore does not depend on worker
count, process count or interruptions: a run resumed mid-epoch sees exactly the samples and
augmentations an uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """A 63-bit seed unique to (run seed, epoch, sample index)."""
    return int(np.random.SeedSequence([seed, epoch, index]).generate_state(1, np.uint64)[0] >> 1)


class KeyedSampler(Sampler[tuple[int, ...]]):
    """Yields ``(index, sample_seed)`` keys; shards by rank like ``DistributedSampler``.

    With ``shuffle`` the permutation depends on (seed, epoch) only. Rank ``r`` of ``w`` takes
    positions ``r, r + w, ...`` so one step of ``w`` processes with batch ``b`` covers the same
    samples as one step of a single process with batch ``w * b``.
    """

    def __init__(
        self,
        size: int,
        *,
        shuffle: bool,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        pad: bool = True,
        mark_padding: bool = False,
    ) -> None:
        self.size = size
        self.shuffle = shuffle
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        # Training pads so every rank takes the same number of steps; evaluation does not,
        # so that no image is scored twice.
        # Evaluation pads too (every rank must take part in the collective metric reduction)
        # but marks the repeated keys, ``(index, seed, 1)``, so that no image is scored twice.
        self.pad = pad or mark_padding
        self.mark_padding = mark_padding
        self.epoch = 0
        self._skip = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def skip_next(self, count: int) -> None:
        """Skip the first ``count`` keys of the next iteration (resume inside an epoch)."""
        self._skip = count

    def _order(self) -> tuple[np.ndarray, np.ndarray]:
        if self.shuffle:
            rng = np.random.default_rng([self.seed, self.epoch])
            order = rng.permutation(self.size)
        else:
            order = np.arange(self.size)
        padded = np.zeros(len(order), dtype=bool)
        if self.pad and self.world_size > 1 and self.size % self.world_size:
            extra = self.world_size - self.size % self.world_size
            order = np.concatenate([order, np.resize(order, extra)])
            padded = np.concatenate([padded, np.ones(extra, dtype=bool)])
        return order[self.rank :: self.world_size], padded[self.rank :: self.world_size]

    def __len__(self) -> int:
        if self.pad:
            return -(-self.size // self.world_size)
        return len(range(self.rank, self.size, self.world_size))

    def __iter__(self) -> Iterator[tuple[int, ...]]:
        order, padded = self._order()
        skip, self._skip = self._skip, 0
        for idx, pad in zip(order[skip:], padded[skip:]):
            key = (int(idx), sample_seed(self.seed, self.epoch, int(idx)))
            yield (*key, int(pad)) if self.mark_padding else key


class ResumableLoader(DataLoader):
    """A DataLoader whose position inside an epoch survives a checkpoint.

    Lightning stores ``state_dict()`` in its checkpoints and calls ``load_state_dict`` on
    resume. The position is read from the training loop (``progress``) rather than counted
    here, because the loop prefetches batches ahead of what it has trained on.
    """

    def __init__(
        self,
        dataset: Dataset[Any],
        sampler: KeyedSampler,
        progress: Callable[[], int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(dataset, sampler=sampler, **kwargs)
        self.keyed_sampler = sampler
        self.progress = progress

    def state_dict(self) -> dict[str, int]:
        done = self.progress() if self.progress is not None else 0
        return {"epoch": self.keyed_sampler.epoch, "batches_done": int(done)}

    def load_state_dict(self, state: dict[str, int]) -> None:
        epoch, done = int(state["epoch"]), int(state["batches_done"])
        if done >= len(self):  # saved at the very end of an epoch: continue with the next one
            epoch, done = epoch + 1, 0
        self.keyed_sampler.set_epoch(epoch)
        batch_size = self.batch_size or 1
        self.keyed_sampler.skip_next(done * batch_size)


class PaddingAware(Dataset[Any]):
    """Wraps a keyed dataset for evaluation: items carry ``pad`` (1 for a repeated key)."""

    def __init__(self, dataset: Dataset[Any]) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, key: tuple[int, int, int]) -> dict[str, Any]:
        index, seed, pad = key
        item = dict(self.dataset[(index, seed)])
        item["pad"] = pad
        return item


def worker_init(worker_id: int) -> None:
    """Keep worker processes from oversubscribing the CPU."""
    torch.set_num_threads(1)
