"""The embedded demos: synthetic data -> training on the CPU -> tables and pictures, one report for all.

Each demo module exposes ``run(out, options) -> DemoResult``; :mod:`depthforge.demos.report` turns a list of
results into one self-contained ``report.html``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Figure:
    """A picture of a demo: a PNG file and its caption."""

    path: Path
    caption: str


@dataclass
class DemoResult:
    """What one demo produced, for the terminal, ``results.md`` and the report.

    ``table`` maps each method to its metrics (protocol key -> value); ``columns`` orders and labels the
    columns shown (key -> header); ``notes`` are short paragraphs shown above the table; ``larger_better``
    names columns outside the metric protocols whose larger value is better (the protocols' own keys know
    their direction).
    """

    name: str
    title: str
    out: Path
    table: dict[str, dict[str, float]]
    columns: dict[str, str]
    figures: list[Figure] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    larger_better: frozenset[str] = frozenset()


__all__ = ["DemoResult", "Figure"]
