"""`oxi-assist simulate SCENARIO --output FILE`: a scenario generated headless, as fast as the
machine goes, into a native session file: readings, link events, and `event` records for the
responder actions (`by: "responder"`), the scenario's own events (`by: "scenario"`: drugs
taken, artefacts played) and what happened to the patient (`by: "simulator"`:
`cardiac_arrest`, `circulation_returned`), as a live session records them.

Runs synchronously (no event loop): the simulator is stepped directly and the writer is given
a virtual clock, so nothing waits on real time.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import math
import sys
from pathlib import Path
from typing import Any

from drivers.clock import RealClock, VirtualClock
from drivers.errors import OxiError
from drivers.formats.native import SessionWriter
from drivers.printable import printable
from drivers.reading import LinkEvent, LinkState
from drivers.safe_files import check_output, os_reason, output
from oxi_assist.actions import SIM_INTERVENTIONS, Action, ScriptedAction, parse_script, parse_time
from oxi_assist.commands._numbers import seed as seed_type
from simulators.scenario import builtin_names, load_scenario
from simulators.simulator import Simulator

DEFAULT_RATE = 0.0


def inject_for(a: ScriptedAction) -> tuple[str, dict[str, Any]] | None:
    """The simulator action for a responder action, or None if it does not touch the patient."""
    name = SIM_INTERVENTIONS.get(a.action)
    if name is None:
        return None
    params: dict[str, Any] = dict(a.params)
    if a.action is Action.NALOXONE:
        route = params.get("route", "im").lower()
        if route in ("injection", "injected", "intramuscular"):
            route = "im"
        if route in ("intranasal", "in", "nose"):
            route = "nasal"
        params["route"] = route
    return name, params


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate", help="generate a scenario headless into a session file",
        description="Generate a simulated session as fast as possible and write it in the "
                    "native session format. Responder actions (--actions) act on the patient "
                    "model and are recorded as events.")
    p.add_argument("scenario", help="a scenario name (see `oxi-assist scenarios`) or a .toml file")
    p.add_argument("--seed", default="0", help="random seed (integer ≥ 0; default 0)")
    p.add_argument("--duration", default=None,
                   help="length, e.g. 900, 15m, 1h (default: the scenario's own)")
    p.add_argument("--rate", default=str(int(DEFAULT_RATE)),
                   help="pleth waveform rate in Hz, e.g. 100 (default 0: vitals only, "
                        "small files)")
    p.add_argument("--actions", default="",
                   help='responder actions, e.g. "2m:911,2m10s:breaths,3m:naloxone:route=nasal"')
    p.add_argument("--output", "-o", required=True, help="session file to write (.jsonl)")
    p.add_argument("--force", action="store_true",
                   help="replace OUTPUT if it exists (never the scenario file itself)")
    p.set_defaults(func=run)


def _seed(text: str) -> int:
    try:
        return seed_type(text)
    except argparse.ArgumentTypeError as e:
        raise OxiError(f"bad --seed {text!r}: {e}") from None


def _rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise OxiError(f"bad --rate {text!r}: expected Hz, e.g. 100, or 0 for none") from None
    if not math.isfinite(rate) or not (rate == 0 or 1 <= rate <= 1000):
        raise OxiError(f"bad --rate {text!r}: expected 0 (no pleth) or 1–1000 Hz")
    return rate


def _duration(text: str | None, default: float) -> float:
    if text is None:
        return default
    d = parse_time(text)
    if not 1 <= d <= 48 * 3600:
        raise OxiError(f"bad --duration {text!r}: expected 1 s to 48 h")
    return d


def run(args: argparse.Namespace) -> int:
    scenario_file = Path(args.scenario) if args.scenario not in builtin_names() else None
    check_output(args.output, force=args.force, inputs=[scenario_file] if scenario_file else [])
    scenario = load_scenario(args.scenario)
    seed = _seed(args.seed)
    rate = _rate(args.rate)
    duration = _duration(args.duration, scenario.duration)
    script = parse_script(args.actions)
    sim = Simulator(scenario, seed=seed, pleth_rate=rate)
    for a in script:
        if a.action is Action.END:
            duration = min(duration, a.t)
        inj = inject_for(a)
        if inj is not None:
            try:
                sim.schedule(a.t, inj[0], **inj[1])
            except ValueError as e:
                raise OxiError(f"bad action at {a.t:g} s: {e}") from None
    inputs = [scenario.path] if scenario.path is not None else []
    try:
        with output(args.output, force=args.force, inputs=inputs) as tmp:
            n = _write(tmp, sim, scenario, script, duration,
                       extra={"scenario": scenario.name, "seed": seed, "actions": args.actions,
                              "pleth_rate": rate})
    except OSError as e:
        raise OxiError(f"{args.output}: cannot write ({os_reason(e)})") from None
    print(f"wrote {printable(args.output)}: {n} readings, {duration:g} s of {scenario.name}",
          file=sys.stderr)
    return 0


def _write(path: Path, sim: Simulator, scenario: Any, script: list[ScriptedAction],
           duration: float, extra: dict[str, Any]) -> int:
    """The run into a session file at `path`; returns the number of readings written."""
    device = f"Simulator ({scenario.name})"
    clock = VirtualClock(wall_start=RealClock().wall())
    n = 0
    with SessionWriter(path, source=f"sim:{scenario.name}", device=device, clock=clock,
                       flush_every=math.inf, extra=extra) as writer:
        writer.link(LinkEvent(0.0, LinkState.CONNECTED, device=device))
        # responder actions (by="responder", as the live session records them) and the
        # scenario's own events (drugs taken, trainer artefacts: by="scenario"), in time order
        events: list[tuple[float, str, dict[str, Any]]] = [
            (a.t, a.action.value, {"by": "responder", **a.params})
            for a in script if a.t <= duration]
        events += [(e.at, e.action, {"by": "scenario", **e.params})
                   for e in scenario.events if e.at <= duration]
        events.sort(key=lambda e: e[0])
        # what happened to the patient joins as the simulator makes it (a block ahead of the
        # readings), so every event is written in time order among the readings
        pending = [(t, k, name, data) for k, (t, name, data) in enumerate(events)]
        seq = itertools.count(len(pending))
        taken = 0

        def take_patient_events() -> None:
            nonlocal taken
            for ev in sim.events[taken:]:
                heapq.heappush(pending, (ev.t, next(seq), ev.name, {"by": "simulator", **ev.data}))
            taken = len(sim.events)

        for r in sim.run(duration):
            if taken < len(sim.events):
                take_patient_events()
            while pending and pending[0][0] <= r.t:
                t, _, name, data = heapq.heappop(pending)
                writer.event(t, name, **data)
            writer.reading(r)
            n += 1
        take_patient_events()
        while pending:
            t, _, name, data = heapq.heappop(pending)
            writer.event(t, name, **data)
        writer.link(LinkEvent(float(sim.t), LinkState.CLOSED, reason="scenario ended",
                              device=device))
        writer.close(t=float(sim.t), reason="scenario ended")
    return n
