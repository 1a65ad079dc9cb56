"""Checking a run against a scenario's course: did the readings, the simulator's true
states or its events do what the course table (`[expected.NAME]`) says?

The checks are read and validated with the scenario (simulators/scenario.py); this module
only evaluates them, so `oxi-assist scenarios` and the course tests judge a run one way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from drivers.reading import DOUBTFUL, INVALIDATING, Reading, SourceEvent
from simulators.physiology import PatientState
from simulators.scenario import (
    ARREST_EVENT,
    CHECK_KEY,
    READING_QUANTITIES,
    ROSC_EVENT,
    Check,
    Course,
)


def _trusted(r: Reading) -> bool:
    return r.valid and not (r.status & DOUBTFUL) and r.pulse is not None


def arrest_spans(states: Sequence[PatientState] | None = None,
                 events: Sequence[SourceEvent] | None = None
                 ) -> list[tuple[float, float]] | None:
    """The cardiac arrests of a run as (began, ended) spans (ended = inf while it lasts), from
    the true states (one per second) or else from the simulator's events; None without
    either."""
    spans: list[tuple[float, float]] = []
    start: float | None = None
    if states is not None:
        for st in states:
            if st.arrested and start is None:
                start = st.t
            elif not st.arrested and start is not None:
                spans.append((start, st.t))
                start = None
    elif events is not None:
        for ev in sorted(events, key=lambda e: e.t):
            if ev.name == ARREST_EVENT and start is None:
                start = ev.t
            elif ev.name == ROSC_EVENT and start is not None:
                spans.append((start, ev.t))
                start = None
    else:
        return None
    if start is not None:
        spans.append((start, math.inf))
    return spans


def _arrest_failure(c: Check, spans: list[tuple[float, float]], lo: float, hi: float,
                    span: str) -> str | None:
    if c.key == "arrest":
        if not any(lo <= a <= hi for a, _ in spans):
            return f"arrest {span}: no cardiac arrest began (arrests: {_spans_text(spans)})"
    elif c.key == "rosc":
        if not any(lo <= b <= hi for _, b in spans):
            return f"rosc {span}: circulation did not return (arrests: {_spans_text(spans)})"
    elif any(a <= hi and b > lo for a, b in spans):  # no_arrest
        return f"no_arrest {span}: in arrest (arrests: {_spans_text(spans)})"
    return None


def _spans_text(spans: list[tuple[float, float]]) -> str:
    return ", ".join(f"{a:g}–{'end' if b == math.inf else f'{b:g}'} s"
                     for a, b in spans) or "none"


def check_course(course: Course, readings: Sequence[Reading],
                 states: Sequence[PatientState] | None = None,
                 events: Sequence[SourceEvent] | None = None) -> list[str]:
    """What did not hold, as readable lines (empty = the course is as documented). State
    checks need `states` (one per simulated second); without them they are skipped, and the
    arrest checks then use the simulator's `events` (skipped without either)."""
    failures: list[str] = []
    vitals = [r for r in readings if not r.wave_only]
    spans = arrest_spans(states, events)
    for c in course.checks:
        lo, hi = c.from_s, (math.inf if c.to_s is None else c.to_s)
        span = f"{lo:g}–{'end' if c.to_s is None else f'{hi:g}'} s"
        if c.key in ("arrest", "no_arrest", "rosc"):
            if spans is not None:
                why = _arrest_failure(c, spans, lo, hi, span)
                if why:
                    failures.append(why)
            continue
        if c.key == "no_reading":
            inside = [r for r in vitals if lo <= r.t <= hi]
            bad = [r for r in inside if r.spo2 is not None or r.pulse is not None
                   or not (r.status & INVALIDATING)]
            if bad:
                failures.append(f"no_reading {span}: reading at {bad[0].t:g} s shows "
                                f"spo2={bad[0].spo2} pulse={bad[0].pulse} "
                                f"status={bad[0].status!r}")
            continue
        if c.key == "dips_below":
            dips, below = 0, False
            for r in vitals:
                if lo <= r.t <= hi and _trusted(r):
                    now = r.spo2 is not None and r.spo2 < c.value
                    if now and not below:
                        dips += 1
                    below = now
            if dips < (c.count or 1):
                failures.append(f"dips_below {c.value:g} {span}: {dips} dips, "
                                f"expected at least {c.count}")
            continue
        m = CHECK_KEY.match(c.key)
        assert m is not None
        agg, qty, cmp = m.groups()
        if qty in READING_QUANTITIES:
            vals = [getattr(r, qty) for r in vitals if lo <= r.t <= hi and _trusted(r)]
        else:
            if states is None:
                continue
            attr = {"sao2": "sao2", "hr": "hr", "breathing": "breathing_rate",
                    "responsive": "responsive", "perfusion": "perfusion"}[qty]
            vals = [getattr(s, attr) for s in states if lo <= s.t <= hi]
        if not vals:
            failures.append(f"{c.key} {span}: no trusted values in the window")
            continue
        got = min(vals) if agg == "min" else max(vals)
        ok = got < c.value if cmp == "below" else got >= c.value
        if not ok:
            failures.append(f"{c.key} {c.value:g} {span}: got {got:.3g}")
    return failures
