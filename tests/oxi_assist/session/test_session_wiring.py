"""The session with the real Monitor and guide: alarms recorded at the times the rules define,
the guide's log recorded, and the guidance going on when the oximeter fails."""

from __future__ import annotations

import asyncio

import pytest

from drivers.clock import VirtualClock
from drivers.formats import load
from drivers.reading import LinkEvent, LinkState, Reading, Status
from oxi_assist.actions import Action
from oxi_assist.debrief import summarize
from oxi_assist.guide.engine import Guide
from oxi_assist.guide.schema import load as load_guidance
from oxi_assist.monitor.monitor import Monitor
from oxi_assist.recordings import open_writer
from oxi_assist.session import Session


@pytest.fixture(scope="module")
def protocol():
    return load_guidance(None)


def _spo2(i: int) -> float | None:
    """97 % for 30 s, falling 1 %/s to 75 %, then finger out from 90 s."""
    if i < 30:
        return 97.0
    if i < 90:
        return max(75.0, 97.0 - (i - 30))
    return None


def _session(tmp_path, protocol, clock):
    w = open_writer("sim:test", clock, base=tmp_path)
    m = Monitor()
    g = Guide(protocol, clock)
    return Session(clock=clock, monitor=m, guide=g, writer=w, source_label="sim:test"), m, w


def test_alarms_are_recorded_at_rule_times_and_match_the_monitor(tmp_path, protocol):
    clock = VirtualClock(start=50.0)
    s, m, w = _session(tmp_path, protocol, clock)
    for i in range(120):
        clock.advance(1)
        sp = _spo2(i)
        s.on_item(Reading(t=clock.now(), spo2=sp, pulse=70 if sp else None,
                          status=Status.NONE if sp else Status.FINGER_OUT))
        if i == 40:
            s.on_action(Action.CALLED_911)
        if i == 50:
            s.on_action(Action.NALOXONE, route="im")
        if i % 4 == 0:
            s.tick()
    for _ in range(40):  # the oximeter goes quiet: no_data comes from ticks alone
        clock.advance(1)
        s.tick()
    s.close()
    rec = load(w.path)
    assert len([r for r in rec.readings]) == 120
    raised = [(a["kind"], a["t"]) for a in rec.alarms if a["state"] == "raised"]
    cleared = [(a["kind"], a["t"]) for a in rec.alarms if a["state"] == "cleared"]
    want_raised = [(h.kind, h.start - 50.0) for h in m.history]
    want_cleared = [(h.kind, h.end - 50.0) for h in m.history if h.end is not None]
    assert sorted(raised) == sorted(want_raised)
    assert sorted(cleared) == sorted(want_cleared)
    kinds = {k for k, _ in raised}
    assert {"spo2_low", "spo2_severe", "finger_out", "no_data"} <= kinds
    # the alarm that needs no data at all was raised by tick(), while nothing arrived
    assert any(k == "no_data" and t > 120 for k, t in raised)
    # the guide's own log (its steps and prompts) went to the file; the responder's actions
    # are recorded once, by the session, not echoed by the guide
    guide_lines = [e for e in rec.events if e.get("by") == "guide"]
    assert any(e["kind"] == "step" and e["text"] == "A: Airway" for e in guide_lines)
    assert not any("naloxone dose" in e["text"].lower() for e in guide_lines)
    assert [e["name"] for e in rec.events if e.get("by") == "responder"] == ["911", "naloxone"]
    summ = summarize(rec)
    assert summ.t_911 == 41 and summ.t_naloxone == 51 and summ.doses == 1
    assert summ.lowest_spo2 == 75
    # the screen's state: the guide saw the actions, the monitor's state is the latest
    assert s.guide_state.called_911 and s.guide_state.doses == 1
    assert s.vitals is m.state
    # the live log lists alarms in order with the session time base
    alarm_lines = [ln for ln in s.log if ln.kind == "alarm"]
    assert alarm_lines and all(0 <= ln.t <= 160 for ln in alarm_lines)


def test_trend_holds_smoothed_values_and_gaps(tmp_path, protocol):
    clock = VirtualClock()
    s, _m, _ = _session(tmp_path, protocol, clock)
    for i in range(100):
        clock.advance(1)
        sp = _spo2(i)
        s.on_item(Reading(t=clock.now(), spo2=sp, pulse=70 if sp else None,
                          status=Status.NONE if sp else Status.FINGER_OUT))
    t, spo2, _pulse, raw = s.trend.arrays()
    assert len(t) == 100 and t[0] == 1.0
    assert spo2[-1] != spo2[-1]  # NaN: finger out is a gap, never the last good number
    assert raw[20] == 97.0 and abs(spo2[20] - 97.0) < 0.5
    s.close()


async def test_source_fails_mid_run_guide_keeps_working(tmp_path, protocol):
    clock = VirtualClock()
    s, _m, w = _session(tmp_path, protocol, clock)

    async def source():
        yield LinkEvent(clock.now(), LinkState.CONNECTED, device="Test PC-60F 1A:2B")
        for _i in range(20):
            await clock.sleep(1.0)
            yield Reading(t=clock.now(), spo2=96.0, pulse=72.0)
        raise ConnectionError("device disconnected")

    class Src:
        name = "test"

        def __aiter__(self):
            return source()

        async def close(self):
            pass

    task = asyncio.create_task(s.run(Src(), tick_every=0.5, stay=True))
    await clock.run_for(25.0)
    assert s.link is LinkState.LOST and s.error == "device disconnected"
    s.on_action(Action.NALOXONE)
    t_dose = clock.now()
    await clock.run_for(240.0)  # four minutes with no oximeter at all
    st = s.guide_state
    timer = next(x for x in st.timers if x.id.startswith("naloxone"))
    assert timer.elapsed == pytest.approx(clock.now() - t_dose, abs=0.6)
    assert st.t == pytest.approx(clock.now(), abs=0.6)
    s.stop()
    await asyncio.wait_for(task, 1.0)
    s.close()
    rec = load(w.path)
    assert [e.state for e in rec.links] == [LinkState.CONNECTED, LinkState.LOST]
    assert rec.links[0].device == "Test PC-60F 1A:2B"
    assert any(a["kind"] == "link_lost" and a["state"] == "raised" for a in rec.alarms)
    assert not rec.interrupted


async def test_guidance_only_session_runs_timers_without_a_device(tmp_path, protocol):
    clock = VirtualClock()
    w = open_writer("", clock, base=tmp_path)
    s = Session(clock=clock, guide=Guide(protocol, clock), writer=w)
    assert w.path.name.endswith("-guide.jsonl")
    task = asyncio.create_task(s.run(None, tick_every=0.25))
    s.on_action(Action.UNRESPONSIVE)
    s.on_action(Action.CALLED_911)
    s.on_action(Action.BREATHS_START)
    await clock.run_for(30.0)
    st = s.guide_state
    assert s.vitals is None and st.called_911 and st.breaths_on
    metronome = [x for x in st.timers if x.id == "metronome"]
    assert metronome and (metronome[0].beat or 0) >= 5
    s.stop()
    await asyncio.wait_for(task, 1.0)
    s.close()
    summ = summarize(load(w.path))
    assert summ.t_911 == 0 and summ.lowest_spo2 is None


def test_acknowledge_and_pause_are_recorded(tmp_path, protocol):
    clock = VirtualClock()
    s, _m, w = _session(tmp_path, protocol, clock)
    for i in range(60):
        clock.advance(1)
        s.on_item(Reading(t=clock.now(), spo2=97.0 if i < 5 else 80.0, pulse=70.0))
    assert s.vitals.alarms
    s.acknowledge()
    s.pause_alarms(300)
    assert s.vitals.paused_until == pytest.approx(clock.now() + 120.0)
    s.close()
    rec = load(w.path)
    assert any(a["state"] == "acknowledged" for a in rec.alarms)
    names = [e["name"] for e in rec.events]
    assert "alarms_acknowledged" in names and "alarm:paused" in names
