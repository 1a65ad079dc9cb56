"""`oxi-assist scan`: which oximeters could be used right now.

Wired candidates come from USB IDs (a Contec serial cable 10C4:EA60, a Contec USB-HID CMS50E
28E9:028A). Bluetooth LE is listed by `drivers.ble_scan.scan_ble` when that module and a
Bluetooth stack are present; a missing stack is one line in the output, not a failure, because
the wired part of the answer is still useful.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
from typing import Any

from drivers.catalogue_serial import (
    NO_HID_MESSAGE,
    hid_backend,
    hid_candidates,
    serial_candidates,
)
from drivers.errors import OxiError
from drivers.printable import printable
from oxi_assist.commands._numbers import number


def register(sub: Any) -> None:
    p = sub.add_parser("scan", help="list candidate oximeters (serial, USB-HID, Bluetooth LE)",
                       description="List serial ports and USB-HID devices whose USB IDs match "
                                   "a Contec oximeter, then Bluetooth LE oximeters in range. "
                                   "Each line starts with the source URI to pass to monitor.")
    p.add_argument("--timeout", type=number(0.5, 300.0), default=5.0, metavar="S",
                   help="Bluetooth scan time in seconds (default 5)")
    p.add_argument("--no-ble", action="store_true", help="skip the Bluetooth LE scan")
    p.set_defaults(func=run)


def wired_lines() -> list[str]:
    lines = ["Serial (Contec cable, USB 10C4:EA60):"]
    ser = serial_candidates()
    lines += [f"  {c.line()}" for c in ser] or ["  none found"]
    lines.append("USB-HID (Contec CMS50E, USB 28E9:028A):")
    backend = hid_backend()
    if backend is None:
        lines.append(f"  unavailable: {NO_HID_MESSAGE}")
    else:
        hid = hid_candidates()
        lines += [f"  {c.line()}" for c in hid] or [f"  none found (via {backend})"]
    return lines


def ble_lines(timeout: float) -> list[str]:
    """Bluetooth LE candidates through `drivers.ble_scan.scan_ble(timeout)` (sync or async,
    returning objects with `address` and `describe()`), or one line saying why not."""
    try:
        mod = importlib.import_module("drivers.ble_scan")
    except ImportError as e:
        return ["Bluetooth LE:", f"  unavailable: BLE scanning is not available ({e.name})"]
    try:
        found = mod.scan_ble(timeout)
        if inspect.isawaitable(found):
            found = asyncio.run(found)
    except OxiError as e:
        return ["Bluetooth LE:", f"  unavailable: {e}"]
    lines = ["Bluetooth LE:"]
    for c in found:
        addr = getattr(c, "address", "")
        text = c.describe() if hasattr(c, "describe") else str(c)
        lines.append(f"  {'ble:' + addr:<24} {text}")
    if len(lines) == 1:
        lines.append("  none found")
    return lines


def run(args: argparse.Namespace) -> int:
    for line in wired_lines():
        print(printable(line), flush=True)
    if not args.no_ble:
        for line in ble_lines(args.timeout):
            print(printable(line))  # device names come from the air: shown, never obeyed
    return 0
