"""The session's event log through a whole response with the real Monitor and guide: one plain
line per event (no ids, no `key=value`), no echo of a line already there, in time order; the
recorded file keeps its records; the response state reaches the Monitor's alarm priorities."""

from __future__ import annotations

import re

import pytest

from drivers.clock import VirtualClock
from drivers.formats import load
from drivers.reading import LinkEvent, LinkState, Reading, Status
from oxi_assist.actions import Action, log_line
from oxi_assist.guide.engine import Guide
from oxi_assist.guide.schema import load as load_guidance
from oxi_assist.monitor.monitor import Monitor
from oxi_assist.monitor.priority import Priority
from oxi_assist.recordings import open_writer
from oxi_assist.session import Session
from oxi_assist.session.log import LogKind, LogLine, SessionLog


@pytest.fixture(scope="module")
def protocol():  # type: ignore[no-untyped-def]
    return load_guidance(None)


def _response(tmp_path, protocol):  # type: ignore[no-untyped-def]
    """97 % for 20 s, a fall to 75 %, the finger out at 80 s; the responder finds the person
    unresponsive at 10 s, calls 911, starts breaths, gives naloxone, and EMS arrive at 120 s."""
    clock = VirtualClock()
    w = open_writer("sim:test", clock, base=tmp_path)
    s = Session(clock=clock, monitor=Monitor(), guide=Guide(protocol, clock), writer=w,
                source_label="sim:test")
    s.on_item(LinkEvent(clock.now(), LinkState.CONNECTED, device="Test (AA:BB)"))
    keys = {10: (Action.UNRESPONSIVE, {}), 15: (Action.CALLED_911, {}),
            25: (Action.BREATHS_START, {}), 40: (Action.NALOXONE, {"route": "im"}),
            70: (Action.NALOXONE, {"route": "nasal"}), 120: (Action.EMS_ARRIVED, {})}
    for i in range(1, 130):
        clock.advance(1)
        v = 97.0 if i < 20 else max(75.0, 97.0 - (i - 20))
        if 80 <= i < 100:
            s.on_item(Reading(t=clock.now(), status=Status.FINGER_OUT))
        else:
            s.on_item(Reading(t=clock.now(), spo2=v, pulse=70.0))
        if i in keys:
            action, params = keys[i]
            s.on_action(action, **params)
        s.tick()
    s.close()
    return s, w


def test_log_is_one_plain_line_per_event_in_time_order(tmp_path, protocol) -> None:  # type: ignore[no-untyped-def]
    s, _w = _response(tmp_path, protocol)
    lines = list(s.log)
    texts = [ln.text for ln in lines]
    assert [ln.t for ln in lines] == sorted(ln.t for ln in lines)
    # the actions read as the action table says, once each
    for want in ("No response to voice or touch", "911 called", "Rescue breaths started",
                 "Naloxone dose 1 (injection)", "Naloxone dose 2 (nasal spray)", "EMS arrived"):
        assert texts.count(want) == 1, want
    assert log_line(Action.NALOXONE, {"dose": 1, "route": "im"}) == "Naloxone dose 1 (injection)"
    # no ids, no parameter lists, no Monitor event names, no guide echo of an action or alarm
    for t in texts:
        assert not re.search(r"\w=\w|desat\d|_start|_end|spo2_|finger_out|alarm:", t), t
        assert not re.match(r"^[a-z0-9-]+: ", t), t  # a step id in front of its title
        assert not t.startswith(("high:", "medium:", "low:")), t
        assert t not in ("911", "naloxone dose 1 (injection)"), t
    assert not any(t.lower() == "911 called" and ln.kind == LogKind.GUIDE
                   for t, ln in zip(texts, lines, strict=True))
    # alarms in the wording the screen uses, each raise once
    # (low SpO2 is high priority: the response was under way)
    assert "Alarm (high): SpO2 low" in texts and "Alarm (high): SpO2 very low" in texts
    assert "Alarm ended: SpO2 low" in texts
    # guide steps without their ids
    assert "Call 911" in texts and not any(t.startswith("call-911") for t in texts)
    # the same event never twice at the same time
    keyed = [(round(ln.t, 3), ln.text) for ln in lines]
    assert len(keyed) == len(set(keyed))


def test_recorded_records_keep_their_names(tmp_path, protocol) -> None:  # type: ignore[no-untyped-def]
    """The file format is unchanged: desaturation events and alarm records as before, the
    guide's own log entries (all of them) as guide events."""
    _s, w = _response(tmp_path, protocol)
    rec = load(w.path)
    names = [e["name"] for e in rec.events]
    assert "desat3_start" in names and "desat4_start" in names
    assert {a["state"] for a in rec.alarms} >= {"raised", "cleared"}
    low = next(a for a in rec.alarms if a["kind"] == "spo2_low" and a["state"] == "raised")
    assert set(low) >= {"k", "t", "kind", "priority", "state", "message", "technical"}
    guide = [e for e in rec.events if e.get("by") == "guide"]
    assert any(e["kind"] == "step" for e in guide)


def test_response_state_follows_the_actions_and_reaches_the_alarms(tmp_path, protocol) -> None:  # type: ignore[no-untyped-def]
    s, w = _response(tmp_path, protocol)
    rec = load(w.path)
    # finger out at 80 s, during the response: high priority
    fo = next(a for a in rec.alarms if a["kind"] == "finger_out" and a["state"] == "raised")
    assert fo["priority"] == Priority.HIGH.label
    assert not s.response_active  # EMS arrived at 120 s
    assert s.monitor.responses()[0][1] is not None


def test_late_lines_are_inserted_in_time_order() -> None:
    log = SessionLog(3)
    for t, text in ((1.0, "a"), (5.0, "c"), (3.0, "b"), (5.0, "d")):
        log.append(LogLine(t, LogKind.EVENT, text))
    assert [ln.text for ln in log] == ["b", "c", "d"]  # the oldest dropped, order by time


def test_on_alert_fires_for_alarm_and_guidance_changes_not_for_each_reading(protocol) -> None:  # type: ignore[no-untyped-def]
    clock = VirtualClock()
    s = Session(clock=clock, monitor=Monitor(), guide=Guide(protocol, clock),
                source_label="sim:test")
    alerts: list[float] = []
    s.on_alert = lambda: alerts.append(s.elapsed())
    s.on_item(LinkEvent(clock.now(), LinkState.CONNECTED))
    for _ in range(20):  # steady readings: nothing urgent once the first prompt is shown
        clock.advance(1)
        s.on_item(Reading(t=clock.now(), spo2=97.0, pulse=70.0))
    quiet = len(alerts)
    for _ in range(10):
        clock.advance(1)
        s.on_item(Reading(t=clock.now(), spo2=97.0, pulse=70.0))
    assert len(alerts) == quiet  # ten more readings, no alert
    clock.advance(1)
    s.on_item(Reading(t=clock.now(), status=Status.SENSOR_FAULT))  # raised at once
    assert len(alerts) == quiet + 1
    s.on_action(Action.UNRESPONSIVE)  # a new step: guidance changed
    assert len(alerts) == quiet + 2


def test_the_offline_analysis_of_a_recorded_response_gives_the_live_priorities(  # type: ignore[no-untyped-def]
        tmp_path, protocol) -> None:
    from oxi_assist.actions import recorded_response_spans
    from oxi_assist.analysis import analyze

    _s, w = _response(tmp_path, protocol)
    rec = load(w.path)
    assert recorded_response_spans(rec.events) == [(10.0, 120.0)]
    live = {(a["kind"], round(a["t"], 3)): a["priority"] for a in rec.alarms
            if a["state"] == "raised"}
    offline = {(a.kind, round(a.start, 3)): a.priority.label for a in analyze(rec).alarms}
    assert live["finger_out", 82.0] == "high"
    for key, prio in live.items():
        assert offline.get(key) == prio, key
