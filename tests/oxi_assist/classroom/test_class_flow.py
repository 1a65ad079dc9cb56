"""A class on real parts: the embedded broker, the trainer and stations on real MQTT
connections, real Sessions with the simulator. Commands reach one station or all; actions reach
the board and the record; a station that dies is shown lost within 5 s and, when it rejoins,
gets its patient and its guidance back; a broker restart and 10 % message loss lose no event."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess

import pytest

from oxi_assist.actions import Action
from oxi_assist.classroom.board import Connection
from oxi_assist.classroom.link import LossyFilter
from oxi_assist.classroom.messages import CommandName, EventKind, Phase

from .conftest import Class, spawn_station, until


def _events(k: Class, sid: str, kind: EventKind) -> list[str]:
    return [e.name for e in k.core.events(sid) if e.kind is kind]


async def test_commands_to_one_station_and_to_all(klass: Class) -> None:
    a = await klass.add("Ann")
    b = await klass.add("Bob")
    klass.core.start()
    await until(lambda: a.core.patient is not None and b.core.patient is not None,
                what="both patients started")
    klass.core.pause(station="ann")
    await until(lambda: a.core.phase is Phase.PAUSED, what="ann paused")
    await asyncio.sleep(0.3)
    assert b.core.phase is Phase.RUNNING and not b.core.patient.paused
    assert a.core.patient.paused
    klass.core.speed(5.0)
    await until(lambda: a.core.speed == 5.0 and b.core.speed == 5.0, what="speed on both")
    klass.core.cue(CommandName.FINGER_OUT, 20, station="bob")
    await until(lambda: any(x.name == "finger_out" for x in b.core.patient.session.actions),
                what="finger out at bob")
    assert not any(x.name == "finger_out" for x in a.core.patient.session.actions)
    # each station says what it applied, in order, once ("start" only if it was waiting in
    # the lobby when it came: a station that decides later starts from the class state)
    def applied(sid: str) -> list[str]:
        return [c for c in _events(klass, sid, EventKind.COMMAND) if c != "start"]

    await until(lambda: applied("bob") == ["speed", "finger_out"], what="bob's commands")
    await until(lambda: applied("ann") == ["pause", "speed"], what="ann's commands")


async def test_actions_reach_the_board_and_the_debrief(klass: Class) -> None:
    a = await klass.add("Ann")
    klass.core.start()
    await until(lambda: a.core.patient is not None)
    assert a.core.act(Action.UNRESPONSIVE) == ""
    a.core.act(Action.CALLED_911)
    a.core.act(Action.BREATHS_START)
    a.core.act(Action.NALOXONE, route="im")
    a.core.act(Action.NALOXONE, route="im")  # a second dose at once: a deviation
    row = klass.core.board.rows["ann"]
    await until(lambda: row.doses == 2 and row.t_911 is not None and row.t_breaths is not None)
    assert row.t_naloxone is not None and row.t_naloxone >= row.t_911
    assert klass.core.latency.action_to_board_ms  # measured on arrival
    deb = klass.core.debrief()
    (s,) = deb.stations
    assert s.doses == 2 and [d.rule for d in s.deviations] == ["second_dose_early"]
    assert a.core.outbox == 0 or await until(lambda: a.core.outbox == 0)


async def test_station_cannot_act_before_the_start(klass: Class) -> None:
    a = await klass.add("Ann")
    assert a.core.act(Action.CALLED_911) == "the class has not started yet"


async def test_broker_restart_loses_no_event(klass: Class) -> None:
    a = await klass.add("Ann")
    klass.core.start()
    await until(lambda: a.core.patient is not None)
    a.core.act(Action.CALLED_911)
    await klass.node.broker.stop()
    await until(lambda: not a.link.connected, what="station notices the broker gone")
    a.core.act(Action.BREATHS_START)  # while the broker is down
    a.core.act(Action.NALOXONE, route="nasal")
    await klass.node.broker.start()
    took = await until(lambda: a.link.connected and klass.node.link.connected, 5.0,
                       "both back")
    assert took <= 5.0
    await until(lambda: a.core.outbox == 0, what="every event acknowledged")
    acts = _events(klass, "ann", EventKind.ACTION)
    assert acts == ["911", "breaths", "naloxone"]
    seqs = [e.seq for e in klass.core.events("ann")]
    assert seqs == list(range(1, len(seqs) + 1))  # all of them, in order, once
    # the retained messages the restart wiped are back (presence and the saved state)
    await until(lambda: klass.core.board.rows["ann"].connection is Connection.ONLINE)


async def test_ten_percent_loss_still_delivers_every_event(klass: Class) -> None:
    loss = LossyFilter(0.10, seed=7)
    a = await klass.add("Lossy", loss=loss)
    klass.core.start()
    await until(lambda: a.core.patient is not None, 15)
    for _ in range(10):
        a.core.act(Action.BREATH_TAP)
        a.core.act(Action.CALLED_911)
    for i in range(5):
        klass.core.speed(float(10 + i))
    await until(lambda: a.core.speed == 14.0, 15, "every command applied, in order")
    await until(lambda: a.core.outbox == 0, 20, "every event acknowledged")
    seqs = [e.seq for e in klass.core.events("lossy")]
    assert seqs == list(range(1, a.core.event_seq + 1))
    assert loss.dropped_in + loss.dropped_out > 0  # loss really happened
    assert _events(klass, "lossy", EventKind.COMMAND)[-5:] == ["speed"] * 5


def _kill(p: subprocess.Popen[str]) -> None:
    os.kill(p.pid, signal.SIGKILL)
    p.wait(10)


async def _line(p: subprocess.Popen[str], prefix: str, timeout: float = 20) -> str:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        line = await asyncio.wait_for(loop.run_in_executor(None, p.stdout.readline), timeout)
        if line.startswith(prefix):
            return line.strip()
        if not line and p.poll() is not None:
            break
    raise AssertionError(f"no {prefix!r} line from the station")


async def test_killed_station_is_lost_within_5_s_and_rejoins_as_it_was(klass: Class) -> None:
    p = spawn_station(klass.port, "Kim")
    try:
        await until(lambda: "kim" in klass.core.board.rows, 20, "kim on the board")
        klass.core.start()
        await _line(p, "started")
        for line in ("unresponsive", "911", "breaths", "naloxone route=nasal"):
            p.stdin.write(line + "\n")
            p.stdin.flush()
        row = klass.core.board.rows["kim"]
        await until(lambda: row.doses == 1 and row.t_breaths is not None, 10)
        await asyncio.sleep(2.5)  # the station saves its state as it goes
        before = (row.step, row.doses, row.t_911, row.t_breaths, row.t_naloxone)
        t_before = row.t
        _kill(p)
        lost_in = await until(lambda: row.connection is Connection.LOST, 5.0, "kim lost")
        assert lost_in <= 5.0
        p = spawn_station(klass.port, "Kim")
        restored = await _line(p, "restored")
        assert "actions=4" in restored
        await until(lambda: row.connection is Connection.ONLINE and row.rejoins == 1, 10)
        await until(lambda: row.t > t_before, 10, "the patient runs on from where it was")
        assert (row.step, row.doses) == before[:2]
        # each action is replayed at the first reading at or after its time (readings come
        # every 0.25 s of the patient's time)
        assert (row.t_911, row.t_breaths, row.t_naloxone) == pytest.approx(before[2:], abs=0.26)
        # the events carry on numbered after the ones the trainer has
        p.stdin.write("ems\n")
        p.stdin.flush()
        await until(lambda: "ems" in _events(klass, "kim", EventKind.ACTION), 10)
        seqs = [e.seq for e in klass.core.events("kim")]
        assert seqs == list(range(1, len(seqs) + 1))
    finally:
        if p.poll() is None:
            _kill(p)
        p.stdout.close()
        p.stdin.close()


async def test_station_on_a_real_oximeter_sends_its_state_not_its_numbers(
        klass: Class) -> None:
    """A station overlaying the virtual serial oximeter on a real pty: the board learns the
    device's finger state; the SpO2 it shows is the scenario's (or none while the finger is
    out), never the device's."""
    import math

    from drivers.clock import RealClock
    from drivers.reading import Reading, Status
    from simulators.virtual_serial import VirtualSerialOximeter, pty_supported

    if not pty_supported():
        pytest.skip("needs a POSIX pty")
    wave = tuple(50 + 40 * math.sin(2 * math.pi * i / 30) for i in range(60))
    flat = (0.0,) * 60
    readings = [Reading(t=float(i), spo2=81, pulse=151, pi=3.0, pleth=wave, pleth_rate=60.0)
                if i < 5 else
                Reading(t=float(i), status=Status.FINGER_OUT, pleth=flat, pleth_rate=60.0)
                for i in range(60)]
    dev = VirtualSerialOximeter("cms50-legacy", readings, clock=RealClock())
    path = dev.start()
    try:
        a = await klass.add("Oona", overlay_uri=f"serial:{path}?protocol=cms50-legacy")
        klass.core.start()
        row = klass.core.board.rows["oona"]
        await until(lambda: row.device == "finger in" and row.spo2 is not None, 15,
                    "the device on the finger, the scenario's SpO2 on the board")
        assert row.spo2 != 81
        await until(lambda: row.device == "finger out", 15, "the finger out on the board")
        await until(lambda: row.spo2 is None, 10, "no reading while the finger is out")
        v = a.core.patient.session.vitals
        assert v is not None and v.spo2 != 81
    finally:
        dev.stop()
