"""`oxi-assist scenarios`: the built-in simulator scenarios, one line each."""

from __future__ import annotations

import argparse

from simulators.scenario import list_scenarios, load_scenario


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scenarios", help="list the built-in simulator scenarios",
                       description="List the built-in scenarios for `sim:NAME` sources and "
                                   "`oxi-assist simulate`. With --verbose, also the expected "
                                   "course and the responder actions it assumes.")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="show each scenario's length and expected course")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    items = list_scenarios()
    width = max((len(n) for n, _ in items), default=0)
    for name, desc in items:
        print(f"{name:<{width}}  {desc}")
        if args.verbose:
            sc = load_scenario(name)
            print(f"{'':<{width}}  length {sc.duration / 60:g} min. {sc.summary}")
            for cname, course in sc.courses.items():
                acts = course.actions or "(no response)"
                print(f"{'':<{width}}    {cname}: {acts}")
    return 0
