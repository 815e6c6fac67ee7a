"""report.html: one self-contained page with every table, picture, command and library version.

No headless browser installs from the package registries here, so the page is checked by parsing it with
the standard library's HTML parser: every <img> must be an embedded PNG that decodes, every demo must have
its table with one row per method, and nothing may point outside the page.
"""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from depthforge.demos import DemoResult, Figure
from depthforge.demos.patchrefiner import format_markdown
from depthforge.demos.report import render_report, write_report
from depthforge.errors import DataError
from depthforge.viz import save_png


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.links: list[str] = []
        self.tables: list[dict[str, str]] = []
        self.rows: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "img":
            self.images.append(a)
        if tag in ("link", "script") or (tag == "a" and "href" in a):
            self.links.append(a.get("href") or a.get("src") or tag)
        if tag == "table":
            self.tables.append(a)
            self._table = a.get("data-demo", a.get("class", ""))
            self.rows.setdefault(self._table, [])
        if tag == "tr":
            self._row = []
        if tag in ("td", "th"):
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        if tag == "tr" and self._row is not None and self._table is not None:
            self.rows[self._table].append(self._row)
            self._row = None


def _result(tmp_path: Path, name: str, methods: list[str], n_figures: int) -> DemoResult:
    figures = []
    for i in range(n_figures):
        path = tmp_path / name / f"fig{i}.png"
        save_png(path, np.full((8, 12, 3), 40 * i, np.uint8))
        figures.append(Figure(path, f"{name} picture {i}"))
    table = {m: {"rmse": 1.0 + k, "f1_score": 0.5 - 0.1 * k} for k, m in enumerate(methods)}
    return DemoResult(name=name, title=f"{name} demo", out=tmp_path / name, table=table,
                      columns={"rmse": "RMSE m", "f1_score": "F1"}, figures=figures,
                      commands=[f"depthforge demo {name}"], notes=[f"{name} note"], seconds=12.0)


def test_report_is_self_contained_with_every_table_and_picture(tmp_path: Path) -> None:
    results = [_result(tmp_path, "semattnet", ["SemAttNet", "IP-Basic", "nearest"], 3),
               _result(tmp_path, "patchrefiner", ["coarse", "m1", "m2", "r32", "bilateral"], 4)]
    path = write_report(tmp_path / "report.html", results, command="depthforge demo")
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    assert len(page.images) == 7
    for img in page.images:
        assert img["src"].startswith("data:image/png;base64,"), img["src"][:40]
        decoded = Image.open(io.BytesIO(base64.b64decode(img["src"].split(",", 1)[1])))
        assert decoded.size == (12, 8)
        assert img["alt"]
    assert page.links == []  # no stylesheet, script or link to fetch: the page opens from disk
    for r in results:
        rows = page.rows[r.name]
        assert rows[0] == ["method", "RMSE m", "F1"]
        assert [row[0] for row in rows[1:]] == list(r.table)
        assert rows[1][1] == "1.000"
    assert "versions" in page.rows and any(row[0] == "torch" for row in page.rows["versions"])
    text = path.read_text(encoding="utf-8")
    assert "depthforge demo patchrefiner" in text and "patchrefiner note" in text
    assert not (tmp_path / "report.html.tmp").exists()


def test_report_marks_the_best_value_per_column(tmp_path: Path) -> None:
    r = _result(tmp_path, "x", ["a", "b"], 0)
    r.table = {"a": {"rmse": 2.0, "f1_score": 0.9}, "b": {"rmse": 1.0, "f1_score": 0.1}}
    text = render_report([r])
    assert '<td class="best">1.000</td>' in text and '<td class="best">0.900</td>' in text
    assert '<td class="best">2.000</td>' not in text
    r.columns["si_boundary_f1"] = "SI-BF1"  # not a protocol key: the result says which way is better
    r.table = {"a": {"si_boundary_f1": 0.25}, "b": {"si_boundary_f1": 0.5}}
    assert '<td class="best">0.250</td>' in render_report([r])
    r.larger_better = frozenset({"si_boundary_f1"})
    assert '<td class="best">0.500</td>' in render_report([r])


def test_report_refuses_a_missing_or_non_png_picture(tmp_path: Path) -> None:
    r = _result(tmp_path, "x", ["a"], 1)
    r.figures.append(Figure(tmp_path / "missing.png", "gone"))
    with pytest.raises(DataError, match="missing.png"):
        render_report([r])
    bad = tmp_path / "bad.png"
    bad.write_text("not a png")
    r.figures[-1] = Figure(bad, "bad")
    with pytest.raises(DataError, match="not a PNG"):
        render_report([r])


def test_markdown_table_has_every_method_and_column() -> None:
    text = format_markdown({"m1": {"rmse": 1.5, "seam": 0.25}, "coarse": {"rmse": 2.0}},
                           {"rmse": "RMSE m", "seam": "seam"}, {"m1": "PatchRefiner m1"})
    lines = text.splitlines()
    assert lines[0] == "| method | RMSE m | seam |"
    assert lines[2] == "| PatchRefiner m1 | 1.5000 | 0.2500 |"
    assert lines[3] == "| coarse | 2.0000 |  |"
