"""One station's simulated patient: a `SimSource` and a `Session` (Monitor, Guide, recorder).

It is the same composition as `oxi-assist demo`, built from public parts (`uris.open_source`,
`Session`, `Monitor`, `Guide`, `recordings.try_open_writer`), so the live screen that comes
later can show `Patient.session` as it shows any session. Only the trainer's commands and the
trainee's own actions drive it; nothing of the patient leaves the station except what the
station publishes about it.

`Patient.restore()` rebuilds a patient from a station's saved state: the same scenario and seed,
each saved action and trainer cue replayed at its time on a `HandoffClock` (instantly), then
handed over to the real clock. The simulator is deterministic for a seed and its interventions,
so the patient, the guidance step, the timers and the doses are those the station had.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drivers.clock import Clock
from oxi_assist.actions import Action
from oxi_assist.classroom.catchup import HandoffClock
from oxi_assist.classroom.messages import MAX_NAME, SavedAction
from oxi_assist.monitor.vitals import Quality
from oxi_assist.overlay import OverlaySource
from oxi_assist.session import TRAINER_CUES, Session
from oxi_assist.uris import open_source

if TYPE_CHECKING:
    from simulators.sim_source import SimSource

#: The live screen shows the pleth; a headless station has no use for it.
HEADLESS_PLETH = 0.0
SCREEN_PLETH = 100.0
TICK_EVERY = 0.25


def sim_uri(scenario: str, *, seed: int, speed: float, chunk: float, pleth: float) -> str:
    return (f"sim:{scenario}?seed={seed}&speed={speed:g}&chunk={chunk:g}"
            f"&pleth={pleth:g}")


@dataclass(frozen=True)
class PatientSummary:
    """How a station's patient is, in the few fields its status sends to the class board
    (all empty before the patient starts)."""

    t: float = 0.0
    step: str = ""
    step_title: str = ""
    spo2: float | None = None  # None: no trustworthy value on the oximeter now
    alarm: str = ""
    alarm_priority: str = ""
    t_911: float | None = None  # the first time of each, session seconds
    t_breaths: float | None = None
    t_naloxone: float | None = None
    doses: int = 0
    device: str = ""  # an overlaid real oximeter's state in words


class Patient:
    """A running simulated patient and the session that watches it."""

    def __init__(self, scenario: str, *, seed: int, clock: Clock, speed: float = 1.0,
                 guidance: str | None = None, record: bool = True,
                 sessions_dir: str | None = None, chunk: float = 0.25,
                 pleth: float = HEADLESS_PLETH, overlay: str | None = None,
                 device_clock: Clock | None = None) -> None:
        from oxi_assist.guide.engine import Guide
        from oxi_assist.guide.schema import load as load_guidance
        from oxi_assist.monitor.monitor import Monitor
        from oxi_assist.recordings import try_open_writer

        self.scenario = scenario
        self.seed = seed
        self.clock = clock
        self.uri = sim_uri(scenario, seed=seed, speed=speed, chunk=chunk, pleth=pleth)
        #: the simulated patient, or the same on a real oximeter's state (both `Trainable`)
        self.source: SimSource | OverlaySource
        if overlay:  # a real oximeter worn by the trainee: its state, the scenario's numbers
            from oxi_assist.overlay import open_overlay

            self.source = open_overlay(self.uri, overlay, clock, device_clock=device_clock)
        else:
            self.source = open_source(self.uri, clock)
        protocol = load_guidance(guidance)
        writer, why = (try_open_writer(self.uri, clock, base=sessions_dir) if record
                       else (None, ""))
        self.session = Session(clock=clock, monitor=Monitor(), guide=Guide(protocol, clock=clock),
                               writer=writer, source_label=self.uri, controllable=self.source,
                               record_error=why)
        self._task: asyncio.Task[str] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self.session.run(self.source, tick_every=TICK_EVERY, stay=True))

    @property
    def t(self) -> float:
        """Session seconds (the patient's scenario time)."""
        return self.session.elapsed()

    @property
    def paused(self) -> bool:
        return bool(self.source.paused)

    @property
    def speed(self) -> float:
        return float(self.source.speed)

    def pause(self) -> None:
        self.source.pause()

    def resume(self) -> None:
        self.source.resume()

    def set_speed(self, x: float) -> None:
        self.source.set_speed(x)

    def act(self, action: Action | str, **params: Any) -> None:
        """A trainee's action, or a trainer cue (a name in `TRAINER_CUES`)."""
        if isinstance(action, str) and action not in TRAINER_CUES:
            action = Action(action)
        self.session.on_action(action, **params)

    def device_words(self) -> str:
        """The overlaid real oximeter's link and finger state in a few words ("" without one):
        the only thing about a real device that a station sends."""
        if isinstance(self.source, OverlaySource):
            return self.source.state.words()
        return ""

    def summary(self) -> PatientSummary:
        """The patient as the station's status says it (see `PatientSummary`)."""
        s = self.session
        t = self.t
        step = title = alarm = prio = ""
        spo2 = None
        gs = s.guide_state
        if gs is not None:
            step, title = gs.step.id, gs.step.title[:200]
        v = s.vitals
        if v is not None and v.spo2 is not None and v.quality is not Quality.NONE \
                and not v.stale:
            spo2 = round(float(v.spo2), 1)
        if v is not None and v.top_alarm is not None:
            alarm, prio = v.top_alarm.kind, v.top_alarm.priority.label
        firsts: dict[str, float] = {}
        for a in s.actions:
            firsts.setdefault(a.name, a.t)
        return PatientSummary(t, step, title, spo2, alarm, prio,
                              firsts.get(Action.CALLED_911.value),
                              firsts.get(Action.BREATHS_START.value),
                              firsts.get(Action.NALOXONE.value), s.doses,
                              self.device_words()[:MAX_NAME])

    def saved_actions(self) -> tuple[SavedAction, ...]:
        """Every action and cue so far, as a station saves them (breath taps too: the guide's
        breathing count, and so its next step, depends on them)."""
        out = []
        for a in self.session.actions:
            params = {k: v for k, v in a.params.items() if isinstance(v, str | int | float)
                      and not isinstance(v, bool)}
            out.append(SavedAction(round(a.t, 4), a.name, params, a.trainer))
        return tuple(out)

    async def close(self, reason: str) -> None:
        self.session.close(reason)
        with contextlib.suppress(Exception):
            await self.source.close()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    @classmethod
    async def restore(cls, scenario: str, *, seed: int, real: Clock, until: float,
                      actions: tuple[SavedAction, ...], **kw: Any) -> Patient:
        """The patient as it was at session time `until`, with `actions` replayed at their
        times; its clock is live (real) when this returns."""
        clock = HandoffClock(real)
        p = cls(scenario, seed=seed, clock=clock, speed=1.0, device_clock=real, **kw)
        overlay = p.source if isinstance(p.source, OverlaySource) else None
        if overlay is not None:
            overlay.passthrough = True  # the patient's past is the scenario's alone
        p.start()
        step = 0.25  # virtual seconds per step: at speed 1, an action lands within a reading
        for a in sorted(actions, key=lambda a: a.t):
            while p.t < a.t and not p.session.closed:
                await clock.run_until(clock.now() + step)
            if not (a.name in TRAINER_CUES or a.name in {x.value for x in Action}):
                continue  # a saved name this version does not know: skipped, not fatal
            p.act(a.name, **a.params)
        while p.t < until and p.source.t < p.source.duration:
            await clock.run_until(clock.now() + step)
        clock.go_live()
        if overlay is not None:
            overlay.go_live()
        return p
