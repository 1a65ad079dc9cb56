"""`oxi-assist scenarios`: the built-in simulator scenarios, one line each.

With `-v`, each scenario's courses (nobody responds, the documented responses) are run on the
model, and what happens in each is printed from that run (`simulators.course_facts`): when
breathing stops, when SpO2 falls below 90 and 85 %, when the reading is lost, when the heart
stops, when circulation returns. Then what the scenario file expects of the course, in words
made from its checks. Nothing is written by hand, so the words follow the model.
"""

from __future__ import annotations

import argparse
from typing import Any

from oxi_assist.actions import parse_script
from oxi_assist.commands.simulate import inject_for
from simulators.course_facts import course_facts, run_course
from simulators.scenario import Course, Scenario, list_scenarios, load_scenario

#: the seed the verbose course words are measured with
SEED = 0
#: the verbose words are wrapped at this width (after the scenario-name column)
WIDTH = 76


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scenarios", help="list the built-in simulator scenarios",
                       description="List the built-in scenarios for `sim:NAME` sources and "
                                   "`oxi-assist simulate`. With --verbose, also each course "
                                   "(the responder actions it assumes), what happens in it "
                                   f"(measured on the model, seed {SEED}) and what its "
                                   "scenario file expects.")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="run each course and say what happens in it")
    p.set_defaults(func=run)


def interventions(course: Course) -> list[tuple[float, str, dict[str, Any]]]:
    """The simulator interventions of a course's responder script."""
    out = []
    for a in parse_script(course.actions):
        inj = inject_for(a)
        if inj is not None:
            out.append((a.t, inj[0], inj[1]))
    return out


def course_lines(sc: Scenario, name: str, course: Course, *, seed: int = SEED) -> list[str]:
    """The verbose lines for one course: the script, what happens, what is expected."""
    duration = course.duration or sc.duration
    readings, states, events = run_course(sc, interventions(course), seed=seed,
                                          duration=duration)
    facts = course_facts(readings, states, events, duration)
    lines = [f"{name}: {course.actions or '(no response)'}"]
    lines += _pack("  happens: ", facts.words().split(" · "), " · ")
    if course.checks:
        lines += _pack("  expected: ", [c.words() for c in course.checks], "; ")
    return lines


def _pack(head: str, items: list[str], sep: str) -> list[str]:
    """`head` and the items joined by `sep`, in lines of at most WIDTH characters where the
    items allow, never breaking inside an item."""
    lines: list[str] = []
    cur, fresh = head, True
    for k, item in enumerate(items):
        piece = item + (sep.rstrip() if k < len(items) - 1 else "")
        if not fresh and len(cur) + 1 + len(piece) > WIDTH:
            lines.append(cur)
            cur, fresh = "    ", True
        cur += piece if fresh else " " + piece
        fresh = False
    lines.append(cur)
    return lines


def run(args: argparse.Namespace) -> int:
    items = list_scenarios()
    width = max((len(n) for n, _ in items), default=0)
    pad = " " * (width + 2)
    for name, desc in items:
        print(f"{name:<{width}}  {desc}")
        if args.verbose:
            sc = load_scenario(name)
            print(f"{pad}length {sc.duration / 60:g} min; SpO2 = trusted readings, "
                  f"times m:ss, seed {SEED}")
            for cname, course in sc.courses.items():
                for line in course_lines(sc, cname, course):
                    print(f"{pad}  {line}")
    return 0
