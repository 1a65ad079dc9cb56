"""Recorded-file formats (read and write), one module per format, found by name.

Each format module defines `FORMAT = FormatInfo(...)`. Detection is by content first
(`sniff(head, name)`), by extension second; `--format NAME` forces one.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
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


def load(path: str | Path, fmt: str | None = None) -> Any:
    """Reads any supported recording, detecting the format by content, then by extension.

    Raises FormatError (one line, naming the file) for an unknown, empty or unreadable file.
    """
    from drivers.errors import FormatError

    p = Path(path)
    mods = format_modules()
    if fmt is not None:
        if fmt not in mods:
            raise FormatError(p, f"unknown format {fmt!r} (known: {', '.join(sorted(mods))})")
        return mods[fmt].FORMAT.read(p)
    try:
        with open(p, "rb") as f:
            head = f.read(4096)
    except IsADirectoryError:
        raise FormatError(p, "is a directory, not a recording") from None
    except OSError as e:
        raise FormatError(p, e.strerror or str(e)) from None
    if not head:
        raise FormatError(p, "empty file")
    scored = sorted(((m.FORMAT.sniff(head, p.name), name) for name, m in mods.items()),
                    reverse=True)
    if scored and scored[0][0] > 0:
        return mods[scored[0][1]].FORMAT.read(p)
    for m in mods.values():
        if p.suffix.lower() in m.FORMAT.extensions:
            return m.FORMAT.read(p)
    raise FormatError(p, "unrecognised file format (use --format NAME; known: "
                         f"{', '.join(sorted(mods))})")
