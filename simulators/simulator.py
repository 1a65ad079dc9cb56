"""Patient + oximeter + scenario events, stepped one simulated second at a time.

Both the live source (`sim_source`) and the headless generator (`oxi-assist simulate`) run this
engine, so a scenario behaves the same on screen and in a file. Physiology and the 1 Hz vitals
are plain Python per second; the pleth waveform for a block of seconds is one numpy pass.

What happens to the patient that a recording should hold — the heart stopping
(`cardiac_arrest`) and circulation returning (`circulation_returned`) — is appended to `events`
as `SourceEvent`s in scenario seconds, as it happens.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drivers.reading import Reading, SourceEvent, Status
from simulators import interventions
from simulators.oximeter_model import Oximeter, PlethGenerator, beat_flags
from simulators.physiology import PatientModel, PatientState
from simulators.scenario import Scenario

#: The largest seed accepted from a user (a seed is for repeating a run; 63 bits are plenty).
MAX_SEED = 2**63 - 1
_WAVE_FLAGS = int(Status.FINGER_OUT | Status.SEARCHING | Status.LOW_PERFUSION | Status.MOTION)
_FINGER_OUT = int(Status.FINGER_OUT)
_MOTION = int(Status.MOTION)
_STATUS: dict[int, Status] = {}


def _status(bits: int) -> Status:
    """Status objects are made once per combination (building an IntFlag is slow)."""
    st = _STATUS.get(bits)
    if st is None:
        st = _STATUS[bits] = Status(bits)
    return st


@dataclass
class Block:
    """Consecutive simulated seconds: vitals per second (None = no value) and the pleth."""

    t: list[float]
    spo2: list[float | None]
    pulse: list[float | None]
    pi: list[float | None]
    status: list[int]
    dropped: list[bool]
    pleth: np.ndarray  # len(t) * rate samples; second k covers (t[k]-1, t[k]]
    beats: np.ndarray  # beats that started in each second
    rate: int
    states: list[PatientState] = field(default_factory=list)

    def readings(self, chunk: float = 1.0) -> Iterator[Reading]:
        """One Reading per second carrying that second's pleth, or (chunk < 1 s with pleth)
        wave-only Readings every `chunk` s with the vitals on the last one of each second."""
        rate = self.rate
        if rate and self.pleth.size:
            plist = self.pleth.tolist()
            pr = float(rate)
        else:
            plist = None
            pr = None
        beat = beat_flags(self.beats).tolist() if rate else [0] * len(self.t)
        per = 1 if (plist is None or chunk >= 1.0) else max(1, round(1.0 / chunk))
        for k, t in enumerate(self.t):
            if self.dropped[k]:
                continue
            st = self.status[k]
            if per == 1:
                pl = tuple(plist[k * rate:(k + 1) * rate]) if plist is not None else ()
                yield Reading(t, self.spo2[k], self.pulse[k], self.pi[k], pl, pr,
                              _status(st | beat[k]))
                continue
            base = k * rate
            wave_st = _status(st & _WAVE_FLAGS)
            prev = 0
            for j in range(1, per + 1):
                end = round(j * rate / per)
                pl = tuple(plist[base + prev:base + end])
                prev = end
                tj = round(t - 1.0 + j / per, 6)
                if j < per:
                    yield Reading(t=tj, pleth=pl, pleth_rate=pr, status=wave_st,
                                  wave_only=True)
                else:
                    yield Reading(t=t, spo2=self.spo2[k], pulse=self.pulse[k], pi=self.pi[k],
                                  pleth=pl, pleth_rate=pr, status=_status(st | beat[k]))


class Simulator:
    """A scenario running: inject actions at any time; they act from the next second."""

    def __init__(self, scenario: Scenario, *, seed: int = 0, pleth_rate: float = 0.0,
                 record_states: bool = False) -> None:
        if not (pleth_rate == 0 or 1 <= pleth_rate <= 1000):
            raise ValueError("pleth rate must be 0 (none) or 1–1000 Hz")
        self.scenario = scenario
        self.seed = seed
        self.record_states = record_states
        vit_ss, pleth_ss, motion_ss = np.random.SeedSequence(seed).spawn(3)
        self.patient = PatientModel(scenario.patient_params(), dt=1.0)
        self.oximeter = Oximeter(scenario.oximeter_params(), np.random.default_rng(vit_ss),
                                 self.patient.sao2, self.patient.hr)
        self.pleth = PlethGenerator(pleth_rate, np.random.default_rng(pleth_ss),
                                    np.random.default_rng(motion_ss))
        self.rate = self.pleth.n
        self.t = 0  # whole simulated seconds done
        self._seq = itertools.count()
        self._queue: list[tuple[float, int, str, dict[str, Any]]] = []
        for ev in scenario.events:
            self.schedule(ev.at, ev.action, **ev.params)
        self._last_hr = self.patient.hr
        self.log: list[tuple[float, str, dict[str, Any]]] = []  # actions applied, in order
        #: what happened to the patient (cardiac arrest, circulation returned), in order
        self.events: list[SourceEvent] = []

    # -- actions -----------------------------------------------------------------------------

    def schedule(self, at: float, action: str, **params: Any) -> None:
        """Queues an action for simulated time `at` (s); raises ValueError if it is unknown."""
        name, p = interventions.normalize(action, params)
        if not math.isfinite(at) or at < 0:
            raise ValueError(f"bad time {at!r} for {name}")
        heapq.heappush(self._queue, (float(at), next(self._seq), name, p))

    def inject(self, action: str, **params: Any) -> None:
        """Now: the action acts from the next simulated second."""
        self.schedule(float(self.t), action, **params)

    def _apply(self, name: str, p: dict[str, Any]) -> None:
        pm, ox, t = self.patient, self.oximeter, float(self.t)
        if name == "drug":
            pm.give(p["drug"], p.get("dose"), p.get("route"))
        elif name == "naloxone":
            pm.give("naloxone", p.get("mg"), p.get("route", "im"))
        elif name in ("breaths_on", "breaths_off"):
            pm.breaths_on = name == "breaths_on"
        elif name in ("compressions_on", "compressions_off"):
            pm.compressions_on = name == "compressions_on"
        elif name in ("oxygen", "oxygen_off"):
            pm.oxygen_on = name == "oxygen"
        elif name in ("recovery", "recovery_off"):
            pm.recovery_position = name == "recovery"
        elif name == "finger_out":
            ox.finger_out(t, p.get("seconds"))
        elif name == "finger_in":
            ox.finger_in(t)
        elif name == "motion":
            ox.motion(t, p.get("seconds", math.inf))
        elif name == "motion_off":
            ox.motion_until = min(ox.motion_until, t)
        elif name == "low_perfusion":
            ox.low_perfusion(t, p.get("seconds", math.inf))
        elif name == "low_perfusion_off":
            ox.lowperf_until = min(ox.lowperf_until, t)
        elif name == "dropout":
            ox.dropout(t, p.get("seconds", interventions.DEFAULT_SECONDS["dropout"]))
        self.log.append((t, name, p))

    def _arrest_changed(self, t: float) -> None:
        pm = self.patient
        if pm.arrested:
            self.events.append(SourceEvent(t, "cardiac_arrest",
                                           {"sao2": round(pm.sao2, 1)}))
        else:
            self.events.append(SourceEvent(t, "circulation_returned",
                                           {"sao2": round(pm.sao2, 1)}))

    # -- stepping ----------------------------------------------------------------------------

    def state(self) -> PatientState:
        return self.patient.state()

    def step(self, seconds: int) -> Block:
        """Advances whole seconds and returns what the oximeter produced in them."""
        pm, ox, q = self.patient, self.oximeter, self._queue
        update, pstep = ox.update, pm.step
        rows: list[tuple[float, float | None, float | None, float | None, int, bool]] = []
        wave_in: list[tuple[float, float, float, float, int]] = []
        states: list[PatientState] = []
        want_wave = self.rate > 0
        record = self.record_states
        last_hr = self._last_hr
        for _ in range(seconds):
            while q and q[0][0] <= self.t:
                _, _, name, p = heapq.heappop(q)
                self._apply(name, p)
            was_arrested = pm.arrested
            pstep()
            self.t += 1
            t = float(self.t)
            if pm.arrested is not was_arrested:
                self._arrest_changed(t)
            if pm.arrested and pm.compressions_on:
                hr = pm.p.cpr_rate  # the finger pulses with the compressions
                s, pr, pi, st, amp = update(t, pm.sao2, hr, pm.perf, True)
            else:
                hr = pm.hr
                s, pr, pi, st, amp = update(t, pm.sao2, hr, pm.perf, pm.compressions_on)
            rows.append((t, s, pr, pi, st, t < ox.dropout_until))
            if want_wave:
                wave_in.append((last_hr, hr, pm.rr, amp, st))
            last_hr = hr
            if record:
                states.append(pm.state())
        self._last_hr = last_hr
        ts, spo2, pulse, pis, status, dropped = (list(c) for c in zip(*rows, strict=True))
        if want_wave:
            hr0, hr1, rrs, amps, sts = (np.asarray(c) for c in zip(*wave_in, strict=True))
            wave, beats = self.pleth.generate(hr0, hr1, rrs, amps,
                                              (sts & _FINGER_OUT) != 0, (sts & _MOTION) != 0)
        else:
            wave, beats = np.empty(0), np.zeros(seconds, dtype=np.int64)
        return Block(ts, spo2, pulse, pis, status, dropped, wave, beats, self.rate, states)

    def run(self, duration: float, *, block: int = 120, chunk: float = 1.0,
            states: list[PatientState] | None = None) -> Iterator[Reading]:
        """All readings up to `duration` s, as fast as possible. With `states` (and
        record_states) the true patient state of every second is appended to it."""
        end = math.ceil(duration)
        while self.t < end:
            b = self.step(min(block, end - self.t))
            if states is not None:
                states.extend(b.states)
            yield from b.readings(chunk)


def scripted(sim: Simulator, actions: Iterable[tuple[float, str, dict[str, Any]]]) -> None:
    """Schedules (time, action, params) items, e.g. a responder script."""
    for at, name, params in actions:
        sim.schedule(at, name, **params)
