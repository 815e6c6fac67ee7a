"""Tasks: what one model family needs beyond the generic engine.

The engine (:mod:`depthforge.engine`) owns optimisation, schedules, freezing, precision, DDP, checkpoints,
resume, logging, metric averaging and progress. A task owns the batch keys it reads, the loss, the output
that is scored, the metric protocol, pictures and reference-format artefacts. The config selects it with
``task.name``; empty means the task the model's contract declares.

This module imports no task: the table names where each one lives.
"""

from __future__ import annotations

import difflib
import importlib
from typing import TYPE_CHECKING

from depthforge.errors import ConfigError

if TYPE_CHECKING:
    from depthforge.tasks.base import Task

_TASKS: dict[str, str] = {
    "completion": "depthforge.tasks.completion:CompletionTask",
    "monocular": "depthforge.tasks.monocular:MonocularTask",
}


def list_tasks() -> list[str]:
    """Names of the built-in tasks."""
    return sorted(_TASKS)


def get_task(name: str) -> type[Task]:
    """The task class registered under ``name`` (imported on first use)."""
    try:
        target = _TASKS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_TASKS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"task.name: unknown task {name!r}{hint} (known: {', '.join(sorted(_TASKS))})") from None
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


__all__ = ["get_task", "list_tasks"]
