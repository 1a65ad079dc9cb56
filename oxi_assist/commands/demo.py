"""`oxi-assist demo [SCENARIO]`: the full screen on a simulated overdose, no hardware needed.

Marked TRAINING / SIMULATED on screen; trainer keys pause, speed up and inject events.
"""

from __future__ import annotations

import argparse

from oxi_assist.commands._numbers import number
from oxi_assist.ui.launch import LiveOptions, add_common_options, options_from, run_app, with_params

DEFAULT_SCENARIO = "opioid-overdose"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("demo", help="simulated overdose response on screen (no hardware)",
                       description="Runs the live screen on a simulated patient. "
                                   "Keys: ? for help, q to end and see the debrief.")
    p.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO,
                   help=f"scenario name (default {DEFAULT_SCENARIO}; see `oxi-assist scenarios`)")
    p.add_argument("--speed", type=number(1.0, 20.0), default=None, metavar="X",
                   help="simulation speed, 1 to 20 (default 1)")
    add_common_options(p, seed=True)
    p.set_defaults(func=run)


def demo_uri(scenario: str, opts: LiveOptions, speed: float | None = None) -> str:
    return with_params(f"sim:{scenario}", seed=opts.seed, speed=speed)


def run(args: argparse.Namespace) -> int:
    opts = options_from(args)
    return run_app(demo_uri(args.scenario, opts, args.speed), opts)
