"""One self-contained ``report.html`` for the demos: tables, pictures (embedded as data URIs), the commands
that made them and the library versions. It opens in a browser from disk, with no server and no network."""

from __future__ import annotations

import base64
import datetime as _dt
import html
import math
import platform
from collections.abc import Sequence
from pathlib import Path

from depthforge.demos import DemoResult
from depthforge.errors import DataError

LIBRARIES = ("depthforge", "torch", "lightning", "numpy", "scipy", "scikit-image", "opencv-python-headless",
             "kornia", "matplotlib", "pillow")

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.best { font-weight: bold; background: #e8f4e8; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .9em; color: #555; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: .85em; }
"""


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries the demos use (``not installed`` when missing)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _data_uri(path: Path) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(path, f"cannot read the picture for the report ({exc.strerror or exc})") from None
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise DataError(path, "the report embeds PNG pictures only; this file is not a PNG")
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _cell(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}" if abs(value) < 1e-2 and value != 0 else f"{value:.3f}"


def _table(result: DemoResult) -> str:
    from depthforge.metrics.protocols import direction

    keys = list(result.columns)
    best: dict[str, float] = {}
    for k in keys:  # the best value of each column is highlighted (seam: closest to 0)
        values = [m[k] for m in result.table.values() if k in m and math.isfinite(m[k])]
        if values:
            larger = k in result.larger_better or direction(k) == "max"
            best[k] = min(values, key=abs) if k == "seam" else (max(values) if larger else min(values))
    head = "".join(f"<th>{html.escape(result.columns[k])}</th>" for k in keys)
    rows = []
    for name, metrics in result.table.items():
        cells = []
        for k in keys:
            if k not in metrics:
                cells.append("<td></td>")
                continue
            cls = ' class="best"' if best.get(k) == metrics[k] else ""
            cells.append(f"<td{cls}>{_cell(metrics[k])}</td>")
        rows.append(f"<tr><td>{html.escape(name)}</td>{''.join(cells)}</tr>")
    return (f'<table class="results" data-demo="{html.escape(result.name)}"><thead><tr><th>method</th>{head}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def render_report(results: Sequence[DemoResult], command: str = "make demo") -> str:
    """The report page as a string (pictures embedded)."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>depthforge demo report</title>", f"<style>{_STYLE}</style></head><body>",
             "<h1>depthforge demo report</h1>",
             (f"<p>Made by <code>{html.escape(command)}</code> on "
              f"{_dt.datetime.now().strftime('%Y-%m-%d %H:%M')}, on the CPU.</p>")]
    for r in results:
        parts.append(f'<section id="{html.escape(r.name)}"><h2>{html.escape(r.title)}</h2>')
        parts += [f"<p>{html.escape(n)}</p>" for n in r.notes]
        parts.append(_table(r))
        parts.append(f"<p>Wall time: {r.seconds:.0f} s. Best value of each column in bold.</p>")
        for fig in r.figures:
            parts.append(f'<figure><img src="{_data_uri(fig.path)}" alt="{html.escape(fig.caption)}">'
                         f"<figcaption>{html.escape(fig.caption)}</figcaption></figure>")
        if r.commands:
            parts.append("<h3>Commands</h3><pre>" + html.escape("\n".join(r.commands)) + "</pre>")
        parts.append("</section>")
    versions = library_versions()
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in versions.items())
    parts.append(f'<h2>Library versions</h2><table class="versions">{rows}</table></body></html>')
    return "\n".join(parts)


def write_report(path: Path, results: Sequence[DemoResult], command: str = "make demo") -> Path:
    """Write ``report.html`` atomically; returns its path."""
    import os

    path = Path(path)
    text = render_report(results, command)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


__all__ = ["library_versions", "render_report", "write_report"]
