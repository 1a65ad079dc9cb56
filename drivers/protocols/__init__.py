"""Pure byte codecs, one module per device protocol, found by name.

Each codec module defines `PROTOCOLS: dict[str, type]` mapping the `decode --protocol` names it
serves to codec classes. A codec class is a `codec.Codec` (one `feed(data, char=None, t=None)
-> list[Reading]` and a `stats` attribute, `CodecStats`) with `encode(...)` for the simulators;
it never does I/O.
"""

from __future__ import annotations

import importlib
import pkgutil

from drivers.errors import ProtocolError
from drivers.protocols.codec import Codec


def registry() -> dict[str, type[Codec]]:
    """All protocol names → codec classes, discovered from the modules of this package."""
    out: dict[str, type[Codec]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        out.update(getattr(mod, "PROTOCOLS", {}))
    return out


def codec_for(name: str) -> Codec:
    """A fresh codec instance for a protocol name, or a one-line error listing the known ones."""
    reg = registry()
    try:
        return reg[name]()
    except KeyError:
        known = ", ".join(sorted(reg)) or "none"
        raise ProtocolError(f"unknown protocol {name!r} (known: {known})") from None
