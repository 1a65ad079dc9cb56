"""Running timers of the guide: the 5-second breath metronome and "time since" timers
(since each naloxone dose, since the 911 call, the re-sedation watch) with their alerts.

Timers are pure bookkeeping over times handed in by the guide; they never read a clock, and
elapsed and remaining times are clamped so they never go negative.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from oxi_assist.actions import Action
from oxi_assist.guide.model import AlertDef, TimerDef


@dataclass
class TimerRun:
    """One running instance of a timer definition (per-dose timers have one per dose)."""

    spec: TimerDef
    n: int  # instance number (dose number for per-dose timers)
    started: float
    dose: int = 0  # doses counted when it started

    @property
    def key(self) -> str:
        return f"{self.spec.id}-{self.n}" if self.spec.per_start else self.spec.id

    def elapsed(self, t: float) -> float:
        return max(0.0, t - self.started)

    def label(self) -> str:
        return self.spec.label.replace("{n}", str(self.n)).replace("{dose}", str(self.dose))

    def remaining(self, t: float) -> float | None:
        if self.spec.length_s is None:
            return None
        return max(0.0, self.spec.length_s - self.elapsed(t))

    def metronome(self, t: float) -> tuple[int, float]:
        """(beat, phase): beat 1 at the start, a new beat every interval; phase 0 → 1."""
        e = self.elapsed(t)
        iv = self.spec.interval_s
        beats = int(e // iv)
        return beats + 1, min(1.0, max(0.0, (e - beats * iv) / iv))

    def alert(self, t: float, shows: Callable[[AlertDef], bool]) -> tuple[int, AlertDef] | None:
        """The latest alert that is due and that `shows` (its condition holds and nothing it
        says is forbidden now), with its index."""
        e = self.elapsed(t)
        found = None
        for i, a in enumerate(self.spec.alerts):
            if a.at_s <= e and shows(a):
                found = (i, a)
        return found

    def text(self, a: AlertDef) -> str:
        return a.text.replace("{n}", str(self.n)).replace("{dose}", str(self.dose))


class Timers:
    """All timers of a protocol, started and stopped by responder actions."""

    def __init__(self, specs: tuple[TimerDef, ...]) -> None:
        self.specs = specs
        self.runs: list[TimerRun] = []
        self._counts: dict[str, int] = {}

    def on_action(self, action: Action, t: float, doses: int) -> list[TimerRun]:
        """Starts and stops timers for an action; returns the runs it started."""
        started: list[TimerRun] = []
        for spec in self.specs:
            if action in spec.stop:
                self.stop(spec.id)
            if action in spec.start:
                running = [r for r in self.runs if r.spec.id == spec.id]
                if spec.kind == "metronome" and running:
                    continue  # breaths already on: keep the count going
                n = self._counts.get(spec.id, 0) + 1
                self._counts[spec.id] = n
                if not spec.per_start:
                    self.stop(spec.id)
                run = TimerRun(spec, n, t, doses)
                self.runs.append(run)
                started.append(run)
        return started

    def stop(self, timer_id: str) -> None:
        self.runs = [r for r in self.runs if r.spec.id != timer_id]

    def stop_kind(self, kind: str) -> None:
        self.runs = [r for r in self.runs if r.spec.kind != kind]

    def latest(self, timer_id: str) -> TimerRun | None:
        runs = [r for r in self.runs if r.spec.id == timer_id]
        return runs[-1] if runs else None
