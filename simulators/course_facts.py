"""What actually happens in a run of a scenario, measured from the run itself.

`oxi-assist scenarios -v` tells a trainer what each course does — when breathing stops, when
the oximeter shows SpO2 below 90 and 85 %, when the reading is lost, when the heart stops —
and those words are worked out here from the readings, the true states and the simulator's
events of an actual run, never written by hand, so they cannot drift from the model.

SpO2 facts use trusted readings only (a number without a doubtful flag), as the scenario
checks do; breathing, arrest and circulation come from the simulator's true state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from drivers.reading import DOUBTFUL, Reading, SourceEvent, Status
from simulators.course_check import arrest_spans
from simulators.physiology import PatientState
from simulators.scenario import Scenario, format_time
from simulators.simulator import Simulator

#: A stretch at least this long with no number while the finger is in counts as the reading
#: lost (no pulse found), not as a dropout. [app-defined]
READING_LOST_S = 30.0
#: "Breathing again" means at least this rate: the scenario checks' threshold, just under
#: BC's about one breath every 5 s (DOMAIN §2.1).
BREATHING_AGAIN = 10.0


@dataclass(frozen=True)
class CourseFacts:
    """Times in scenario seconds (None: did not happen in the run)."""

    duration: float
    breathing_stops: float | None  # first second with no spontaneous breathing
    breathing_again: float | None  # after that, first second at ≥ BREATHING_AGAIN
    below_90: float | None  # first trusted SpO2 below 90 %
    below_85: float | None
    back_to_90: float | None  # after below_90, first trusted SpO2 at or above 90 % again
    lowest: float | None  # lowest trusted SpO2 shown
    reading_lost: float | None  # start of the first READING_LOST_S stretch without a number
    arrest: float | None  # cardiac arrest begins
    rosc: float | None  # circulation returns

    def milestones(self) -> list[tuple[float, str]]:
        """(time, words) for everything that happened, in time order."""
        items: list[tuple[float, str]] = []
        for t, words in ((self.breathing_stops, "breathing stops"),
                         (self.below_90, "SpO2 below 90 %"),
                         (self.below_85, "SpO2 below 85 %"),
                         (self.back_to_90, "SpO2 at or above 90 % again"),
                         (self.breathing_again,
                          f"breathing {BREATHING_AGAIN:g}/min or more again"),
                         (self.arrest, "cardiac arrest"),
                         (self.reading_lost, "reading lost (no number)"),
                         (self.rosc, "circulation returns")):
            if t is not None:
                items.append((t, words))
        return sorted(items, key=lambda i: i[0])

    def words(self) -> str:
        """E.g. "1:13 breathing stops · 1:44 SpO2 below 90 % · … · lowest SpO2 35 %"."""
        parts = [f"{format_time(t)} {w}" for t, w in self.milestones()]
        parts.append(f"lowest SpO2 {self.lowest:g} %" if self.lowest is not None
                     else "no trusted SpO2")
        if self.arrest is None:
            parts.append(f"no cardiac arrest in {format_time(self.duration)}")
        return " · ".join(parts)


def _trusted(r: Reading) -> bool:
    return r.valid and not (r.status & DOUBTFUL)


def course_facts(readings: Sequence[Reading], states: Sequence[PatientState],
                 events: Sequence[SourceEvent], duration: float) -> CourseFacts:
    """The facts of one run: its readings, its true states (one per second) and its
    events."""
    stops = again = None
    for s in states:
        if stops is None:
            if s.breathing_rate <= 0.0 and not s.arrested:
                stops = s.t
        elif s.t > stops and s.breathing_rate >= BREATHING_AGAIN:
            again = s.t
            break
    below_90 = below_85 = back = lowest = None
    lost = None
    run_start: float | None = None
    for r in readings:
        if r.wave_only:
            continue
        if _trusted(r) and r.spo2 is not None:
            v = r.spo2
            lowest = v if lowest is None else min(lowest, v)
            if below_90 is None and v < 90.0:
                below_90 = r.t
            if below_85 is None and v < 85.0:
                below_85 = r.t
            if below_90 is not None and back is None and r.t > below_90 and v >= 90.0:
                back = r.t
        if lost is None:
            if r.spo2 is None and not (r.status & Status.FINGER_OUT):
                if run_start is None:
                    run_start = r.t
                elif r.t - run_start >= READING_LOST_S:
                    lost = run_start
            else:
                run_start = None
    spans = arrest_spans(states, events) or []
    arrest = spans[0][0] if spans else None
    rosc = next((b for _, b in spans if b != float("inf")), None)
    return CourseFacts(duration, stops, again, below_90, below_85, back, lowest, lost, arrest,
                       rosc)


def run_course(scenario: Scenario, interventions: Iterable[tuple[float, str, dict[str, Any]]],
               *, seed: int = 0, duration: float | None = None
               ) -> tuple[list[Reading], list[PatientState], list[SourceEvent]]:
    """Runs `scenario` with the simulator interventions (time, name, params) a responder
    script maps to; vitals only (no pleth), with the true state of every second."""
    sim = Simulator(scenario, seed=seed, record_states=True)
    for at, name, params in interventions:
        sim.schedule(at, name, **params)
    states: list[PatientState] = []
    readings = list(sim.run(duration if duration is not None else scenario.duration,
                            states=states))
    return readings, states, list(sim.events)
