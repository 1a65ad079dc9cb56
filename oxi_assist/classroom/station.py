"""A station: one trainee's simulated patient, driven by the trainer's commands over MQTT.

`StationCore` is the station's logic without the network: messages in (`on_message`), messages
out through a `Publisher`, time from an injected clock, and `tick()` for what happens as time
passes. `StationClient` puts it on an `MqttLink`. The live screen that comes later shows
`core.patient.session` and sends keys to `core.act()`; `oxi-assist join --headless` prints
`core.on_line`'s lines instead.

What the station does:
- On (re)connect: presence "online" (retained; the last will says "lost"), then its saved
  state and unacknowledged events again, so a broker that restarted gets everything back.
- First connection: it waits up to `RESTORE_WAIT` for its own saved state (retained on the
  broker, and republished by the trainer after a broker restart). With one, the patient is
  rebuilt as it was (`Patient.restore`); without, it starts from the class state (or waits in
  the lobby for "start") (`station_start.PatientStart`).
- Commands are applied once each, in order per channel (all stations / this station), by
  sequence number (`station_commands.CommandOrder`).
- Events (actions, step changes, alarms, applied commands) are numbered and kept until the
  trainer acknowledges them (`station_outbox.EventOutbox`).
- Status about once a second, the saved state at once after a trainee's action or an applied
  command and otherwise when something changed (`station_reports.ReportSchedule`).

This module holds the rest of the station's patient driving (commands applied, the trainee's
actions, what the patient's session says turned into events), the messages it takes in, and
`StationClient`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from drivers.clock import Clock
from oxi_assist.actions import ACTIONS, Action, log_line
from oxi_assist.classroom.codes import class_id as class_id_of
from oxi_assist.classroom.link import (
    BrokerAddress,
    LastWill,
    Login,
    LossyFilter,
    MqttLink,
    Publisher,
)
from oxi_assist.classroom.messages import (
    CUES,
    MAX_ACTIONS,
    MAX_OUTBOX,
    Ack,
    Channel,
    ClassState,
    Command,
    CommandName,
    EventKind,
    MessageError,
    Phase,
    Presence,
    PresenceState,
    StationEvent,
    StationState,
    StationStatus,
    decode,
    encode,
)
from oxi_assist.classroom.patient import Patient, PatientSummary
from oxi_assist.classroom.station_commands import CommandOrder
from oxi_assist.classroom.station_outbox import EventOutbox, StationCounters
from oxi_assist.classroom.station_reports import ReportSchedule
from oxi_assist.classroom.station_start import RESTORE_WAIT, PatientStart, StationOptions
from oxi_assist.classroom.topics import TopicKind, Topics

TICK = 0.25


class StationCore(PatientStart):
    """The station's logic; see the module docstring. Never raises on a message."""

    def __init__(self, topics: Topics, station: str, opts: StationOptions, clock: Clock,
                 publisher: Publisher, *, on_line: Callable[[str], None] | None = None) -> None:
        self.topics = topics
        self.station = station
        self.opts = opts
        self.clock = clock
        self.pub = publisher
        self.on_line = on_line
        self.on_change: Callable[[], None] | None = None
        self.class_state: ClassState | None = None
        self.saved: StationState | None = None
        self.patient: Patient | None = None
        self.phase = Phase.LOBBY
        self.speed = 1.0
        self.decided = False  # fresh or restored: settled
        self.restored_from: float | None = None
        self._restoring = False
        self._wait_until: float | None = None
        self.counters = StationCounters()
        self.commands = CommandOrder(self.counters)
        self.outgoing = EventOutbox(self._topic(TopicKind.EVENT), clock, publisher,
                                  self.counters)
        self.reports = ReportSchedule(self._topic(TopicKind.STATUS),
                                      self._topic(TopicKind.STATE), clock, publisher)
        self._step = ""
        self._alarms: set[str] = set()
        self.version = 0

    @property
    def cmd_seq(self) -> dict[Channel, int | None]:
        """The last command number applied per channel."""
        return self.commands.last

    @property
    def event_seq(self) -> int:
        """The last event number given."""
        return self.outgoing.seq

    @property
    def acked(self) -> int:
        """Every event up to this number is acknowledged by the trainer."""
        return self.outgoing.acked

    # -- out ------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        if self.on_line is not None:
            self.on_line(text)

    def _changed(self) -> None:
        self.version += 1
        if self.on_change is not None:
            self.on_change()

    def _topic(self, kind: TopicKind) -> str:
        return self.topics.station(self.station, kind)

    def presence(self, state: PresenceState) -> bytes:
        return encode(Presence(state, self.opts.name, self.clock.wall()))

    def on_connect(self) -> None:
        """(Re)connected: presence, saved state and unacknowledged events go out again."""
        self.pub.publish(self._topic(TopicKind.PRESENCE), self.presence(PresenceState.ONLINE),
                         qos=1, retain=True)
        if self._wait_until is None:
            self._wait_until = self.clock.now() + RESTORE_WAIT
        if self.decided:
            self._publish_state()
            self.outgoing.resend(force=True)
            self._publish_status()

    # -- messages in ------------------------------------------------------------------------

    def on_message(self, topic: str, payload: bytes) -> None:
        ref = self.topics.parse(topic)
        if ref is None:
            self.counters.rejected.add(topic, "not a topic of this class")
            return
        try:
            msg = decode(ref.kind, payload)
        except MessageError as e:
            self.counters.rejected.add(topic, str(e))
            return
        if isinstance(msg, ClassState) and ref.station is None:
            self.class_state = msg
        elif isinstance(msg, Command):
            self._on_command(msg, own_topic=ref.station == self.station)
        elif isinstance(msg, Ack) and ref.station == self.station:
            self.outgoing.on_ack(msg.seq, rejoining=not self.decided)
        elif isinstance(msg, StationState) and ref.station == self.station:
            if not self.decided:
                self.saved = msg
            elif self.reports.is_older(msg):
                # ours must be the one a rejoining station finds
                self.reports.urgent = True
        else:
            self.counters.rejected.add(topic, "not for this station")
            return
        self._changed()

    def _on_command(self, cmd: Command, *, own_topic: bool) -> None:
        self.commands.offer(cmd, own_topic=own_topic)
        self._apply_ready()

    def _apply_ready(self) -> None:
        if not self.decided or self._restoring:
            return
        for cmd in self.commands.ready(can_start=self.class_state is not None):
            self._apply(cmd)

    # -- commands ---------------------------------------------------------------------------

    def _apply(self, cmd: Command) -> None:
        p = self.patient
        name, value = cmd.name, cmd.value
        if name is CommandName.START and p is None and self.phase is Phase.LOBBY:
            self._start_fresh(running=True)
        elif name is CommandName.PAUSE and self.phase is not Phase.ENDED:
            self.phase = Phase.PAUSED if self.phase is not Phase.LOBBY else self.phase
            if p is not None:
                p.pause()
        elif name is CommandName.RESUME and self.phase is Phase.PAUSED:
            self.phase = Phase.RUNNING
            if p is not None:
                p.resume()
        elif name is CommandName.SPEED and value is not None:
            self.speed = value
            if p is not None:
                p.set_speed(value)
        elif name in CUES and p is not None and self.phase is not Phase.ENDED and value:
            p.act(name.value, seconds=value)
        elif name is CommandName.END and self.phase is not Phase.ENDED:
            self._end()
        self.counters.commands_applied += 1
        latency = max(0.0, self.clock.wall() - cmd.sent) if cmd.sent else None
        self._event(EventKind.COMMAND, name.value, params={
            "seq": cmd.seq, "channel": cmd.channel.value,
            **({"value": value} if value is not None else {}),
            **({"latency_ms": round(latency * 1000, 1)} if latency is not None else {})})
        self._say(f"command {cmd.channel.value} {cmd.seq} {name.value}"
                  + (f" {value:g}" if value is not None else "")
                  + (f" applied latency_ms={latency * 1000:.1f}" if latency is not None
                     else " applied"))
        self.reports.urgent = True

    def _end(self) -> None:
        self.phase = Phase.ENDED
        p = self.patient
        if p is not None:
            p.session.close("class ended")
            with contextlib.suppress(Exception):
                p.source.pause()  # the patient stays as it was for the debrief screen
        self._event(EventKind.SESSION, "ended", text="class ended")
        self._say("ended")

    # -- the trainee --------------------------------------------------------------------------

    def act(self, action: Action, **params: Any) -> str:
        """A trainee's action. Returns "" when done, else why not (no patient yet, ended)."""
        p = self.patient
        if p is None or self._restoring:
            return "the class has not started yet"
        if self.phase is Phase.ENDED:
            return "the class has ended"
        p.act(action, **params)
        rec = p.session.actions[-1] if p.session.actions else None
        done = dict(rec.params) if rec is not None else dict(params)
        shown = ACTIONS[action].shown_in_log
        clean = {k: v for k, v in done.items()
                 if isinstance(v, str | int | float) and not isinstance(v, bool)}
        ev = self._event(EventKind.ACTION, action.value, text=log_line(action, clean),
                         params=clean, t=rec.t if rec is not None else None)
        if shown:
            self._say(f"event {ev.seq} action {action.value} t={ev.t:.1f}")
        if action is not Action.BREATH_TAP:
            self.reports.urgent = True
        self._observe()
        return ""

    # -- events out -------------------------------------------------------------------------

    def _event(self, kind: EventKind, name: str, *, text: str = "",
               params: dict[str, Any] | None = None, t: float | None = None) -> StationEvent:
        if t is None:
            t = self.patient.t if self.patient is not None else 0.0
        ev = self.outgoing.add(kind, name, t, text=text, params=params)
        self.reports.dirty = True
        self._changed()
        return ev

    def _observe(self, *, quiet: bool = False) -> None:
        """Step changes and alarms become events (`quiet`: only remembered, after a restore)."""
        p = self.patient
        if p is None:
            return
        gs = p.session.guide_state
        step = gs.step.id if gs is not None else ""
        if step != self._step:
            self._step = step
            if not quiet and step:
                self._event(EventKind.STEP, step, text=gs.step.title if gs else "")
                self._say(f"step {step}")
        v = p.session.vitals
        alarms = {a.kind: a for a in v.alarms} if v is not None else {}
        for kind in sorted(set(alarms) - self._alarms):
            if not quiet:
                a = alarms[kind]
                self._event(EventKind.ALARM, kind, text=a.message,
                            params={"state": "raised", "priority": a.priority.label})
                self._say(f"alarm {kind} raised")
        for kind in sorted(self._alarms - set(alarms)):
            if not quiet:
                self._event(EventKind.ALARM, kind, params={"state": "cleared"})
                self._say(f"alarm {kind} cleared")
        self._alarms = set(alarms)

    # -- status and state -------------------------------------------------------------------

    def status(self) -> StationStatus:
        s = self.patient.summary() if self.patient is not None else PatientSummary()
        return StationStatus(self.opts.name, self.phase, round(s.t, 2), s.step, s.step_title,
                             s.spo2, s.alarm, s.alarm_priority, s.t_911, s.t_breaths,
                             s.t_naloxone, s.doses, self.speed,
                             self.cmd_seq[Channel.ALL] or 0, self.cmd_seq[Channel.OWN] or 0,
                             self.event_seq, self.counters.rejected.total, self.clock.wall(),
                             s.device)

    def _publish_status(self) -> None:
        self.reports.publish_status(self.status())

    def saved_state(self) -> StationState:
        p = self.patient
        cs = self.class_state
        actions = p.saved_actions()[-MAX_ACTIONS:] if p is not None else ()
        outbox = self.outgoing.pending()[-MAX_OUTBOX:]
        return StationState(
            self.opts.name, p.scenario if p is not None else (cs.scenario if cs else ""),
            p.seed if p is not None else 0, round(p.t, 3) if p is not None else 0.0,
            self.phase, self.speed, self.cmd_seq[Channel.ALL] or 0,
            self.cmd_seq[Channel.OWN] or 0, self.event_seq, actions, outbox,
            self.clock.wall())

    def _publish_state(self) -> None:
        self.reports.publish_state(self.saved_state())

    # -- time passing -----------------------------------------------------------------------

    def tick(self) -> asyncio.Task[None] | None:
        """What happens as time passes (every `TICK` s). Returns a restore task if one began."""
        task = self._decide()
        if not self.decided:
            return task
        self._apply_ready()
        self._observe()
        if self.reports.status_due():
            self._publish_status()
        self.outgoing.resend()
        if self.reports.state_due(running=self.phase is Phase.RUNNING):
            self._publish_state()
        return task

    @property
    def outbox(self) -> int:
        """How many events the trainer has not acknowledged yet."""
        return len(self.outgoing)

    async def run(self, stop: asyncio.Event) -> None:
        """Ticks until `stop` is set."""
        tasks: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            t = self.tick()
            if t is not None:
                tasks.add(t)
                t.add_done_callback(tasks.discard)
            await self.clock.sleep(TICK)
        for t in tasks:
            t.cancel()

    async def close(self) -> None:
        p, self.patient = self.patient, None
        if p is not None:
            await p.close("station left" if self.phase is not Phase.ENDED else "class ended")


class StationClient:
    """A `StationCore` on an MQTT connection: `oxi-assist join` and the benchmark's stations."""

    def __init__(self, address: BrokerAddress, code: str, opts: StationOptions, clock: Clock,
                 *, on_line: Callable[[str], None] | None = None,
                 loss: LossyFilter | None = None, tls: Any = None) -> None:
        from oxi_assist.classroom.codes import station_id

        self.station = station_id(opts.name)
        self.topics = Topics(class_id_of(code))
        self.link = MqttLink(
            address, Login(self.station, code, f"{self.topics.class_id}-{self.station}"),
            subscriptions=[(t, 1) for t in self.topics.station_may_read(self.station)],
            on_message=self._on_message, on_connect=self._on_connect,
            on_disconnect=self._on_disconnect,
            will=LastWill(self.topics.station(self.station, TopicKind.PRESENCE),
                          encode(Presence(PresenceState.LOST, opts.name))),
            loss=loss, tls=tls)
        self.core = StationCore(self.topics, self.station, opts, clock, self.link,
                                on_line=on_line)
        self._stop = asyncio.Event()

    def _on_message(self, topic: str, payload: bytes) -> None:
        self.core.on_message(topic, payload)

    def _on_connect(self) -> None:
        self.core._say(f"connected to {self.link.address} as {self.station}"
                       + (f" (reconnection {self.link.connects - 1})"
                          if self.link.connects > 1 else ""))
        self.core.on_connect()

    def _on_disconnect(self, why: str) -> None:
        self.core._say(f"connection lost ({why or 'closed'}); reconnecting")

    async def run(self) -> None:
        """Runs until `leave()`; raises `LinkRefused` on a wrong code."""
        link_task = asyncio.ensure_future(self.link.run())
        core_task = asyncio.ensure_future(self.core.run(self._stop))
        try:
            done, _ = await asyncio.wait({link_task, core_task},
                                         return_when=asyncio.FIRST_COMPLETED)
            if link_task in done:
                link_task.result()  # a refused login raises here
        finally:
            self._stop.set()
            self.link.stop()
            for t in (link_task, core_task):
                if not t.done():
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await asyncio.wait_for(t, 5)
            await self.core.close()

    async def leave(self, *, wait_acks: float = 3.0) -> None:
        """Says goodbye: last events acknowledged (or `wait_acks` s), presence "left"."""
        end = self.core.clock.now() + wait_acks
        while self.core.outbox and self.core.clock.now() < end and self.link.connected:
            await self.core.clock.sleep(0.05)
        self.core._publish_state()
        self.link.publish(self.topics.station(self.station, TopicKind.PRESENCE),
                          self.core.presence(PresenceState.LEFT), qos=1, retain=True)
        await asyncio.sleep(0.2)  # network time for the goodbye to leave
        self._stop.set()
        self.link.stop()
