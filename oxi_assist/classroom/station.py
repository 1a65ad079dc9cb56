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
  the lobby for "start").
- Commands are applied once each, in order per channel (all stations / this station), by
  sequence number; one that arrives early waits for the ones before it, a repeat is ignored.
  The last applied numbers go out in every status, and the trainer resends what is missing.
- Events (actions, step changes, alarms, applied commands) are numbered; each stays in the
  outbox, resent every `RESEND_S`, until the trainer's ack covers it. So no event is lost
  to a dropped message, a broker restart or the station's own restart.
- Status about once a second. The saved state goes out at once after a trainee's action or
  an applied command (what a restore needs), otherwise at most every `STATE_MIN_S` while
  something changed (breath taps, alarms, steps) and every `STATE_EVERY` s while running: a
  station that crashes loses at most its last second of breath taps from its saved state.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
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
    MAX_NAME,
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
    Rejections,
    StationEvent,
    StationState,
    StationStatus,
    decode,
    encode,
)
from oxi_assist.classroom.patient import HEADLESS_PLETH, Patient
from oxi_assist.classroom.topics import TopicKind, Topics
from oxi_assist.monitor.vitals import Quality

RESTORE_WAIT = 1.0  # s to wait for a saved state on the first connection
STATUS_EVERY = 1.0
RESEND_S = 1.0
STATE_EVERY = 5.0
STATE_MIN_S = 1.0
#: unacknowledged events kept for resending (a long broker outage); the saved state carries
#: the newest `MAX_OUTBOX`
OUTBOX_LIMIT = 5000
TICK = 0.25
MAX_PENDING = 256  # early commands held while one before them is missing


@dataclass
class StationOptions:
    name: str
    guidance: str | None = None
    record: bool = True
    sessions_dir: str | None = None
    chunk: float = 0.25
    pleth: float = HEADLESS_PLETH
    overlay: str | None = None  # a real oximeter's URI (ble:auto, serial:PORT): its state only


@dataclass
class _Out:
    event: StationEvent
    last_sent: float


@dataclass
class StationCounters:
    commands_applied: int = 0
    commands_repeated: int = 0
    events_sent: int = 0  # distinct events created (not resends)
    resends: int = 0
    rejected: Rejections = field(default_factory=Rejections)


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


class StationCore:
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
        self.cmd_seq: dict[Channel, int | None] = {Channel.ALL: None, Channel.OWN: 0}
        self._pending: dict[tuple[Channel, int], Command] = {}
        self.event_seq = 0
        self.acked = 0
        self._outbox: dict[int, _Out] = {}
        self._step = ""
        self._alarms: set[str] = set()
        self._status_at = -1e18
        self._state_at = -1e18
        self._state_dirty = False
        self._state_urgent = False
        self._state_sent = 0.0  # `sent` of the last saved state published
        self.counters = StationCounters()
        self.version = 0

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
            self._resend(force=True)
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
            self._on_ack(msg)
        elif isinstance(msg, StationState) and ref.station == self.station:
            if not self.decided:
                self.saved = msg
            elif msg.sent < self._state_sent - 1e-3:
                # an older copy came back (the trainer republishing what it had after a
                # broker restart): ours must be the one a rejoining station finds
                self._state_urgent = True
        else:
            self.counters.rejected.add(topic, "not for this station")
            return
        self._changed()

    def _on_ack(self, ack: Ack) -> None:
        self.acked = max(self.acked, ack.seq)
        for seq in [s for s in self._outbox if s <= self.acked]:
            del self._outbox[seq]
        if not self.decided:  # a station that rejoins continues after what the trainer has
            self.event_seq = max(self.event_seq, ack.seq)

    def _on_command(self, cmd: Command, *, own_topic: bool) -> None:
        if cmd.channel is Channel.OWN and not own_topic:
            self.counters.rejected.add("cmd/all", "a station's own command on the all topic")
            return
        last = self.cmd_seq[cmd.channel]
        if last is not None and cmd.seq <= last:
            self.counters.commands_repeated += 1
            return
        if len(self._pending) < MAX_PENDING:
            self._pending[(cmd.channel, cmd.seq)] = cmd
        self._apply_ready()

    def _apply_ready(self) -> None:
        if not self.decided or self._restoring:
            return
        progress = True
        while progress:
            progress = False
            for ch in Channel:
                last = self.cmd_seq[ch]
                if last is None:
                    continue
                for key in [k for k in self._pending if k[0] is ch and k[1] <= last]:
                    del self._pending[key]
                    self.counters.commands_repeated += 1
                cmd = self._pending.get((ch, last + 1))
                if cmd is None:
                    continue
                if cmd.name is CommandName.START and self.class_state is None:
                    continue  # starts once the class state (scenario, seed) is known
                del self._pending[(ch, last + 1)]
                self.cmd_seq[ch] = cmd.seq
                self._apply(cmd)
                progress = True

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
        self._state_urgent = True

    def _end(self) -> None:
        self.phase = Phase.ENDED
        p = self.patient
        if p is not None:
            p.session.close("class ended")
            with contextlib.suppress(Exception):
                p.source.pause()  # the patient stays as it was for the debrief screen
        self._event(EventKind.SESSION, "ended", text="class ended")
        self._say("ended")

    # -- the patient ----------------------------------------------------------------------

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
        self._state_urgent = True

    async def _restore(self, saved: StationState) -> None:
        self._restoring = True
        try:
            self.event_seq = max(self.event_seq, saved.event_seq)
            self.cmd_seq[Channel.ALL] = saved.cmd_all
            self.cmd_seq[Channel.OWN] = saved.cmd_own
            self.speed = saved.speed
            for e in saved.outbox:
                if e.seq > self.acked:
                    self._outbox[e.seq] = _Out(e, -1e18)
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
            self._state_dirty = True
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
        self.cmd_seq[Channel.ALL] = cs.cmd_seq
        self.decided = True
        if cs.phase in (Phase.RUNNING, Phase.PAUSED):
            self._start_fresh(running=cs.phase is Phase.RUNNING)
        elif cs.phase is Phase.ENDED:
            self.phase = Phase.ENDED
        else:
            self._say("waiting for the trainer to start")
        self._apply_ready()
        return None

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
            self._state_urgent = True
        self._observe()
        return ""

    # -- events out -------------------------------------------------------------------------

    def _event(self, kind: EventKind, name: str, *, text: str = "",
               params: dict[str, Any] | None = None, t: float | None = None) -> StationEvent:
        self.event_seq += 1
        if t is None:
            t = self.patient.t if self.patient is not None else 0.0
        ev = StationEvent(self.event_seq, round(t, 3), kind, name, text[:200],
                          dict(params or {}), self.clock.wall())
        self.counters.events_sent += 1
        if len(self._outbox) >= OUTBOX_LIMIT:  # never grows without bound: oldest goes first
            self._outbox.pop(min(self._outbox))
        self._outbox[ev.seq] = _Out(ev, self.clock.now())
        self.pub.publish(self._topic(TopicKind.EVENT), encode(ev), qos=1)
        self._state_dirty = True
        self._changed()
        return ev

    def _resend(self, *, force: bool = False) -> None:
        now = self.clock.now()
        for seq in sorted(self._outbox):
            out = self._outbox[seq]
            if force or now - out.last_sent >= RESEND_S:
                out.last_sent = now
                self.counters.resends += 1
                self.pub.publish(self._topic(TopicKind.EVENT), encode(out.event), qos=1)

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
        p = self.patient
        step = title = alarm = prio = device = ""
        spo2 = None
        t911 = tb = tn = None
        doses = 0
        t = 0.0
        if p is not None:
            s = p.session
            t = p.t
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
            t911 = firsts.get(Action.CALLED_911.value)
            tb = firsts.get(Action.BREATHS_START.value)
            tn = firsts.get(Action.NALOXONE.value)
            doses = s.doses
            device = p.device_words()[:MAX_NAME]
        return StationStatus(self.opts.name, self.phase, round(t, 2), step, title, spo2, alarm,
                             prio, t911, tb, tn, doses, self.speed,
                             self.cmd_seq[Channel.ALL] or 0, self.cmd_seq[Channel.OWN] or 0,
                             self.event_seq, self.counters.rejected.total, self.clock.wall(),
                             device)

    def _publish_status(self) -> None:
        self._status_at = self.clock.now()
        self.pub.publish(self._topic(TopicKind.STATUS), encode(self.status()), qos=0)

    def saved_state(self) -> StationState:
        p = self.patient
        cs = self.class_state
        actions = p.saved_actions()[-MAX_ACTIONS:] if p is not None else ()
        outbox = tuple(o.event for _, o in sorted(self._outbox.items()))[-MAX_OUTBOX:]
        return StationState(
            self.opts.name, p.scenario if p is not None else (cs.scenario if cs else ""),
            p.seed if p is not None else 0, round(p.t, 3) if p is not None else 0.0,
            self.phase, self.speed, self.cmd_seq[Channel.ALL] or 0,
            self.cmd_seq[Channel.OWN] or 0, self.event_seq, actions, outbox,
            self.clock.wall())

    def _publish_state(self) -> None:
        self._state_at = self.clock.now()
        self._state_dirty = self._state_urgent = False
        st = self.saved_state()
        self._state_sent = round(st.sent, 4)
        try:
            data = encode(st)
        except MessageError:  # over the limit: the oldest actions give way
            data = encode(StationState(**{**st.__dict__, "actions": st.actions[-50:],
                                          "outbox": st.outbox[-16:]}))
        self.pub.publish(self._topic(TopicKind.STATE), data, qos=1, retain=True)

    # -- time passing -----------------------------------------------------------------------

    def tick(self) -> asyncio.Task[None] | None:
        """What happens as time passes (every `TICK` s). Returns a restore task if one began."""
        task = self._decide()
        if not self.decided:
            return task
        self._apply_ready()
        self._observe()
        now = self.clock.now()
        if now - self._status_at >= STATUS_EVERY:
            self._publish_status()
        self._resend()
        since = now - self._state_at
        if self._state_urgent or (self._state_dirty and since >= STATE_MIN_S) or (
                self.phase is Phase.RUNNING and since >= STATE_EVERY):
            self._publish_state()
        return task

    @property
    def outbox(self) -> int:
        return len(self._outbox)

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
