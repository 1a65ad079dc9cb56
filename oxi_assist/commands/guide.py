"""`oxi-assist guide`: the guidance, key actions and timers with no oximeter at all.

The response never waits on a device (DOMAIN.md §1.1): this is the same screen with the
reading shown as "NO OXIMETER".
"""

from __future__ import annotations

import argparse

from oxi_assist.ui.launch import add_common_options, options_from, run_app


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("guide", help="guidance and timers without an oximeter",
                       description="Step-by-step SAVE ME guidance, breath metronome and "
                                   "naloxone timers; no device needed.")
    add_common_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_app("", options_from(args))
