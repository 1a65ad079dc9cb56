"""Device-facing layer: the common `Reading`, byte codecs, transports and recorded-file formats.

Nothing here imports `simulators` or `oxi_assist`; everything above speaks in `Reading`s.
The names below are loaded when first used, so importing one module of the package (a file
reader, for `oxi-assist analyze`) does not start asyncio and the transports.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "Clock": "drivers.clock", "RealClock": "drivers.clock", "VirtualClock": "drivers.clock",
    "FormatError": "drivers.errors", "OxiError": "drivers.errors",
    "ProtocolError": "drivers.errors", "SourceError": "drivers.errors",
    "LinkEvent": "drivers.reading", "LinkState": "drivers.reading",
    "Reading": "drivers.reading", "Source": "drivers.reading", "Status": "drivers.reading",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'drivers' has no attribute {name!r}")
    return getattr(importlib.import_module(where), name)
