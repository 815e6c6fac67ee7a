"""The one evaluator: every score (training validation, ``depthforge test``, ``depthforge eval``, the demos)
goes through :class:`Scorer`, which applies one protocol per image and averages by that protocol's rule.

:func:`evaluate` runs a model over a dataset split and scores it; :func:`write_test_submission` streams a
benchmark submission instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from depthforge.batch import GT, NAME
from depthforge.config import Config
from depthforge.metrics._arrays import ArrayLike
from depthforge.metrics.protocols import Protocol, get_protocol

# ``reduce(tensor) -> tensor summed over processes`` (identity in one process).
SumReducer = Callable[[torch.Tensor], torch.Tensor]


class Scorer:
    """Per-image scores under one protocol and their average by the protocol's NaN rule.

    ``rows`` keeps one dict per image when ``keep_rows`` is set (per-image CSVs).
    """

    def __init__(self, protocol: str | Protocol, depth_range: tuple[float, float] | None = None,
                 keep_rows: bool = False) -> None:
        self.protocol = get_protocol(protocol) if isinstance(protocol, str) else protocol
        self.depth_range = depth_range
        self.averager = self.protocol.averager()
        self.keep_rows = keep_rows
        self.rows: list[dict[str, Any]] = []
        self.n_images = 0

    def add(self, pred: ArrayLike, gt: ArrayLike, name: str | None = None, **extras: Any) -> dict[str, float]:
        """Score one image and add it to the average."""
        metrics = self.protocol.score(pred, gt, depth_range=self.depth_range, **extras)
        self.averager.update(metrics)
        self.n_images += 1
        if self.keep_rows:
            self.rows.append({"name": name if name is not None else str(self.n_images - 1), **metrics})
        return metrics

    def add_batch(self, pred: torch.Tensor, batch: Mapping[str, Any], extras: Callable[[int], dict[str, Any]],
                  keep: torch.Tensor | None = None) -> None:
        """Score every image ``i`` of a batch with ``keep[i]`` (default all)."""
        names = batch.get(NAME)
        for i in range(pred.shape[0]):
            if keep is not None and not bool(keep[i]):
                continue
            name = names[i] if isinstance(names, (list, tuple)) else None
            self.add(pred[i].float(), batch[GT][i].float(), name, **extras(i))

    def compute(self, reduce: SumReducer | None = None, keys: tuple[str, ...] | None = None) -> dict[str, float]:
        """Means over every image (over every process with ``reduce``); ``n_images`` is a count.

        With ``reduce`` all processes must pass the same ``keys`` (the layout of the reduced tensor).
        """
        if reduce is not None:
            layout = list(keys or self.protocol.keys)
            names, sums, counts = self.averager.state(layout)
            packed = reduce(torch.cat([sums, counts, torch.tensor([float(self.n_images)], dtype=torch.float64)]))
            n = len(names)
            self.averager.load_state(names, packed[:n], packed[n:2 * n])
            self.n_images = int(round(float(packed[-1])))
        means = self.averager.compute()
        means["n_images"] = float(self.n_images)
        return means

    def table(self, rows: Mapping[str, Mapping[str, float]] | None = None) -> str:
        """The protocol's table of ``rows`` (default: this scorer's averages under ``'mean'``)."""
        return self.protocol.format_table(rows if rows is not None else {"mean": self.compute()})


def device_of(cfg: Config) -> torch.device:
    if cfg.trainer.accelerator == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")


def load_model(cfg: Config, ckpt: str | Path) -> torch.nn.Module:
    """The configured model with a checkpoint's weights, on the configured device, in eval mode.

    The checkpoint's own architecture (e.g. SemAttNet's width) wins over the config's, so a shipped config
    evaluates any width; a checkpoint that fills only part of the model is refused.
    """
    from depthforge.checkpoint import build_from_checkpoint

    model = build_from_checkpoint(ckpt, cfg.model.name, checkpoint_wins=True, **cfg.model.kwargs)
    return model.to(device_of(cfg)).eval()


def _loader(cfg: Config, split: str) -> DataLoader[Any]:
    from depthforge.engine.datamodule import build_split

    return DataLoader(build_split(cfg, split), batch_size=1, shuffle=False, num_workers=cfg.data.val_workers)


def _to(batch: Mapping[str, Any], device: torch.device) -> dict[str, Any]:
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


@torch.inference_mode()
def evaluate(cfg: Config, model: torch.nn.Module, split: str = "val", val_results: Path | None = None,
             keep_rows: bool = False) -> Scorer:
    """Score ``model`` on a dataset split with the task's protocol; returns the filled :class:`Scorer`."""
    from depthforge.models.contract import contract_of
    from depthforge.tasks.base import build_task

    task = build_task(cfg, contract_of(model))
    device = next(model.parameters()).device
    scorer = Scorer(task.protocol, keep_rows=keep_rows)
    index = 0
    for batch in tqdm(_loader(cfg, split), desc="evaluate", unit="img"):
        batch = _to(batch, device)
        pred = task.prediction(task.evaluate(model, batch))
        scorer.add_batch(pred, batch, lambda i: task.score_extras(batch, i))
        if val_results is not None:
            from depthforge.viz import save_png

            for i in range(pred.shape[0]):
                save_png(val_results / f"{index:010d}.png", task.visualise(task.picture(batch, pred, i)))
                index += 1
    return scorer


def write_test_submission(cfg: Config, model: torch.nn.Module, out_dir: Path) -> Path:
    """Predict the anonymous test split and write ``0000000000.png``... plus a flat zip beside it."""
    from depthforge.io import check_submission, write_submission

    device = next(model.parameters()).device

    @torch.inference_mode()
    def predictions() -> Iterator[tuple[int, np.ndarray]]:  # streamed: never 1,000 maps in memory
        for i, batch in enumerate(tqdm(_loader(cfg, "test"), desc="test", unit="img")):
            yield i, model(_to(batch, device))["depth"][0, 0].float().cpu().numpy()

    zip_path = out_dir.parent / f"{out_dir.name or 'submission'}.zip"
    paths = write_submission(predictions(), out_dir, zip_path=zip_path)
    problems = check_submission(zip_path, expected_count=len(paths), expected_size=None)
    if problems:
        raise ValueError(f"{zip_path}: submission check failed: {'; '.join(problems)}")
    return zip_path


__all__ = ["Scorer", "device_of", "evaluate", "load_model", "write_test_submission"]
