"""The house's size and shape (docs/ARCHITECTURE.md): small modules with one job, classes a
reader can hold in their head, and no import circles, so a change to one room does not ripple
through the others. These limits are checked on every module of the source tree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("drivers", "simulators", "oxi_assist", "benchmarks")
MODULE_LINES = 600  # at most, for a module outside tests/
CLASS_LINES = 300  # at most, for a class of oxi_assist/


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for pkg in PACKAGES:
        for p in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(p.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = p
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module of ours that a module imports, wherever the statement stands: an import
    put inside a function or under `if TYPE_CHECKING:` to dodge a circle still ties the two
    rooms together, so it counts."""
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod in known:
                out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in known)
    out.discard(name)
    return out


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles():
    mods = _modules()
    graph = {n: _imports(n, p, set(mods)) for n, p in mods.items()}
    assert sum(len(v) for v in graph.values()) > 100, "the import graph was not read"
    assert _circles(graph) == []


def test_the_circle_finder_finds_a_circle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("pkg", PACKAGES)
def test_modules_are_small(pkg):
    big = {str(p.relative_to(ROOT)): n for p in sorted((ROOT / pkg).rglob("*.py"))
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MODULE_LINES}
    assert big == {}, f"modules over {MODULE_LINES} lines"


def test_classes_are_small():
    big = {}
    for p in sorted((ROOT / "oxi_assist").rglob("*.py")):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and \
                    (n := node.end_lineno - node.lineno + 1) > CLASS_LINES:
                big[f"{p.relative_to(ROOT)}:{node.name}"] = n
    assert big == {}, f"classes over {CLASS_LINES} lines"


def _signature(path: Path, cls: str, method: str) -> dict[str, str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for f in node.body:
                if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef) and f.name == method:
                    args = f.args.args + f.args.kwonlyargs
                    return {a.arg: ast.unparse(a.annotation) for a in args if a.annotation}
    raise AssertionError(f"{cls}.{method} not found in {path}")


def test_the_session_is_typed_against_its_parts():
    """The Session speaks to the Monitor, the Guide, its recorder and its source through their
    types, not `Any` and not attribute probes: a renamed method fails the type check, not a
    response in the field."""
    path = ROOT / "oxi_assist" / "session" / "session.py"
    init = _signature(path, "Session", "__init__")
    assert init["monitor"] == "Monitor | None" and init["guide"] == "Guide | None"
    assert _signature(path, "Session", "run")["source"] == "Source | None"
    probes = [f"{p.name}:{n.lineno}" for p in sorted(path.parent.glob("*.py"))
              for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
              if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
              and n.func.id in ("getattr", "hasattr")]
    assert probes == []
