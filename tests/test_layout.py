"""The package's shape: no import circle, and SemAttNet's names stay inside its family."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "depthforge"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _top_level_imports(path: Path) -> set[str]:
    """depthforge modules imported when ``path`` is imported (function bodies and TYPE_CHECKING excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("depthforge"))
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("depthforge"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if sub in MODULES else node.module)
            elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)

    visit(tree.body)
    return {m for m in found if m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            strong(v)
    return out


def test_no_import_circle() -> None:
    graph = {name: _top_level_imports(path) - {name} for name, path in MODULES.items()}
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# SemAttNet's layout and output names; the family's own modules are the only place that spells them.
SEMATTNET_NAMES = ("backbone.", "rgb_depth", "semantic_depth", "d_depth", "rgb_conv_init", "dimhalf_s2", "att_12")
OLD_BATCH_KEYS = ('"d"', '"rgb"', '"velodyne"')


def _string_literals(path: Path) -> list[tuple[int, str]]:
    """String constants that are data, not documentation (bare string statements are docstrings)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


_LEAK = re.compile("|".join(rf"(?<![\w.]){re.escape(s)}" for s in SEMATTNET_NAMES))


@pytest.mark.parametrize("name", [m for m in MODULES if not m.startswith("depthforge.models.semattnet")])
def test_semattnet_names_stay_in_the_family(name: str) -> None:
    leaks = [f"line {line}: {text!r}" for line, text in _string_literals(MODULES[name])
             if _LEAK.search(text) or f'"{text}"' in OLD_BATCH_KEYS]
    assert not leaks, leaks
