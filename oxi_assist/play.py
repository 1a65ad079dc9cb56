"""Plays a whole response synchronously through the same `Session` the live screen drives.

`wire_session()` builds a `Session` as the live screen builds one (Monitor, Guide, recorder,
simulator control); `play()` feeds a simulated scenario second by second into it on a
`VirtualClock`, applies the responder's scripted actions
and a trainer's cues at their times, and samples what the screen would show each second. The
response-script tests (tests/oxi_assist/guide/responses/) and `oxi-assist walkthrough` both use it,
so what a trainer reads in a walkthrough is what the tests check. The reliability runs wire
their sessions with `wire_session()` too, so a session under a fault is the one a responder
uses.

Trainer cues use the responder script's syntax (`TIME:NAME[:PARAM=VALUE...]`): the device
artefacts of `session.TRAINER_CUES` (`finger_out:seconds=60`, `dropout`, …), plus
`link_lost` and `link_back`, which drop and restore the oximeter's link (the device is lost
mid-response; the patient model goes on).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from drivers.clock import Clock, VirtualClock
from drivers.errors import OxiError
from drivers.formats.native import SessionWriter
from drivers.reading import Controllable, LinkEvent, LinkState
from oxi_assist.actions import ScriptedAction, parse_script, parse_time
from oxi_assist.guide import schema as guidance_schema
from oxi_assist.guide.engine import Guide
from oxi_assist.guide.model import Guidance
from oxi_assist.monitor.monitor import Monitor
from oxi_assist.monitor.vitals import VitalsState
from oxi_assist.session import TRAINER_CUES, Session
from simulators.scenario import load_scenario
from simulators.sim_source import SimSource

#: Cues `play` handles itself: the oximeter's link drops, or comes back.
LINK_CUES = ("link_lost", "link_back")


@dataclass(frozen=True)
class Cue:
    """A trainer's cue at scenario time `t` (a device artefact or a link change)."""

    t: float
    name: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sample:
    """What the screen shows at time `t`: at each whole second (after everything up to and
    including that second, and the oximeter's reading of it), and right after each responder
    action (so a step passed through in the same second is seen too)."""

    t: float
    state: Any  # GuideState (None without a guide)
    vitals: VitalsState | None


@dataclass
class Played:
    samples: list[Sample] = field(default_factory=list)
    actions: list[ScriptedAction] = field(default_factory=list)
    cues: list[Cue] = field(default_factory=list)

    @property
    def state(self) -> Any:
        return self.samples[-1].state if self.samples else None


def parse_cues(text: str) -> list[Cue]:
    """Trainer cues, e.g. "3m:finger_out:seconds=60,5m:link_lost"; sorted by time."""
    known = (*TRAINER_CUES, *LINK_CUES)
    out: list[Cue] = []
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        m = re.match(r"^(\d+(?::\d+){1,2}|[^:]+):([^:]+)(.*)$", item)
        if m is None:
            raise OxiError(f"bad cue {item!r}: expected TIME:CUE, e.g. 3m:finger_out")
        name = m.group(2).strip()
        if name not in known:
            raise OxiError(f"unknown cue {name!r} (known: {', '.join(known)})")
        params: dict[str, str] = {}
        for p in (x for x in m.group(3).split(":") if x):
            k, eq, v = p.partition("=")
            if not eq or not k:
                raise OxiError(f"bad cue parameter {p!r} in {item!r}: expected NAME=VALUE")
            params[k.strip()] = v.strip()
        out.append(Cue(parse_time(m.group(1)), name, params))
    return sorted(out, key=lambda c: c.t)


def wire_session(clock: Clock, protocol: Guidance | None, *,
                 monitor: bool = True, writer: SessionWriter | None = None,
                 source_label: str = "", controllable: Controllable | None = None) -> Session:
    """A Session wired as the live screen wires one: the Monitor (unless `monitor` is False),
    a Guide following `protocol` (None: no guide), and, when given, the recorder `writer` and
    the simulator control `controllable`."""
    return Session(clock=clock, monitor=Monitor() if monitor else None,
                   guide=Guide(protocol, clock) if protocol is not None else None,
                   writer=writer, source_label=source_label, controllable=controllable)


def response_session(scenario: str, *, guidance: str | None = None, seed: int = 0,
                     duration: float | None = None,
                     clock: VirtualClock | None = None) -> tuple[Session, SimSource | None]:
    """A session wired as the live screen wires one (Monitor, Guide, simulator control; no
    recording) on a virtual clock. `scenario` "none": guidance with no device at all."""
    clock = clock or VirtualClock()
    protocol = guidance_schema.load(guidance)
    if scenario == "none":
        return wire_session(clock, protocol, monitor=False), None
    try:
        src = SimSource(load_scenario(scenario), clock, seed=seed, chunk=1.0, pleth=0.0,
                        duration=duration)
    except ValueError as e:
        raise OxiError(str(e)) from None
    session = wire_session(clock, protocol, source_label=f"sim:{scenario}", controllable=src)
    return session, src


def play(session: Session, source: Any, script: list[ScriptedAction] | str, until: float, *,
         cues: list[Cue] | str = ()) -> Played:
    """Runs `session` for `until` scenario seconds. `source` is a `SimSource` whose simulator
    is stepped one second at a time (None: guidance with no device). The session's clock must
    be a `VirtualClock`; scenario second s is clock time `session.t0 + s`."""
    clock = session.clock
    if not isinstance(clock, VirtualClock):
        raise TypeError("play() needs a session on a VirtualClock")
    actions = parse_script(script) if isinstance(script, str) else sorted(script,
                                                                          key=lambda a: a.t)
    cue_list = parse_cues(cues) if isinstance(cues, str) else sorted(cues, key=lambda c: c.t)
    events: list[tuple[float, int, Any]] = sorted(
        [(a.t, 1, a) for a in actions if a.t <= until]
        + [(c.t, 0, c) for c in cue_list if c.t <= until], key=lambda e: (e[0], e[1]))
    out = Played(actions=[a for a in actions if a.t <= until], cues=cue_list)
    t0 = session.t0
    sim = getattr(source, "sim", None)
    device = getattr(source, "device", "")
    sim_end = math.ceil(getattr(source, "duration", 0.0)) if sim is not None else 0
    linked = sim is not None
    if sim is not None:
        session.on_item(LinkEvent(0.0, LinkState.CONNECTING, device=device))
        session.on_item(LinkEvent(0.0, LinkState.CONNECTED, device=device))
    i = 0
    for s in range(1, math.ceil(until) + 1):
        # what happens up to and including second s, then the oximeter's reading of it
        while i < len(events) and events[i][0] <= s:
            t, _, ev = events[i]
            i += 1
            clock.set(max(clock.now(), t0 + t))
            if isinstance(ev, Cue):
                linked = _cue(session, ev, linked and sim is not None, device)
            else:
                session.on_action(ev.action, **ev.params)
                out.samples.append(Sample(t, session.guide_state, session.vitals))
        if sim is not None and sim.t >= sim_end and linked:  # the scenario is over
            session.on_item(LinkEvent(float(sim.t), LinkState.CLOSED,
                                      reason="scenario ended", device=device))
            linked = False
        clock.set(max(clock.now(), t0 + s))
        if sim is not None and sim.t < sim_end:
            block = sim.step(1)
            if linked:
                for r in block.readings(1.0):
                    session.on_item(r)
        session.tick()
        out.samples.append(Sample(float(s), session.guide_state, session.vitals))
    return out


def _cue(session: Session, cue: Cue, linked: bool, device: str) -> bool:
    """Applies a trainer cue; returns whether the oximeter's link is up afterwards."""
    if cue.name == "link_lost":
        if linked:
            session.on_item(LinkEvent(cue.t, LinkState.LOST, reason="trainer: device lost",
                                      device=device))
        return False
    if cue.name == "link_back":
        if not linked:
            session.on_item(LinkEvent(cue.t, LinkState.CONNECTED, device=device))
        return True
    session.on_action(cue.name, **cue.params)
    return linked
