"""The station and trainer cores without the network, on a virtual clock: ordering and
de-duplication of commands and events, resends, the silence timeout, the lobby, and the
restore of a patient from a saved state (the same step, doses and actions)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from drivers.clock import VirtualClock
from oxi_assist.actions import Action
from oxi_assist.classroom.board import Connection
from oxi_assist.classroom.messages import (
    Ack,
    Channel,
    ClassState,
    Command,
    CommandName,
    EventKind,
    Phase,
    Presence,
    PresenceState,
    StationEvent,
    StationStatus,
    decode,
    encode,
)
from oxi_assist.classroom.patient import Patient
from oxi_assist.classroom.station import RESTORE_WAIT, StationCore, StationOptions
from oxi_assist.classroom.topics import TopicKind, Topics
from oxi_assist.classroom.trainer import LOST_AFTER, ClassSetup, TrainerCore

T = Topics("c0ffee0000")


@dataclass
class Wire:
    """A publisher that keeps what was published."""

    sent: list[tuple[str, bytes, bool]] = field(default_factory=list)

    def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> bool:
        self.sent.append((topic, payload, retain))
        return True

    def of(self, topic: str) -> list[bytes]:
        return [p for t, p, _ in self.sent if t == topic]


def trainer() -> tuple[TrainerCore, Wire, VirtualClock]:
    clock, wire = VirtualClock(), Wire()
    return TrainerCore(T, ClassSetup("opioid-overdose"), clock, wire), wire, clock


def ev(seq: int, name: str = "911", kind: EventKind = EventKind.ACTION) -> bytes:
    return encode(StationEvent(seq, float(seq), kind, name))


def test_trainer_takes_events_once_in_order_and_acks() -> None:
    core, wire, _ = trainer()
    topic = T.station("ann", TopicKind.EVENT)
    for seq in (1, 3, 2, 2, 5, 4, 1):
        core.on_message(topic, ev(seq, f"e{seq}"))
    assert [e.seq for e in core.events("ann")] == [1, 2, 3, 4, 5]
    assert core.duplicates == 2
    acks = [decode(TopicKind.ACK, p).seq for p in wire.of(T.ack("ann"))]
    assert acks == [1]  # the first at once; the burst's next at the tick
    core.tick()
    acks = [decode(TopicKind.ACK, p).seq for p in wire.of(T.ack("ann"))]
    assert acks == [1, 5]
    core.tick()
    assert len(wire.of(T.ack("ann"))) == 2  # nothing new: no ack


def test_trainer_marks_a_silent_station_lost_then_back() -> None:
    core, _, clock = trainer()
    status = encode(StationStatus("Ann", Phase.RUNNING))
    core.on_message(T.station("ann", TopicKind.STATUS), status)
    row = core.board.rows["ann"]
    clock.advance(LOST_AFTER - 0.5)
    core.tick()
    assert row.connection is Connection.ONLINE
    clock.advance(1.0)
    core.tick()
    assert row.connection is Connection.LOST
    core.on_message(T.station("ann", TopicKind.STATUS), status)
    assert row.connection is Connection.ONLINE and row.rejoins == 1
    core.on_message(T.station("ann", TopicKind.PRESENCE), encode(Presence(PresenceState.LOST)))
    assert row.connection is Connection.LOST
    core.on_message(T.station("ann", TopicKind.PRESENCE), encode(Presence(PresenceState.LEFT)))
    assert row.connection is Connection.LEFT


def test_trainer_resends_what_a_station_missed() -> None:
    core, wire, clock = trainer()
    core.on_message(T.station("ann", TopicKind.STATUS), encode(StationStatus("Ann",
                                                                             Phase.LOBBY)))
    core.start()
    core.speed(5.0)
    core.pause(station="ann")
    wire.sent.clear()
    clock.advance(2.0)
    # ann has applied the first all-stations command only and none of its own
    core.on_message(T.station("ann", TopicKind.STATUS),
                    encode(StationStatus("Ann", Phase.RUNNING, cmd_all=1, cmd_own=0)))
    resent = [decode(TopicKind.COMMAND, p) for p in wire.of(T.cmd("ann"))]
    assert [(c.channel, c.seq, c.name) for c in resent] == [
        (Channel.ALL, 2, CommandName.SPEED), (Channel.OWN, 1, CommandName.PAUSE)]
    wire.sent.clear()
    core.on_message(T.station("ann", TopicKind.STATUS),
                    encode(StationStatus("Ann", Phase.RUNNING, cmd_all=1, cmd_own=0)))
    assert wire.of(T.cmd("ann")) == []  # at most once a RESEND_S
    # the class state a late station starts from says where the class is
    st = core.state
    assert st.phase is Phase.RUNNING and st.speed == 5.0 and st.cmd_seq == 2


def station(clock: VirtualClock) -> tuple[StationCore, Wire]:
    wire = Wire()
    return StationCore(T, "ann", StationOptions("Ann", record=False), clock, wire), wire


def cmd(seq: int, name: CommandName, value: float | None = None,
        channel: Channel = Channel.ALL) -> bytes:
    return encode(Command(seq, channel, name, value))


async def test_station_applies_commands_once_in_order_and_holds_early_ones() -> None:
    clock = VirtualClock()
    core, _ = station(clock)
    core.on_connect()
    core.on_message(T.class_state, encode(ClassState(Phase.LOBBY, "opioid-overdose")))
    clock.advance(RESTORE_WAIT)
    core.tick()
    assert core.decided and core.phase is Phase.LOBBY and core.patient is None
    core.on_message(T.cmd_all, cmd(3, CommandName.SPEED, 7.0))  # early: held
    core.on_message(T.cmd_all, cmd(2, CommandName.PAUSE))  # early: held
    assert core.patient is None and core.cmd_seq[Channel.ALL] == 0
    core.on_message(T.class_state, encode(ClassState(Phase.RUNNING, "opioid-overdose",
                                                     cmd_seq=1)))
    core.on_message(T.cmd_all, cmd(1, CommandName.START))
    assert core.patient is not None and core.cmd_seq[Channel.ALL] == 3
    assert core.phase is Phase.PAUSED and core.speed == 7.0 and core.patient.paused
    core.on_message(T.cmd_all, cmd(2, CommandName.PAUSE))
    assert core.counters.commands_repeated == 1
    # a station's own command is refused on the all-stations topic
    core.on_message(T.cmd_all, cmd(1, CommandName.RESUME, channel=Channel.OWN))
    assert core.counters.rejected.total == 1 and core.phase is Phase.PAUSED
    core.on_message(T.cmd("ann"), cmd(1, CommandName.RESUME, channel=Channel.OWN))
    assert core.phase is Phase.RUNNING
    await core.close()


async def test_station_resends_events_until_acked() -> None:
    clock = VirtualClock()
    core, wire = station(clock)
    core.on_connect()
    core.on_message(T.class_state, encode(ClassState(Phase.RUNNING, "opioid-overdose")))
    clock.advance(RESTORE_WAIT)
    core.tick()
    await clock.run_for(5)
    assert core.act(Action.CALLED_911) == ""
    n = core.event_seq
    topic = T.station("ann", TopicKind.EVENT)
    first = len(wire.of(topic))
    clock.advance(1.5)
    core.tick()
    assert len(wire.of(topic)) == first + core.outbox  # every unacked event went again
    core.on_message(T.ack("ann"), encode(Ack(n)))
    assert core.outbox == 0
    before = len(wire.of(topic))
    clock.advance(1.5)
    core.tick()
    assert len(wire.of(topic)) == before  # nothing left to resend
    await core.close()


async def test_restore_rebuilds_the_same_patient_and_guidance() -> None:
    clock = VirtualClock()
    p = Patient("opioid-overdose", seed=4, clock=clock, record=False)
    p.start()
    plan = [(30.0, Action.UNRESPONSIVE, {}), (40.0, Action.CALLED_911, {}),
            (50.0, Action.BREATHS_START, {}), (95.0, Action.NALOXONE, {"route": "im"}),
            (130.0, Action.BREATHING_NOT_NORMAL, {})]
    for t, a, params in plan:
        await clock.run_until(t)
        p.act(a, **params)
    p.act("finger_out", seconds=10.0)
    await clock.run_until(200.0)
    saved = p.saved_actions()
    g0 = p.session.guide_state
    v0 = p.session.vitals
    q = await Patient.restore("opioid-overdose", seed=4, real=VirtualClock(), until=p.t,
                              actions=saved, record=False)
    g1 = q.session.guide_state
    assert g1.step.id == g0.step.id and g1.doses == g0.doses == 1
    assert [a.name for a in q.session.actions] == [a.name for a in p.session.actions]
    for a, b in zip(q.session.actions, p.session.actions, strict=True):
        assert abs(a.t - b.t) <= 0.26
    assert abs(q.t - p.t) <= 0.26
    assert q.session.vitals.spo2 is not None and v0.spo2 is not None
    assert abs(q.session.vitals.spo2 - v0.spo2) < 2.0  # the same patient, not a fresh one
    await p.close("done")
    await q.close("done")


async def test_restored_clock_runs_on_in_real_time() -> None:
    real = VirtualClock(start=1000.0)
    q = await Patient.restore("opioid-overdose", seed=1, real=real, until=60.0, actions=(),
                              record=False)
    t = q.t
    assert 59.0 <= t <= 61.0
    await real.run_for(10.0)
    assert 9.0 <= q.t - t <= 11.0  # after the hand-over, patient time follows the clock
    await q.close("done")
    await asyncio.sleep(0)


async def test_station_replaces_an_older_copy_of_its_saved_state() -> None:
    """After a broker restart the trainer republishes the last state it saw of each station;
    a station that has moved on since puts its own back, so a rejoin finds the newest."""
    clock = VirtualClock(wall_start=1_700_000_000.0)
    core, wire = station(clock)
    core.on_connect()
    core.on_message(T.class_state, encode(ClassState(Phase.RUNNING, "opioid-overdose")))
    clock.advance(RESTORE_WAIT)
    core.tick()
    await clock.run_for(3)
    topic = T.station("ann", TopicKind.STATE)
    old = wire.of(topic)[-1]
    clock.advance(0.5)
    core.act(Action.CALLED_911)
    core.tick()
    newest = wire.of(topic)[-1]
    assert "911" in [a.name for a in decode(TopicKind.STATE, newest).actions]
    n = len(wire.of(topic))
    core.on_message(topic, newest)  # our own copy echoed: nothing to do
    clock.advance(0.3)
    core.tick()
    assert len(wire.of(topic)) == n
    core.on_message(topic, old)  # an older copy on the broker: ours goes back at once
    clock.advance(0.25)
    core.tick()
    assert len(wire.of(topic)) == n + 1
    assert "911" in [a.name for a in decode(TopicKind.STATE, wire.of(topic)[-1]).actions]
    await core.close()
