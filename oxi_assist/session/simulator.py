"""What the session passes to a simulated patient and takes from it.

A responder's action that changes the patient (naloxone, breaths, oxygen, …) and a trainer's
cue (a finger out of the probe, motion) reach a `Controllable` source as `inject` calls; the
simulator is never allowed to stop the response: a refusal is recorded and the session goes on.
Events of the patient's own (`ReportsEvents`: an arrest, circulation returning) are recorded
for the debrief, never shown in the responder's log: they find an arrest on the person, not on
the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drivers.reading import Controllable, ReportsEvents
from oxi_assist.session.recorder import Recorder

#: Trainer cues: device artefacts a trainer plays into a simulation. They are recorded (so a
#: debrief shows why the reading vanished) but never reach the guide: they are not responder
#: actions.
TRAINER_CUES: tuple[str, ...] = ("finger_out", "finger_in", "motion", "motion_off",
                                 "low_perfusion", "dropout")

#: The parameters the simulator takes with each intervention; others (a UI label, a note) are
#: recorded but not passed on, so they cannot make the simulator refuse the action.
INJECT_PARAMS: dict[str, tuple[str, ...]] = {
    "naloxone": ("route", "mg"),
    "finger_out": ("seconds",), "motion": ("seconds",), "low_perfusion": ("seconds",),
    "dropout": ("seconds",),
}


class SimulatorLink:
    """Passes interventions and cues to `controllable` (nothing without one), recording a
    refusal as an `inject_failed` event at `elapsed()`, and records the events it reports."""

    def __init__(self, controllable: Controllable | None, recorder: Recorder,
                 elapsed: Callable[[], float]) -> None:
        self._controllable = controllable
        self._reports = controllable if isinstance(controllable, ReportsEvents) else None
        self._recorder = recorder
        self._elapsed = elapsed

    def inject(self, name: str, params: dict[str, Any]) -> None:
        if self._controllable is None:
            return
        keep = INJECT_PARAMS.get(name, ())
        params = {k: v for k, v in params.items() if k in keep}
        try:
            self._controllable.inject(name, **params)
        except Exception as e:  # a simulator hiccup must never stop the response
            self._recorder.event(self._elapsed(), "inject_failed", action=name, error=str(e))

    def record_events(self, offset: float) -> None:
        """Records the events the source has reached, moved onto session time by `offset`
        (the items' own offset)."""
        if self._reports is None:
            return
        for ev in self._reports.take_events():
            self._recorder.event(ev.t + offset, ev.name, by="simulator", **ev.data)
