"""`oxi-assist monitor SOURCE-URI`: the live screen on any source (a device, a replay, the
simulator). The guidance runs whether or not the source works."""

from __future__ import annotations

import argparse

from oxi_assist.ui.launch import add_common_options, options_from, run_app, with_params


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("monitor", help="live screen on an oximeter or any source URI",
                       description="Source URIs: sim:NAME, replay:FILE?speed=X, "
                                   "serial:PORT|auto, ble:auto|ADDRESS, hid:auto.")
    p.add_argument("uri", metavar="SOURCE-URI", help="e.g. ble:auto or serial:/dev/ttyUSB0")
    add_common_options(p, seed=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    uri = args.uri
    if args.seed is not None and uri.lower().startswith("sim:") and "seed=" not in uri:
        uri = with_params(uri, seed=args.seed)  # --seed applies to a simulated source only
    return run_app(uri, options_from(args))
