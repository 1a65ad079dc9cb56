"""`oxi-assist virtual-device ble`: a virtual Bluetooth LE oximeter.

By default it runs in-process against the real BLE driver (bleak's API over a virtual
backend), so the whole path (scan, connect, subscribe, decode, drops and reconnects) can be
watched without a radio. With `--hci usb:0` (or `hci-socket:0`, any bumble transport) the bumble
stack drives a Bluetooth controller and the virtual oximeter advertises for real, so another
machine can connect with `oxi-assist monitor ble:auto`.
"""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from drivers.catalogue_ble import PROFILES
from oxi_assist.commands._numbers import device_seconds, seed


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
    b.add_argument("--seed", type=seed, default=0)
    b.add_argument("--duration", type=device_seconds, metavar="S",
                   help="stop after S seconds (default: until quit or Ctrl-C)")
    b.add_argument("--hci", metavar="TRANSPORT",
                   help="serve over a real controller with bumble, e.g. usb:0 or hci-socket:0 "
                        "(needs the bumble package; the controller must not be in use by the "
                        "system's own Bluetooth stack)")
    b.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from oxi_assist.commands.virtual_device import patient
    from simulators.ble.console import main

    with contextlib.suppress(KeyboardInterrupt):
        main(args.profile, patient(args.scenario, args.seed), duration=args.duration,
             hci=args.hci)
    return 0
