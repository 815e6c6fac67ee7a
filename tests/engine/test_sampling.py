from __future__ import annotations

import torch
from torch.utils.data import Dataset

from depthforge.engine.sampling import KeyedSampler, ResumableLoader, sample_seed
from depthforge.losses import deep_supervision_weight, masked_l1, masked_mse


class KeyEcho(Dataset):
    def __len__(self) -> int:
        return 10

    def __getitem__(self, key: tuple[int, int]) -> torch.Tensor:
        return torch.tensor(key[0])


def test_shuffle_depends_on_seed_and_epoch_only() -> None:
    a = KeyedSampler(10, shuffle=True, seed=3)
    b = KeyedSampler(10, shuffle=True, seed=3)
    assert list(a) == list(b)
    b.set_epoch(1)
    assert [k for k, _ in a] != [k for k, _ in b]
    assert sorted(k for k, _ in b) == list(range(10))


def test_ranks_partition_the_single_process_order() -> None:
    single = [k for k, _ in KeyedSampler(10, shuffle=True, seed=1)]
    r0 = [k for k, _ in KeyedSampler(10, shuffle=True, seed=1, rank=0, world_size=2)]
    r1 = [k for k, _ in KeyedSampler(10, shuffle=True, seed=1, rank=1, world_size=2)]
    # Step i of two ranks with batch 1 covers the same samples as step i of one process with batch 2.
    assert [{a, b} for a, b in zip(r0, r1)] == [set(single[i:i + 2]) for i in range(0, 10, 2)]


def test_sample_seed_is_independent_of_rank() -> None:
    s0 = dict(KeyedSampler(10, shuffle=True, seed=1, rank=0, world_size=2))
    s1 = dict(KeyedSampler(10, shuffle=True, seed=1, rank=1, world_size=2))
    full = dict(KeyedSampler(10, shuffle=True, seed=1))
    assert {**s0, **s1} == full
    assert full[4] == sample_seed(1, 0, 4)


def test_evaluation_sharding_scores_each_image_once() -> None:
    shards = [list(KeyedSampler(7, shuffle=False, rank=r, world_size=3, mark_padding=True)) for r in range(3)]
    assert len({len(s) for s in shards}) == 1  # every rank takes part in each collective
    assert sorted(k for s in shards for k, _, pad in s if not pad) == list(range(7))
    assert sum(pad for s in shards for *_, pad in s) == 2


def test_loader_resumes_inside_an_epoch() -> None:
    sampler = KeyedSampler(10, shuffle=True, seed=5)
    done = {"n": 0}
    loader = ResumableLoader(KeyEcho(), sampler, progress=lambda: done["n"], batch_size=2)
    full = [b.tolist() for b in loader]
    done["n"] = 3
    state = loader.state_dict()
    fresh = ResumableLoader(KeyEcho(), KeyedSampler(10, shuffle=True, seed=5), batch_size=2)
    fresh.load_state_dict(state)
    assert [b.tolist() for b in fresh] == full[3:]
    # The skip applies once: the next pass is a whole epoch again.
    assert len(list(fresh)) == 5


def test_state_saved_at_epoch_end_moves_to_next_epoch() -> None:
    loader = ResumableLoader(KeyEcho(), KeyedSampler(10, shuffle=True, seed=5), batch_size=2)
    loader.load_state_dict({"epoch": 0, "batches_done": 5})
    assert loader.keyed_sampler.epoch == 1 and len(list(loader)) == 5


def test_masked_losses_pool_over_valid_pixels() -> None:
    pred = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    gt = torch.tensor([[[[2.0, 0.0], [1.0, 0.0]]]])
    assert masked_mse(pred, gt).item() == (1 + 4) / 2
    assert masked_l1(pred, gt).item() == (1 + 2) / 2
    assert masked_mse(pred, torch.zeros_like(gt)).item() == 0.0


def test_deep_supervision_schedule_matches_reference() -> None:
    sched = [(1, 0.2), (3, 0.05)]
    assert [deep_supervision_weight(e, sched) for e in range(6)] == [0.2, 0.2, 0.05, 0.05, 0.0, 0.0]
