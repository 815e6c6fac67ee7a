"""Quiet, single-stream logs for every command."""

from __future__ import annotations

import logging
import sys
import warnings


def quiet_logs() -> None:
    """One plain log stream on the current stderr. Lightning's start-up lines and tips are silenced (its
    warnings are kept); call again after Lightning is imported, since importing it installs its own
    handler and level."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", force=True, stream=sys.stderr)
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logger = logging.getLogger(name)
        logger.handlers.clear()  # a handler bound at import time may hold a stale stream
        logger.propagate = True
        logger.setLevel(logging.WARNING)
    # torch repeats this advice for every loader (twice per loader); the worker count is the config's choice.
    warnings.filterwarnings("ignore", message=r"This DataLoader will create \d+ worker processes")


__all__ = ["quiet_logs"]
