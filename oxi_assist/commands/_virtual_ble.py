"""`oxi-assist virtual-device ble`: a virtual Bluetooth LE oximeter.

It runs in-process against the real BLE driver (bleak's API over a virtual backend), so the
whole path (scan, connect, subscribe, decode, drops and reconnects) can be watched without a
radio. Advertising to other machines over a real adapter is not part of this mode.
"""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from drivers.catalogue_ble import PROFILES
from drivers.errors import OxiError


def register_mode(modes: Any) -> None:
    b = modes.add_parser(
        "ble", help="a Bluetooth LE oximeter, connected in-process to the real BLE driver",
        description="Play a BLE oximeter profile and connect to it with the real driver in "
                    "the same process (no radio), printing link events and one reading a "
                    "second. Cues on stdin: drop [S] (drop the link, out of reach S s), "
                    "silent [S] (stop notifying), quit.")
    b.add_argument("scenario", metavar="SCENARIO", nargs="?", default="baseline",
                   help="patient scenario (see oxi-assist scenarios), or 'steady'")
    b.add_argument("--profile", choices=sorted(k for k in PROFILES if k != "contec"),
                   default="plx", help="device profile to play (default: plx)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--duration", type=float, metavar="S",
                   help="stop after S seconds (default: until quit or Ctrl-C)")
    b.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from oxi_assist.commands.virtual_device import patient
    from simulators.virtual_ble import main

    if args.duration is not None and not args.duration > 0:
        raise OxiError("--duration must be a positive number of seconds")
    with contextlib.suppress(KeyboardInterrupt):
        main(args.profile, patient(args.scenario, args.seed), duration=args.duration)
    return 0
