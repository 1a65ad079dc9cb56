"""Recorded-file formats (read and write), one module per format, found by name.

Each format module defines `FORMAT = FormatInfo(...)`. Detection is by content first
(`sniff(head, name)`), by extension second; `--format NAME` forces one.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def format_modules() -> dict[str, Any]:
    """Format name → module, discovered from the modules of this package."""
    out: dict[str, Any] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        fmt = getattr(mod, "FORMAT", None)
        if fmt is not None:
            out[fmt.name] = mod
    return out
