"""`oxi-assist monitor SOURCE-URI`: the live screen on any source (a device, a replay, the
simulator). The guidance runs whether or not the source works.

With several Bluetooth oximeters in range, `ble:auto` shows a picker and remembers the choice on
this machine; `--choose-device` asks again (the remembered one is kept until another is chosen).
"""

from __future__ import annotations

import argparse

from oxi_assist.ui.launch import add_common_options, options_from, run_app, with_params


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("monitor", help="live screen on an oximeter or any source URI",
                       description="Source URIs: sim:NAME, replay:FILE?speed=X, "
                                   "serial:PORT|auto, ble:auto|ADDRESS, hid:auto.")
    p.add_argument("uri", metavar="SOURCE-URI", help="e.g. ble:auto or serial:/dev/ttyUSB0")
    add_common_options(p, seed=True)
    p.add_argument("--choose-device", action="store_true",
                   help="ble:auto: list the oximeters in range even if one was chosen before")
    p.set_defaults(func=run)


def choose_again(uri: str) -> str:
    """`ble:auto` with an empty preference: the remembered oximeter is not used this time, so
    with several in range the picker asks (an explicit address or preference is kept)."""
    scheme, _, rest = uri.partition(":")
    target, _, query = rest.partition("?")
    if scheme.lower() != "ble" or target.lower() != "auto":
        return uri
    if any(p.startswith(("prefer=", "address=")) for p in query.split("&")):
        return uri
    return with_params(uri, prefer="")


def run(args: argparse.Namespace) -> int:
    uri = args.uri
    if args.seed is not None and uri.lower().startswith("sim:") and "seed=" not in uri:
        uri = with_params(uri, seed=args.seed)  # --seed applies to a simulated source only
    if getattr(args, "choose_device", False):
        uri = choose_again(uri)
    return run_app(uri, options_from(args))
