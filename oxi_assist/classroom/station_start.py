"""How a station's patient begins: fresh from the class state, or rebuilt from its saved state.

On its first connection a station waits up to `RESTORE_WAIT` for its own saved state (retained
on the broker, and republished by the trainer after a broker restart). With one, the patient is
rebuilt as it was (`Patient.restore`) and the station's numbering carries on from the saved
state; without, it starts from the class state (or waits in the lobby for "start"). Every
station gets the class's scenario and seed, or the variant and seed of its own the trainer
chose (`patient_scenario`, `patient_seed`).
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drivers.clock import Clock
from oxi_assist.classroom.messages import Channel, ClassState, EventKind, Phase, StationState
from oxi_assist.classroom.patient import HEADLESS_PLETH, Patient
from oxi_assist.classroom.station_commands import CommandOrder
from oxi_assist.classroom.station_outbox import EventOutbox
from oxi_assist.classroom.station_reports import ReportSchedule

if TYPE_CHECKING:
    from oxi_assist.classroom.messages import StationEvent

RESTORE_WAIT = 1.0  # s to wait for a saved state on the first connection


@dataclass
class StationOptions:
    name: str
    guidance: str | None = None
    record: bool = True
    sessions_dir: str | None = None
    chunk: float = 0.25
    pleth: float = HEADLESS_PLETH
    overlay: str | None = None  # a real oximeter's URI (ble:auto, serial:PORT): its state only


def patient_scenario(state: ClassState, station: str) -> str:
    """The class's scenario, or the variant the trainer gave this station (by name, else
    handed round by the station's id)."""
    if station in state.assigned:
        return state.assigned[station]
    if state.variants:
        return state.variants[zlib.crc32(station.encode()) % len(state.variants)]
    return state.scenario


def patient_seed(state: ClassState, station: str) -> int:
    """The same seed for every station, or (`vary_seed`) one of its own from its id."""
    if not state.vary_seed:
        return state.seed
    return (state.seed + zlib.crc32(station.encode())) % 2**31


class PatientStart:
    """The part of `StationCore` that decides and builds its patient (see the module
    docstring). The attributes below are the core's; this part reads and sets them."""

    station: str
    opts: StationOptions
    clock: Clock
    class_state: ClassState | None
    saved: StationState | None
    patient: Patient | None
    phase: Phase
    speed: float
    decided: bool
    restored_from: float | None
    _restoring: bool
    _wait_until: float | None
    commands: CommandOrder
    outgoing: EventOutbox
    reports: ReportSchedule

    if TYPE_CHECKING:
        def _say(self, text: str) -> None: ...

        def _apply_ready(self) -> None: ...

        def _event(self, kind: EventKind, name: str, *, text: str = "",
                   params: dict[str, Any] | None = None,
                   t: float | None = None) -> StationEvent: ...

        def _observe(self, *, quiet: bool = False) -> None: ...

    def _patient_kw(self) -> dict[str, Any]:
        o = self.opts
        guidance = o.guidance or (self.class_state.guidance if self.class_state else None)
        return {"guidance": guidance or None, "record": o.record,
                "sessions_dir": o.sessions_dir, "chunk": o.chunk, "pleth": o.pleth,
                "overlay": o.overlay}

    def _start_fresh(self, *, running: bool) -> None:
        cs = self.class_state
        assert cs is not None
        seed = patient_seed(cs, self.station)
        scenario = patient_scenario(cs, self.station)
        self.speed = cs.speed
        p = Patient(scenario, seed=seed, clock=self.clock, speed=cs.speed,
                    **self._patient_kw())
        p.start()
        self.patient = p
        self.phase = Phase.RUNNING if running else Phase.PAUSED
        if not running:
            p.pause()
        self._event(EventKind.SESSION, "started", text=f"{scenario} seed {seed}",
                    params={"scenario": scenario, "seed": seed})
        self._say(f"started {scenario} seed={seed}")
        self.reports.urgent = True

    async def _restore(self, saved: StationState) -> None:
        self._restoring = True
        try:
            self.outgoing.seq = max(self.outgoing.seq, saved.event_seq)
            self.commands.last[Channel.ALL] = saved.cmd_all
            self.commands.last[Channel.OWN] = saved.cmd_own
            self.speed = saved.speed
            self.outgoing.keep(saved.outbox)
            if saved.phase is Phase.ENDED or saved.phase is Phase.LOBBY:
                self.phase = saved.phase
            else:
                p = await Patient.restore(saved.scenario, seed=saved.seed, real=self.clock,
                                          until=saved.t, actions=saved.actions,
                                          **self._patient_kw())
                p.set_speed(saved.speed)
                self.patient = p
                self.phase = saved.phase
                if saved.phase is Phase.PAUSED:
                    p.pause()
                self._observe(quiet=True)
            self.restored_from = saved.t
            self._event(EventKind.SESSION, "restored", text=f"at {saved.t:.1f} s",
                        params={"t": round(saved.t, 1), "actions": len(saved.actions)})
            self._say(f"restored t={saved.t:.1f} actions={len(saved.actions)} "
                      f"phase={self.phase.value}")
        finally:
            self._restoring = False
            self.decided = True
            self.reports.dirty = True
            self._apply_ready()

    def _decide(self) -> asyncio.Task[None] | None:
        """Fresh start or restore, once the first connection has had its chance to hear a
        saved state. Returns the restore task, if any."""
        if self.decided or self._restoring or self._wait_until is None:
            return None
        saved = self.saved
        if saved is not None:
            self._restoring = True
            return asyncio.get_running_loop().create_task(self._restore(saved))
        cs = self.class_state
        if self.clock.now() < self._wait_until or cs is None:
            return None
        self.commands.last[Channel.ALL] = cs.cmd_seq
        self.decided = True
        if cs.phase in (Phase.RUNNING, Phase.PAUSED):
            self._start_fresh(running=cs.phase is Phase.RUNNING)
        elif cs.phase is Phase.ENDED:
            self.phase = Phase.ENDED
        else:
            self._say("waiting for the trainer to start")
        self._apply_ready()
        return None

