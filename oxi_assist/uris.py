"""Source URIs → sources. The composition root: the only place that knows every kind of source.

`sim:NAME`, `replay:FILE?speed=X`, `serial:PORT|auto[?protocol=...]`, `ble:auto|ADDRESS`,
`hid:auto`. Opening functions are imported lazily so a missing optional package only matters
for the source that needs it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from drivers.clock import Clock
from drivers.errors import SourceError

#: scheme → "module:function"; the function takes (target: str, params: dict, clock: Clock)
#: and returns a Source.
OPENERS: dict[str, str] = {
    "sim": "simulators.sim_source:open_sim",
    "replay": "simulators.replay:open_replay",
    "serial": "drivers.serial_transport:open_serial",
    "hid": "drivers.hid_transport:open_hid",
    "ble": "drivers.ble_transport:open_ble",
}


@dataclass(frozen=True)
class SourceURI:
    scheme: str
    target: str
    params: dict[str, str]


def parse_uri(uri: str) -> SourceURI:
    scheme, sep, rest = uri.partition(":")
    if not sep or not scheme:
        raise SourceError(f"bad source URI {uri!r}: expected SCHEME:TARGET, "
                          f"e.g. sim:opioid-overdose (schemes: {', '.join(OPENERS)})")
    scheme = scheme.lower()
    if scheme not in OPENERS:
        raise SourceError(f"unknown source scheme {scheme!r} in {uri!r} "
                          f"(known: {', '.join(OPENERS)})")
    target, _, query = rest.partition("?")
    if not target:
        raise SourceError(f"bad source URI {uri!r}: nothing after '{scheme}:'")
    try:
        params = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError:
        raise SourceError(f"bad source URI {uri!r}: malformed options after '?'") from None
    return SourceURI(scheme, target, params)


def open_source(uri: str, clock: Clock) -> Any:
    u = parse_uri(uri)
    modname, _, func = OPENERS[u.scheme].partition(":")
    try:
        mod = importlib.import_module(modname)
    except ModuleNotFoundError as e:
        raise SourceError(
            f"{u.scheme}: sources are not available here ({e.name} missing)") from None
    params = u.params
    if u.scheme == "ble" and u.target.lower() == "auto":
        from oxi_assist.device_choice import DeviceChoice

        params = DeviceChoice().apply(params)  # the oximeter picked before on this machine
    return getattr(mod, func)(u.target, params, clock)
