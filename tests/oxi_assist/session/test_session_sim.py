"""The session on the real simulator: scenario time kept at any speed, responder actions reach
the patient model, a paused simulation pauses the session's time."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from drivers.clock import VirtualClock
from drivers.formats import load
from drivers.reading import LinkState
from oxi_assist.actions import Action
from oxi_assist.debrief import summarize
from oxi_assist.guide.engine import Guide
from oxi_assist.guide.schema import load as load_guidance
from oxi_assist.monitor.monitor import Monitor
from oxi_assist.recordings import open_writer
from oxi_assist.session import Session
from oxi_assist.uris import open_source


@pytest.fixture(scope="module")
def protocol():
    return load_guidance(None)


def _start(tmp_path, protocol, uri, clock):
    src = open_source(uri, clock)
    w = open_writer(uri, clock, base=tmp_path)
    s = Session(clock=clock, monitor=Monitor(), guide=Guide(protocol, clock), writer=w,
                source_label=uri, controllable=src)
    return s, src, w


async def test_treated_overdose_at_speed_10_keeps_scenario_time(tmp_path, protocol):
    clock = VirtualClock(start=5000.0)  # the clock's base is not the scenario's
    uri = "sim:opioid-overdose?speed=10&pleth=0&chunk=1&duration=8m"
    s, src, w = _start(tmp_path, protocol, uri, clock)
    task = asyncio.create_task(s.run(src, tick_every=0.25))
    await clock.run_for(6.0)  # one scenario minute
    s.on_action(Action.CALLED_911)
    at_911 = src.t  # scenario seconds of the last item handed out
    await clock.run_for(6.0)
    s.on_action(Action.BREATHS_START)
    s.on_action(Action.NALOXONE, route="im")
    at_naloxone = src.t
    await clock.run_for(40.0)
    assert await asyncio.wait_for(task, 1.0) == "closed"
    s.close()
    rec = load(w.path)
    t, spo2, _ = rec.arrays()
    # the recording is in scenario seconds, one reading a second, nothing lost
    assert len(t) == 480 and np.all(np.diff(t) > 0)
    assert t[0] == pytest.approx(1.0, abs=0.01) and t[-1] == pytest.approx(480.0, abs=0.01)
    summ = summarize(rec)
    # actions are stamped in scenario time, whatever the clock's base and the speed
    assert 55 <= at_911 <= 61 and 115 <= at_naloxone <= 121
    assert summ.t_911 == pytest.approx(at_911, abs=1.0)
    assert summ.t_naloxone == pytest.approx(at_naloxone, abs=1.0)
    # treated: the scenario's own expectation (SpO2 ≥ 90 % from 6 min on)
    assert np.nanmin(spo2[t >= 360]) >= 90
    assert summ.lowest_spo2 is not None and summ.lowest_spo2 < 90
    # the simulator got the interventions, at the scenario times the responder acted
    applied = {name: at for at, name, _ in src.sim.log}
    assert applied["naloxone"] == pytest.approx(summ.t_naloxone, abs=1.0)
    assert "breaths_on" in applied
    # data came every second: no false "no data" while the source ran at ten times speed
    assert not any(a["kind"] in ("no_data", "stale") for a in rec.alarms)
    assert [e.state for e in rec.links] == [LinkState.CONNECTING, LinkState.CONNECTED,
                                            LinkState.CLOSED]


async def test_paused_simulation_pauses_session_time(tmp_path, protocol):
    clock = VirtualClock()
    s, src, w = _start(tmp_path, protocol, "sim:baseline?pleth=0&chunk=1", clock)
    task = asyncio.create_task(s.run(src, tick_every=0.25))
    await clock.run_for(20.0)
    src.pause()
    await clock.run_for(1.0)
    e0 = s.elapsed()
    await clock.run_for(60.0)  # a trainer's pause of a minute
    assert s.elapsed() == pytest.approx(e0, abs=0.3)
    assert not any(a.kind == "no_data" for a in s.vitals.alarms)
    src.resume()
    await clock.run_for(10.0)
    assert s.elapsed() == pytest.approx(e0 + 10.0, abs=1.5)
    s.stop()
    await asyncio.wait_for(task, 1.0)
    s.close()
    rec = load(w.path)
    assert not any(a["kind"] == "no_data" for a in rec.alarms)


@pytest.mark.parametrize("speed", [1, 10, 20])
async def test_replay_of_a_real_capture_records_every_reading(tmp_path, vectors, speed):
    """At any speed the session records the recording's own time: the 3:32 file is a 3:32
    session, as a simulation at 10× is recorded in scenario time."""
    clock = VirtualClock()
    path = vectors / "contec-cms50e-live.SpO2"
    uri = f"replay:{path}?speed={speed}"
    src = open_source(uri, clock)
    w = open_writer(uri, clock, base=tmp_path)
    s = Session(clock=clock, monitor=Monitor(), writer=w, source_label=uri)
    task = asyncio.create_task(s.run(src, tick_every=0.25))
    await clock.run_for(212.0 / speed + 3.0)
    assert await asyncio.wait_for(task, 1.0) == "closed"
    s.close()
    orig, rec = load(path), load(w.path)
    t0, spo2_0, pulse_0 = orig.arrays()
    t1, spo2_1, pulse_1 = rec.arrays()
    assert len(t1) == len(t0)
    np.testing.assert_array_equal(spo2_1, spo2_0)
    np.testing.assert_array_equal(pulse_1, pulse_0)
    np.testing.assert_allclose(np.diff(t1), np.diff(t0), atol=1e-6)
    assert t1[-1] - t1[0] == pytest.approx(211.0, abs=1e-6)  # 3:32 of readings at any speed
    # and the session around them: the file's 3:32 plus the seconds the test waited after it
    assert 212.0 <= summarize(rec).duration <= 212.0 + 3.5


async def test_cancelling_run_is_not_swallowed(tmp_path, protocol):
    clock = VirtualClock()
    s, src, _ = _start(tmp_path, protocol, "sim:baseline?pleth=0", clock)
    task = asyncio.create_task(s.run(src, tick_every=0.25))
    await clock.run_for(2.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not s.running
    s.close()


async def test_arrest_and_cpr_are_recorded_in_scenario_time(tmp_path, protocol):
    clock = VirtualClock(start=100.0)
    uri = "sim:opioid-overdose?speed=20&pleth=0&chunk=1&duration=15m"
    s, src, w = _start(tmp_path, protocol, uri, clock)
    task = asyncio.create_task(s.run(src, tick_every=0.25))
    await clock.run_for(420 / 20)  # seven scenario minutes: the heart has stopped
    assert src.state.arrested
    s.on_action(Action.NO_PULSE)
    s.on_action(Action.COMPRESSIONS_START)
    s.on_action(Action.BREATHS_START)
    await clock.run_for(480 / 20 + 2)
    assert await asyncio.wait_for(task, 1.0) == "closed"
    s.close()
    rec = load(w.path)
    by_sim = [e for e in rec.events if e.get("by") == "simulator"]
    assert [e["name"] for e in by_sim] == ["cardiac_arrest", "circulation_returned"]
    # stamped where the simulator put them (scenario seconds), not where the clock was
    assert [e["t"] for e in by_sim] == pytest.approx([ev.t for ev in src.sim.events], abs=1.0)
    # the compressions reached the patient: no refused action
    assert not any(e["name"] == "inject_failed" for e in rec.events)
    assert [n for _, n, _ in src.sim.log if n.startswith("compressions")] == ["compressions_on"]
    # the responder's log does not announce the arrest: they find it on the person
    assert not any("arrest" in ln.text for ln in s.log)
