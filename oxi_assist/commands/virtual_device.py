"""`oxi-assist virtual-device MODE ...`: play a virtual oximeter that the real drivers connect to.

`serial` runs a Contec serial device on a pty and prints its path, e.g.
`oxi-assist virtual-device serial --protocol cms50-v7 opioid-overdose` then
`oxi-assist monitor serial:/dev/pts/5`. Other modes live in their own modules: MODE_MODULES
maps a mode to a module with `register_mode(modes)`, imported only if present, so a mode whose
stack is missing still answers with one line instead of breaking the command.

While the serial device runs, trainer cues can be typed on stdin, one a line:
`garbage [N]`, `stall [S]`, `disconnect [S]`, `reconnect`, `quit`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from drivers.errors import SourceError
from drivers.printable import printable
from drivers.reading import Reading
from oxi_assist.commands._numbers import device_seconds, seed

#: mode → module providing `register_mode(modes_subparsers)`.
MODE_MODULES: dict[str, str] = {"ble": "oxi_assist.commands._virtual_ble"}

SERIAL_PROTOCOLS = ("cms50-v7", "cms50-legacy")
DAY = 24 * 3600


def register(sub: Any) -> None:
    p = sub.add_parser("virtual-device", help="run a virtual oximeter the drivers connect to",
                       description="Run a virtual oximeter (for training and testing without "
                                   "hardware) that the real drivers connect to.")
    modes = p.add_subparsers(dest="mode", metavar="MODE", parser_class=type(p))
    s = modes.add_parser("serial", help="a Contec CMS50 on a pseudo-terminal (Linux, macOS)",
                         description="A Contec CMS50 serial oximeter on a pty. Prints the port "
                                     "path; connect with `oxi-assist monitor serial:PATH`. "
                                     "Cues on stdin: garbage [N], stall [S], disconnect [S], "
                                     "reconnect, quit.")
    s.add_argument("scenario", metavar="SCENARIO", nargs="?", default="baseline",
                   help="patient scenario (see oxi-assist scenarios), or 'steady'")
    s.add_argument("--protocol", choices=SERIAL_PROTOCOLS, default="cms50-v7")
    s.add_argument("--link", metavar="PATH",
                   help="also make PATH a symlink to the pty (stable across 'disconnect')")
    s.add_argument("--seed", type=seed, default=0)
    s.add_argument("--duration", type=device_seconds, metavar="S",
                   help="stop after S seconds (default: until quit or Ctrl-C)")
    s.add_argument("--no-storage", action="store_true",
                   help="no stored recording in the device's memory (for download)")
    s.set_defaults(func=run_serial)
    for mode, modname in MODE_MODULES.items():
        try:
            mod = importlib.import_module(modname)
        except ImportError:
            mod = None
        if mod is not None and hasattr(mod, "register_mode"):
            mod.register_mode(modes)
        else:
            u = modes.add_parser(mode, help=f"{mode} (not available here)")
            u.set_defaults(func=lambda _a, m=mode: _unavailable(m))
    p.set_defaults(func=lambda _a: _no_mode(p))


def _unavailable(mode: str) -> int:
    raise SourceError(f"virtual-device {mode}: not available in this installation")


def _no_mode(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return 2


def patient(scenario: str, seed: int) -> Iterator[Reading]:
    """Readings (1 s each, 60 pleth samples) from the scenario engine, or a steady patient."""
    from simulators.virtual_serial import steady_patient

    if scenario == "steady":
        return steady_patient()
    from simulators.scenario import load_scenario
    from simulators.simulator import Simulator

    sim = Simulator(load_scenario(scenario), seed=seed, pleth_rate=60)
    return sim.run(DAY)


def run_serial(args: argparse.Namespace) -> int:
    from simulators.virtual_serial import (
        NO_PTY_MESSAGE,
        VirtualSerialOximeter,
        pty_supported,
        sample_storage,
    )

    if not pty_supported():
        raise SourceError(f"virtual-device serial: {NO_PTY_MESSAGE}")
    readings = patient(args.scenario, args.seed)
    storage = None
    if not args.no_storage and args.protocol == "cms50-v7":
        start = (datetime.now() - timedelta(hours=1)).replace(microsecond=0)
        storage = sample_storage(start, seconds=300, seed=args.seed)
    dev = VirtualSerialOximeter(args.protocol, readings, link_path=args.link, storage=storage,
                                seed=args.seed)
    path = printable(dev.start())
    print(path, flush=True)
    print(f"virtual {args.protocol} oximeter ({printable(args.scenario)}) on {path} (pty "
          f"{dev.pty_name}); connect with: oxi-assist monitor serial:{path}", file=sys.stderr,
          flush=True)
    done = threading.Event()
    threading.Thread(target=_cues, args=(dev, done), daemon=True).start()
    try:
        done.wait(args.duration)
    except KeyboardInterrupt:
        pass
    finally:
        dev.stop()
    return 0


def _cues(dev: Any, done: threading.Event) -> None:
    """Reads trainer cues from stdin; a bad line is reported and ignored, never fatal."""
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        cue, rest = words[0].lower(), words[1:]
        if cue in ("quit", "exit"):
            break
        try:
            if cue == "garbage":
                dev.inject("garbage", n=int(rest[0]) if rest else 64)
            elif cue == "stall":
                dev.inject("stall", seconds=float(rest[0]) if rest else 5.0)
            elif cue == "disconnect":
                dev.inject("disconnect", seconds=float(rest[0]) if rest else 3.0)
            else:
                dev.inject(cue)
            print(f"cue: {' '.join(words)}", file=sys.stderr, flush=True)
        except (ValueError, IndexError) as e:
            print(f"bad cue {line.strip()!r}: {e}", file=sys.stderr, flush=True)
    else:
        return  # stdin closed (e.g. run in the background): keep running
    done.set()
