"""Exception types with one-line, actionable messages."""

from __future__ import annotations

import re
from os import PathLike

_WORKER_MARK = "Original Traceback"


def _one_line(message: str) -> str:
    """The original one-line message of an error re-raised from a DataLoader worker.

    torch re-raises a worker's exception as ``type(formatted traceback)``; the last line of that text is
    ``module.Type: original message``.
    """
    if _WORKER_MARK not in message:
        return message
    last = [line for line in message.splitlines() if line.strip()][-1]
    head, sep, tail = last.partition(": ")
    return tail if sep and "Error" in head else last


_LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")  # what str.splitlines() splits at


def _escaped(message: str) -> str:
    """Line breaks inside a message (a file name, a damaged file's bytes) written as escapes (``\\n``)."""
    return _LINE_BREAKS.sub(lambda m: repr(m.group())[1:-1], message)


class DepthforgeError(Exception):
    """Base class of every error depthforge raises on purpose; its message is always one line."""

    def __init__(self, message: str = "") -> None:
        super().__init__(_escaped(_one_line(str(message))))


class DataError(DepthforgeError, ValueError):
    """Bad or misaligned input data. The message names the file and the problem."""

    def __init__(self, path: str | PathLike[str] | None, problem: str | None = None) -> None:
        if problem is None:  # one preformatted message (how a DataLoader worker's error comes back)
            self.path, self.problem = None, _one_line(str(path))
            super().__init__(self.problem)
            return
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(problem if path is None else f"{path}: {problem}")


class ConfigError(DepthforgeError, ValueError):
    """Invalid configuration: unknown key, wrong type or bad combination."""


class CheckpointError(DepthforgeError, ValueError):
    """A checkpoint that cannot be read or does not fit the model."""
