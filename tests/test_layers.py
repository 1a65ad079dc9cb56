"""The architecture's arrows: drivers ← simulators ← oxi_assist. A module that imports upward is
in the wrong place, so this checks every import statement in the source tree."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"drivers": {"simulators", "oxi_assist"}, "simulators": {"oxi_assist"}}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_upward_imports(layer):
    bad = [f"{p.relative_to(ROOT)} imports {sorted(_imports(p) & FORBIDDEN[layer])}"
           for p in sorted((ROOT / layer).rglob("*.py")) if _imports(p) & FORBIDDEN[layer]]
    assert not bad, "; ".join(bad)
    assert list((ROOT / layer).rglob("*.py")), f"{layer}/ has no modules"


def test_guidance_is_data_only():
    code = [p for p in (ROOT / "guidance").rglob("*.py") if p.read_text().strip()]
    assert not code, f"guidance/ must hold data only: {code}"
