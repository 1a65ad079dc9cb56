"""Recorded-file formats (read and write), one module per format, found by name.

Each format module defines `FORMAT = FormatInfo(...)`. Detection is by content first
(`sniff(head, name)`), by extension second; `--format NAME` forces one. Modules whose name
starts with `_` are shared helpers, not formats.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drivers.safe_files import check_input, open_input, os_reason


def format_modules() -> dict[str, Any]:
    """Format name → module, discovered from the modules of this package (once: listing the
    package's folder on every `load` cost more than reading a small file)."""
    return dict(_discover())


@functools.cache
def _discover() -> dict[str, Any]:
    """The format modules: every `*.py` of this package's folder whose name does not start
    with `_` (listed with os: pkgutil would import inspect, a few ms of every command)."""
    out: dict[str, Any] = {}
    names = sorted({f[:-3] for d in __path__ for f in os.listdir(d)
                    if f.endswith(".py") and not f.startswith("_")})
    for name in names:
        mod = importlib.import_module(f"{__name__}.{name}")
        fmt = getattr(mod, "FORMAT", None)
        if fmt is not None:
            out[fmt.name] = mod
    return out


def _resolve(p: Path) -> Path:
    """A WFDB record may be named without its extension (`rdrecord` style)."""
    if not os.path.lexists(p) and os.path.isfile(p.with_name(p.name + ".hea")):
        return p.with_name(p.name + ".hea")
    return p


def detect(path: str | Path) -> str:
    """The name of the format a file is in, by content first, then by extension.

    Raises FormatError (one line, naming the file) for an unknown, empty or unreadable file.
    """
    from drivers.errors import FormatError

    p = _resolve(Path(path))
    mods = format_modules()
    with open_input(p, what="recording") as f:  # a FIFO or a device is refused unopened
        try:
            head = f.read(4096)
        except OSError as e:
            raise FormatError(p, os_reason(e)) from None
    if not head:
        raise FormatError(p, "empty file")
    scored = sorted(((m.FORMAT.sniff(head, p.name), name) for name, m in mods.items()),
                    reverse=True)
    if scored and scored[0][0] > 0:
        return scored[0][1]
    from drivers.formats import generic_csv

    if p.suffix.lower() in (*generic_csv.FORMAT.extensions, ""):
        hint = generic_csv.unclaimed(head, p.name)  # a table no reader knows: what it has,
        if hint is not None:  # and the line that would read it
            raise FormatError(p, hint)
    for name, m in mods.items():
        if p.suffix.lower() in m.FORMAT.extensions:
            return name
    raise FormatError(p, "unrecognised file format (use --format NAME; known: "
                         f"{', '.join(sorted(mods))})")


def load(path: str | Path, fmt: str | None = None, *, columns: str | None = None,
         progress: Callable[[int, int], None] | None = None) -> Any:
    """Reads any supported recording, detecting the format by content, then by extension.

    `columns` is an explicit column mapping for the generic CSV reader (`spo2=2,pulse=3,
    interval=1s`); giving it without `fmt` selects that reader. `progress(done, total)` is
    called now and then with bytes read, by readers that stream.
    Raises FormatError (one line, naming the file) for an unknown, empty or unreadable file.
    """
    from drivers.errors import FormatError

    p = _resolve(Path(path))
    check_input(p, what="recording")  # before any reader opens it: a FIFO would never end
    mods = format_modules()
    if fmt is None and columns is not None:
        fmt = "generic-csv"
    if fmt is not None:
        if fmt not in mods:
            raise FormatError(p, f"unknown format {fmt!r} (known: {', '.join(sorted(mods))})")
    else:
        fmt = detect(p)
    info = mods[fmt].FORMAT
    opts: dict[str, Any] = {}
    if progress is not None and "progress" in info.options:
        opts["progress"] = progress
    if columns is not None:
        if "columns" not in info.options:
            raise FormatError(p, f"--columns applies to generic-csv, not to {fmt}")
        opts["columns"] = columns
    return info.read(p, **opts)
