"""The trainer's side of a class: class state, commands, the class board, the record, the debrief.

`TrainerCore` is the logic without the network (messages in with `on_message`, out through a
`Publisher`, time from an injected clock, `tick()` as time passes); `TrainerNode` runs it on an
`MqttLink`, with the embedded broker or against an external one. The console that comes later
draws `core.board` (a `Board`: one `BoardRow` per station, `version` grows on each change, and
`on_change` is called) and calls `core.start()`, `pause()`, `resume()`, `speed()`, `cue()` and
`end()`; `core.debrief()` gives the class debrief.

Delivery, from the trainer's side:
- Commands are numbered per channel (all stations; each station). The class state (retained)
  carries the last all-stations number, so a station that joins late starts from the state
  rather than replaying old commands. Every status says what a station has applied; a station
  behind gets the missing commands again on its own topic, at most every `RESEND_S`.
- A station's events are taken once each, in sequence order (an early one waits for the one
  before it, a repeat is counted and dropped), written to the class record and acknowledged
  (one retained ack covers all taken so far; at most one every `ACK_EVERY` per station, the
  rest at the next tick), so the station stops resending them.
- A station is "lost" as soon as its last will arrives (the broker noticed it gone) or when
  nothing has come from it for `LOST_AFTER` s, and "online" again with its next message.
- On every (re)connection the trainer republishes the class state, each station's ack and the
  last saved state it has seen of each station: a restarted broker that lost its retained
  messages gets them back, so a station that rejoins later still finds its state.

The parts: `board` (the rows and what updates them), `class_commands` (command values and the
class state they lead to), `station_log` (a station's events taken in order). This module holds
the trainer's core that ties them to the network's messages, and `TrainerNode`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from drivers.clock import Clock
from oxi_assist.classroom.board import Board, BoardRow, Connection
from oxi_assist.classroom.class_commands import check_value, state_after
from oxi_assist.classroom.codes import TRAINER_USER, CodeError, new_secret
from oxi_assist.classroom.debrief import ClassDebrief, class_debrief
from oxi_assist.classroom.link import BrokerAddress, Login, MqttLink, Publisher
from oxi_assist.classroom.messages import (
    CUES,
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
from oxi_assist.classroom.record import ClassRecord
from oxi_assist.classroom.station_log import StationLog
from oxi_assist.classroom.station_start import patient_scenario
from oxi_assist.classroom.topics import STATION_KINDS, TopicKind, Topics

LOST_AFTER = 4.0  # s without a word from a station before the board says lost
RESEND_S = 1.0
ACK_EVERY = 0.2  # s between acks to one station (the rest wait for the next tick)


@dataclass(frozen=True)
class ClassSetup:
    scenario: str
    seed: int = 0
    vary_seed: bool = False
    speed: float = 1.0
    guidance: str = ""
    title: str = ""
    variants: tuple[str, ...] = ()  # scenarios handed round the stations


@dataclass
class Latency:
    """Wall-clock delivery times measured on one machine (the benchmark reads these)."""

    action_to_board_ms: list[float] = field(default_factory=list)


class TrainerCore:
    """The trainer's logic; see the module docstring. Never raises on a message."""

    def __init__(self, topics: Topics, setup: ClassSetup, clock: Clock, publisher: Publisher,
                 *, record: ClassRecord | None = None,
                 on_line: Callable[[str], None] | None = None) -> None:
        self.topics = topics
        self.setup = setup
        self.clock = clock
        self.pub = publisher
        self.record = record
        self.on_line = on_line
        self.on_change: Callable[[], None] | None = None
        self.t0 = clock.now()
        self.board = Board()
        self.rejected = Rejections()
        self.latency = Latency()
        self._logs: dict[str, StationLog] = {}
        self._seq: dict[str, int] = {}  # "all" or station id → last command number
        self._sent: dict[str, list[Command]] = {}
        self.state = ClassState(Phase.LOBBY, setup.scenario, setup.seed, setup.vary_seed,
                                setup.speed, 0, setup.guidance, setup.title, clock.wall(),
                                tuple(setup.variants))

    # -- out --------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        if self.on_line is not None:
            self.on_line(text)

    def _rt(self) -> float:
        return round(self.clock.now() - self.t0, 3)

    def _changed(self) -> None:
        self.board.version += 1
        if self.on_change is not None:
            self.on_change()

    def _publish_class(self) -> None:
        self.pub.publish(self.topics.class_state, encode(self.state), qos=1, retain=True)

    def on_connect(self) -> None:
        """(Re)connected: the retained messages a restarted broker lost come back."""
        self._publish_class()
        for sid, log in self._logs.items():
            self.pub.publish(self.topics.ack(sid), encode(Ack(log.contiguous, self.clock.wall())),
                             qos=1, retain=True)
            if log.saved is not None:
                self.pub.publish(self.topics.station(sid, TopicKind.STATE), log.saved, qos=1,
                                 retain=True)

    # -- commands ---------------------------------------------------------------------------

    def command(self, name: CommandName, value: float | None = None,
                station: str | None = None) -> Command:
        """Sends a command to every station (`station=None`) or one. Raises `CodeError` for a
        value out of range or an unknown station (the console shows it; nothing is sent)."""
        check_value(name, value)
        if station is not None and station not in self.board.rows:
            raise CodeError(f"no station {station!r} in this class")
        if self.state.phase is Phase.ENDED:
            raise CodeError("the class has ended")
        key = station or "all"
        seq = self._seq.get(key, 0) + 1
        self._seq[key] = seq
        channel = Channel.OWN if station else Channel.ALL
        cmd = Command(seq, channel, name, value, self.clock.wall())
        self._sent.setdefault(key, []).append(cmd)
        if station is None:
            self.state = state_after(self.state, cmd, self.clock.wall())
            self._publish_class()  # first: a station that joins now starts from it
            self.pub.publish(self.topics.cmd_all, encode(cmd), qos=1)
        else:
            self.pub.publish(self.topics.cmd(station), encode(cmd), qos=1)
        self._write({"k": "command", "rt": self._rt(), "seq": seq, "channel": channel.value,
                     "station": station or "", "name": name.value, "value": value})
        self._say(f"command {key} {seq} {name.value}" + (f" {value:g}" if value else ""))
        self._changed()
        return cmd

    def start(self) -> Command:
        return self.command(CommandName.START)

    def pause(self, station: str | None = None) -> Command:
        return self.command(CommandName.PAUSE, station=station)

    def resume(self, station: str | None = None) -> Command:
        return self.command(CommandName.RESUME, station=station)

    def speed(self, x: float, station: str | None = None) -> Command:
        return self.command(CommandName.SPEED, x, station)

    def cue(self, name: CommandName, seconds: float, station: str | None = None) -> Command:
        if name not in CUES:
            raise CodeError(f"{name.value} is not a device cue")
        return self.command(name, seconds, station)

    def end(self) -> Command:
        cmd = self.command(CommandName.END)
        self._write({"k": "end", "rt": self._rt(), "reason": "trainer ended the class"})
        return cmd

    def assign(self, station: str, scenario: str) -> None:
        """Gives one station its own scenario (it takes it when its patient starts: before the
        class starts, or before the station joins). Raises `CodeError` when too late."""
        row = self.board.rows.get(station)
        if row is None:
            raise CodeError(f"no station {station!r} in this class")
        if row.phase is not Phase.LOBBY or self.state.phase is not Phase.LOBBY:
            raise CodeError(f"{row.name} has started: its scenario stays")
        from oxi_assist.classroom.messages import MAX_ASSIGNED

        if station not in self.state.assigned and len(self.state.assigned) >= MAX_ASSIGNED:
            raise CodeError(f"at most {MAX_ASSIGNED} stations can be given a scenario")
        self.state = replace(self.state, assigned={**self.state.assigned, station: scenario},
                             sent=self.clock.wall())
        row.scenario = scenario
        self._publish_class()
        self._write({"k": "assign", "rt": self._rt(), "station": station,
                     "scenario": scenario})
        self._changed()

    def _resend_to(self, sid: str, row: BoardRow, log: StationLog) -> None:
        now = self.clock.now()
        if now - log.resent_at < RESEND_S:
            return
        missing = [c for c in self._sent.get("all", []) if c.seq > row.cmd_all]
        missing += [c for c in self._sent.get(sid, []) if c.seq > row.cmd_own]
        if not missing:
            return
        log.resent_at = now
        for c in missing:
            self.pub.publish(self.topics.cmd(sid), encode(c), qos=1)

    # -- messages in ------------------------------------------------------------------------

    def on_message(self, topic: str, payload: bytes) -> None:
        ref = self.topics.parse(topic)
        if ref is None:
            self.rejected.add(topic, "not a topic of this class")
            return
        if ref.station is None or ref.kind in (TopicKind.COMMAND, TopicKind.ACK):
            return  # the trainer's own messages, echoed by its subscription
        try:
            msg = decode(ref.kind, payload)
        except MessageError as e:
            self.rejected.add(topic, str(e))
            return
        sid = ref.station
        if isinstance(msg, Presence):
            self._on_presence(sid, msg)
        elif isinstance(msg, StationStatus):
            self._on_status(sid, msg)
        elif isinstance(msg, StationEvent):
            self._on_event(sid, msg)
        elif isinstance(msg, StationState):
            self._log(sid, msg.name).saved = bytes(payload)
            return
        self._changed()

    def _log(self, sid: str, name: str) -> StationLog:
        log = self._logs.get(sid)
        if log is None:
            log = self._logs[sid] = StationLog(name or sid)
        return log

    def _row(self, sid: str, name: str) -> BoardRow:
        row = self.board.rows.get(sid)
        if row is None:
            row = self.board.rows[sid] = BoardRow(sid, name or sid, last_seen=self.clock.now(),
                                                  scenario=patient_scenario(self.state, sid))
            self._say(f"station {sid} joined ({row.name})")
        if name and name != row.name:
            row.name = name
        return row

    def _seen(self, row: BoardRow) -> None:
        row.last_seen = self.clock.now()
        if row.connection is Connection.LOST:
            row.connection = Connection.ONLINE
            row.rejoins += 1
            row.lost_at = None
            self._say(f"station {row.station} back")
            self._write({"k": "presence", "rt": self._rt(), "station": row.station,
                         "state": "online"})

    def _on_presence(self, sid: str, p: Presence) -> None:
        if p.state is PresenceState.ONLINE:
            row = self._row(sid, p.name)
            if row.connection is Connection.LEFT:
                row.connection = Connection.ONLINE
                row.rejoins += 1
            self._seen(row)
            return
        row = self.board.rows.get(sid)
        if row is None:
            return  # a goodbye (or a will) left over from before: nothing to show
        new = Connection.LOST if p.state is PresenceState.LOST else Connection.LEFT
        if row.connection is not new:
            row.connection = new
            row.lost_at = self.clock.now() if new is Connection.LOST else None
            self._say(f"station {sid} {new.value}")
            self._write({"k": "presence", "rt": self._rt(), "station": sid,
                         "state": new.value})

    def _on_status(self, sid: str, s: StationStatus) -> None:
        row = self._row(sid, s.name)
        self._seen(row)
        row.update(s)
        log = self._log(sid, s.name)
        self._resend_to(sid, row, log)

    def _on_event(self, sid: str, ev: StationEvent) -> None:
        row = self._row(sid, "")
        self._seen(row)
        log = self._log(sid, row.name)
        for taken in log.receive(ev):
            self._take(sid, row, taken)
        log.ack_due = True
        if self.clock.now() - log.acked_at >= ACK_EVERY:
            self._ack(sid, log)

    def _ack(self, sid: str, log: StationLog) -> None:
        """One ack covers every event taken so far; a burst of events gets one ack at once
        and one more within `ACK_EVERY` (from `tick`), not one each."""
        log.ack_due = False
        log.acked_at = self.clock.now()
        self.pub.publish(self.topics.ack(sid), encode(Ack(log.contiguous, self.clock.wall())),
                         qos=1, retain=True)

    def _take(self, sid: str, row: BoardRow, ev: StationEvent) -> None:
        row.events += 1
        if ev.kind is EventKind.ACTION:
            if ev.sent:
                self.latency.action_to_board_ms.append(
                    max(0.0, self.clock.wall() - ev.sent) * 1000)
            row.take_action(ev)
        elif ev.kind is EventKind.STEP:
            row.step, row.step_title = ev.name, ev.text
        elif ev.kind is EventKind.SESSION and ev.name == "started":
            scenario = ev.params.get("scenario")
            if isinstance(scenario, str) and scenario:
                row.scenario = scenario
        self._write({"k": "event", "rt": self._rt(), "station": sid,
                     "station_name": row.name, "seq": ev.seq, "t": ev.t,
                     "kind": ev.kind.value, "name": ev.name, "text": ev.text,
                     "params": ev.params, "sent": ev.sent})

    # -- time passing -----------------------------------------------------------------------

    def tick(self) -> None:
        now = self.clock.now()
        for sid, log in self._logs.items():
            if log.ack_due:
                self._ack(sid, log)
        changed = False
        for row in self.board.rows.values():
            if row.connection is Connection.ONLINE and now - row.last_seen > LOST_AFTER:
                row.connection, row.lost_at = Connection.LOST, now
                self._say(f"station {row.station} lost (silent {LOST_AFTER:g} s)")
                self._write({"k": "presence", "rt": self._rt(), "station": row.station,
                             "state": "lost"})
                changed = True
        if changed:
            self._changed()

    # -- after ------------------------------------------------------------------------------

    def events(self, sid: str) -> list[StationEvent]:
        log = self._logs.get(sid)
        return list(log.events) if log is not None else []

    @property
    def duplicates(self) -> int:
        return sum(log.duplicates for log in self._logs.values())

    def debrief(self) -> ClassDebrief:
        title = ", ".join(self.setup.variants) if self.setup.variants else self.setup.scenario
        return class_debrief({sid: (log.name, list(log.events))
                              for sid, log in self._logs.items()}, title)

    def _write(self, obj: dict[str, Any]) -> None:
        if self.record is not None:
            self.record.write(obj)


class TrainerNode:
    """A `TrainerCore` on an MQTT connection, with the embedded broker (default) or an
    external one (`external=BrokerAddress`, `password` = the trainer's broker password)."""

    def __init__(self, setup: ClassSetup, clock: Clock, *, code: str,
                 host: str = "127.0.0.1", port: int = 1883,
                 external: BrokerAddress | None = None, password: str | None = None,
                 tls: Any = None, record: ClassRecord | None = None,
                 on_line: Callable[[str], None] | None = None) -> None:
        from oxi_assist.classroom.codes import class_id

        self.code = code
        self.topics = Topics(class_id(code))
        self.broker: Any = None
        if external is None:
            from oxi_assist.classroom.broker import EmbeddedBroker

            secret = new_secret()
            self.broker = EmbeddedBroker(class_id=self.topics.class_id, code=code,
                                         trainer_secret=secret, host=host, port=port)
            address = BrokerAddress(host, port)
            login = Login(TRAINER_USER, secret, f"{self.topics.class_id}-{TRAINER_USER}")
        else:
            address = external
            login = Login(external.username or TRAINER_USER, password or "",
                          f"{self.topics.class_id}-{TRAINER_USER}")
        self.address = address
        # the stations' topics only: the trainer's own commands and acks are not echoed back
        subs = [(self.topics.every_station(k), 1) for k in STATION_KINDS]
        self.link = MqttLink(address, login, subscriptions=subs,
                             on_message=self._on_message, on_connect=self._on_connect,
                             tls=tls)
        self.core = TrainerCore(self.topics, setup, clock, self.link, record=record,
                                on_line=on_line)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None

    def _on_message(self, topic: str, payload: bytes) -> None:
        self.core.on_message(topic, payload)

    def _on_connect(self) -> None:
        self.core.on_connect()

    async def start(self, timeout: float = 10.0) -> None:
        """Starts the broker (embedded) and connects; `CodeError` if it cannot."""
        if self.broker is not None:
            await self.broker.start()
        self._task = asyncio.ensure_future(self.link.run())
        self._ticker = asyncio.ensure_future(self._tick_loop())
        ok = await self.link.wait_connected(timeout)
        if not ok:
            if self._task.done() and self._task.exception() is not None:
                exc = self._task.exception()
                await self.stop()
                raise CodeError(str(exc))
            why = self.link.last_error or "no answer"
            await self.stop()
            raise CodeError(f"cannot reach the class broker at {self.address}: {why}")

    async def _tick_loop(self) -> None:
        while not self._stop.is_set():
            self.core.tick()
            await self.core.clock.sleep(0.25)

    async def stop(self) -> None:
        self._stop.set()
        self.link.stop()
        for t in (self._task, self._ticker):
            if t is not None and not t.done():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(t, 5)
        if self.broker is not None:
            await self.broker.stop()
        if self.core.record is not None:
            self.core.record.close()
