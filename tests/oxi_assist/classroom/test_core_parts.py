"""The parts the station and trainer cores are built from, on their own: the order in which
commands are applied, the outbox of unacknowledged events, the report schedule, a station's
event log as the trainer takes it, and the class state a command leads to."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from drivers.clock import VirtualClock
from oxi_assist.classroom import messages as m
from oxi_assist.classroom.class_commands import check_value, state_after
from oxi_assist.classroom.codes import CodeError
from oxi_assist.classroom.station_commands import MAX_PENDING, CommandOrder
from oxi_assist.classroom.station_log import StationLog
from oxi_assist.classroom.station_outbox import RESEND_S, EventOutbox, StationCounters
from oxi_assist.classroom.station_reports import STATE_MIN_S, STATUS_EVERY, ReportSchedule


@dataclass
class Wire:
    sent: list[tuple[str, bytes]] = field(default_factory=list)

    def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> bool:
        self.sent.append((topic, payload))
        return True


def cmd(seq: int, name: m.CommandName = m.CommandName.PAUSE, channel: m.Channel = m.Channel.ALL,
        value: float | None = None) -> m.Command:
    return m.Command(seq, channel, name, value)


def test_commands_wait_for_the_ones_before_and_repeats_are_dropped() -> None:
    order = CommandOrder(StationCounters())
    order.last[m.Channel.ALL] = 0
    order.offer(cmd(2), own_topic=False)
    assert list(order.ready(can_start=True)) == []  # 1 is missing
    order.offer(cmd(1), own_topic=False)
    assert [c.seq for c in order.ready(can_start=True)] == [1, 2]
    order.offer(cmd(2), own_topic=False)
    assert order.counters.commands_repeated == 1 and list(order.ready(can_start=True)) == []


def test_a_start_waits_until_the_station_can_start() -> None:
    order = CommandOrder(StationCounters())
    order.last[m.Channel.ALL] = 0
    order.offer(cmd(1, m.CommandName.START), own_topic=False)
    assert list(order.ready(can_start=False)) == []
    assert [c.name for c in order.ready(can_start=True)] == [m.CommandName.START]


def test_an_own_command_on_the_all_topic_is_refused_and_pending_is_bounded() -> None:
    order = CommandOrder(StationCounters())
    order.offer(cmd(1, channel=m.Channel.OWN), own_topic=False)
    assert order.counters.rejected.total == 1
    for seq in range(2, MAX_PENDING + 10):
        order.offer(cmd(seq, channel=m.Channel.OWN), own_topic=True)
    assert len(order._pending) == MAX_PENDING


def test_outbox_resends_until_acknowledged_and_numbers_on_after_a_rejoin() -> None:
    clock, wire = VirtualClock(), Wire()
    out = EventOutbox("ev", clock, wire, StationCounters())
    out.add(m.EventKind.ACTION, "911", 1.0)
    out.add(m.EventKind.ACTION, "breaths", 2.0)
    assert len(out) == 2 and len(wire.sent) == 2
    out.resend()
    assert len(wire.sent) == 2  # not due yet
    clock.advance(RESEND_S)
    out.resend()
    assert len(wire.sent) == 4
    out.on_ack(1, rejoining=False)
    assert [e.seq for e in out.pending()] == [2]
    out.on_ack(7, rejoining=True)
    assert len(out) == 0 and out.add(m.EventKind.ACTION, "911", 3.0).seq == 8


def test_report_schedule_status_every_second_state_when_dirty_or_urgent() -> None:
    clock = VirtualClock()
    sched = ReportSchedule("st", "state", clock, Wire())
    assert sched.status_due() and not sched.state_due(running=False)
    sched.status_at = clock.now()
    sched.state_at = clock.now()
    sched.dirty = True
    assert not sched.status_due() and not sched.state_due(running=False)
    clock.advance(max(STATUS_EVERY, STATE_MIN_S))
    assert sched.status_due() and sched.state_due(running=False)
    sched.dirty, sched.urgent = False, True
    assert sched.state_due(running=False)


def ev(seq: int) -> m.StationEvent:
    return m.StationEvent(seq, float(seq), m.EventKind.ACTION, "911")


def test_station_log_takes_events_once_in_order() -> None:
    log = StationLog("ann")
    assert log.receive(ev(2)) == []
    assert [e.seq for e in log.receive(ev(1))] == [1, 2]
    assert log.receive(ev(2)) == [] and log.duplicates == 1
    assert [e.seq for e in log.events] == [1, 2] and log.contiguous == 2


def test_class_state_after_commands_and_value_checks() -> None:
    st = m.ClassState(m.Phase.LOBBY, "opioid-overdose", 0, False, 1.0, 0, "", "", 0.0)
    st = state_after(st, cmd(1, m.CommandName.START), 5.0)
    assert st.phase is m.Phase.RUNNING and st.cmd_seq == 1 and st.sent == 5.0
    st = state_after(st, cmd(2, m.CommandName.SPEED, value=5.0), 6.0)
    assert st.speed == 5.0 and st.phase is m.Phase.RUNNING
    assert state_after(st, cmd(3, m.CommandName.END), 7.0).phase is m.Phase.ENDED
    with pytest.raises(CodeError, match="takes no value"):
        check_value(m.CommandName.PAUSE, 1.0)
    with pytest.raises(CodeError, match="expected a value within"):
        check_value(m.CommandName.SPEED, 1000.0)
