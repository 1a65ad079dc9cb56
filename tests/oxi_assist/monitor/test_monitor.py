"""The live Monitor: smoothing, bands, quality, stale data, alarms, pause and acknowledge."""

from __future__ import annotations

from dataclasses import replace

import pytest

from drivers.reading import LinkEvent, LinkState, Reading, Status
from oxi_assist.monitor.alarm_config import AlarmConfig
from oxi_assist.monitor.changes import AlarmChange, AlarmState, PauseChange, PauseState
from oxi_assist.monitor.monitor import Monitor
from oxi_assist.monitor.priority import Priority
from oxi_assist.monitor.vitals import Band, Quality


def feed(m: Monitor, values: list[float | None], t0: float = 0.0, dt: float = 1.0,
         pulse: float = 70.0, status: Status = Status.NONE):
    st = m.state
    for i, v in enumerate(values):
        st = m.update(Reading(t=t0 + i * dt, spo2=v, pulse=pulse if v is not None else None,
                              status=status if v is not None else Status.FINGER_OUT))
    return st


def kinds(m: Monitor) -> list[tuple[str, float, float | None]]:
    return [(a.kind, a.start, a.end) for a in m.history]


def test_smoothing_is_a_moving_mean_after_median_of_three() -> None:
    m = Monitor()
    st = feed(m, [96, 96, 96, 60 + 30, 96, 96])  # one-sample spike to 90
    assert st.spo2 == 96.0  # the median-of-3 removed it entirely
    m = Monitor()
    st = feed(m, [90, 92, 94, 96, 98, 100, 100, 100, 100, 100])
    # window 8 s (t > 9 - 8): samples 2..9, median-filtered values 92,94,96,98,100,100,100,100
    assert st.spo2 == pytest.approx((92 + 94 + 96 + 98 + 100 * 4) / 8, abs=0.05)


@pytest.mark.parametrize(("v", "band"), [(97, Band.NORMAL), (95, Band.NORMAL), (94, Band.WATCH),
                                         (90, Band.WATCH), (89, Band.LOW), (85, Band.LOW),
                                         (84, Band.SEVERE)])
def test_bands(v: float, band: Band) -> None:
    st = feed(Monitor(), [v] * 5)
    assert st.band is band
    assert st.quality is Quality.GOOD


def test_finger_out_withdraws_the_number_at_once() -> None:
    m = Monitor()
    feed(m, [97] * 5)
    st = m.update(Reading(t=5.0, status=Status.FINGER_OUT))
    assert st.spo2 is None and st.band is Band.UNKNOWN and st.quality is Quality.NONE


def test_implausible_values_are_invalid() -> None:
    m = Monitor()
    feed(m, [97] * 5)
    st = m.update(Reading(t=5.0, spo2=5.0, pulse=70.0))
    assert st.spo2 is None and st.band is Band.UNKNOWN
    st = m.update(Reading(t=6.0, spo2=97.0, pulse=400.0))
    assert st.spo2 is None and st.pulse is None


def test_a_very_low_real_reading_is_shown_as_very_low_not_hidden() -> None:
    # Untreated overdoses fall below 50 % before arrest: that is the worst state, not "no reading".
    m = Monitor()
    st = feed(m, [45] * 12)
    assert st.spo2 == 45.0 and st.band is Band.SEVERE


def test_doubtful_flags_and_low_pi_mark_quality_poor() -> None:
    m = Monitor()
    st = feed(m, [97] * 3, status=Status.MOTION)
    assert st.spo2 == 97.0 and st.quality is Quality.POOR
    st = m.update(Reading(t=3.0, spo2=97.0, pulse=70.0, pi=0.1))
    assert st.quality is Quality.POOR
    st = m.update(Reading(t=4.0, spo2=97.0, pulse=70.0, pi=2.0))
    assert st.quality is Quality.GOOD and st.pi == 2.0


def test_value_held_only_until_stale_then_no_data_and_stale_alarms() -> None:
    m = Monitor()
    feed(m, [97] * 3)  # last reading at t=2
    st = m.tick(6.0)
    assert st.spo2 == 97.0 and not st.alarms
    st = m.tick(7.5)
    assert AlarmChange("no_data", AlarmState.RAISED, 7.0, Priority.MEDIUM,
                       "No data from oximeter", True, 7.0) in st.changes
    assert st.alarms[0].kind == "no_data" and st.alarms[0].since == 7.0
    assert st.spo2 == 97.0  # held, but flagged by the no_data alarm
    st = m.tick(12.5)
    assert st.spo2 is None and st.stale and st.band is Band.UNKNOWN
    assert any(isinstance(c, AlarmChange) and (c.kind, c.state, c.t)
               == ("stale", AlarmState.RAISED, 12.0) for c in st.changes)
    st = m.update(Reading(t=13.0, spo2=97.0, pulse=70.0))
    assert st.spo2 == 97.0 and not st.stale
    assert {a.kind for a in st.alarms} == set()
    assert kinds(m) == [("no_data", 7.0, 13.0), ("stale", 12.0, 13.0)]


def test_alarm_times_do_not_depend_on_ticks() -> None:
    a, b = Monitor(), Monitor()
    for m in (a, b):
        feed(m, [97] * 3)
    for x in (3.0, 5.0, 7.2, 8.0, 12.1, 15.0):
        a.tick(x)
    for m in (a, b):
        m.update(Reading(t=20.0, spo2=97.0, pulse=70.0))
    assert kinds(a) == kinds(b)


def test_spo2_low_delay_hysteresis_and_clear() -> None:
    m = Monitor()
    feed(m, [97] * 20)
    # a slow fall (no rapid bypass): 0.3 points/s
    vals = [97 - 0.3 * i for i in range(1, 31)]  # reaches 88 at i = 30
    feed(m, vals + [88] * 20, t0=20.0)
    rec = [a for a in m.history if a.kind == "spo2_low"]
    assert len(rec) == 1
    assert rec[0].start - rec[0].onset == pytest.approx(10.0)  # delay
    # back to 91 (inside limit + hysteresis 92): stays active
    feed(m, [91] * 20, t0=70.0)
    rec = [a for a in m.history if a.kind == "spo2_low"]  # records are frozen: read again
    assert rec[0].end is None
    feed(m, [93] * 20, t0=90.0)
    rec = [a for a in m.history if a.kind == "spo2_low"]
    assert rec[0].end is not None


def test_rapid_desaturation_bypasses_the_delay() -> None:
    m = Monitor()
    feed(m, [98] * 20)
    st = feed(m, [98 - 2 * i for i in range(1, 10)] + [80] * 3, t0=20.0)
    rec = [a for a in m.history if a.kind == "spo2_low"]
    assert rec and rec[0].start == rec[0].onset
    assert st.trend is not None and st.trend < 0


def test_pulse_low_alarm_for_bradycardia() -> None:
    m = Monitor()
    feed(m, [97] * 30, pulse=42.0)
    rec = [a for a in m.history if a.kind == "pulse_low"]
    assert rec and rec[0].priority is Priority.MEDIUM


def test_finger_out_alarm_after_its_delay() -> None:
    m = Monitor()
    feed(m, [97] * 5)
    for i in range(5):
        st = m.update(Reading(t=5.0 + i, status=Status.FINGER_OUT))
    fo = [a for a in m.history if a.kind == "finger_out"]
    assert fo and fo[0].onset == 5.0 and fo[0].start == 7.0
    assert st.alarms[0].technical


def test_link_lost_is_immediate_and_high() -> None:
    m = Monitor()
    feed(m, [97] * 5)
    st = m.update(LinkEvent(t=5.5, state=LinkState.LOST, reason="gone"))
    assert st.top_alarm is not None and st.top_alarm.kind == "link_lost"
    assert st.top_alarm.priority is Priority.HIGH and st.spo2 is None
    st = m.update(LinkEvent(t=6.0, state=LinkState.CONNECTED))
    assert all(a.kind != "link_lost" for a in st.alarms)


def test_pause_is_clamped_to_two_minutes_and_high_breaks_through() -> None:
    m = Monitor()
    feed(m, [97] * 5)
    st = m.pause(5.0, seconds=600)
    assert st.paused_until == 125.0
    st = m.tick(6.0)
    assert st.paused_until == 125.0
    st = m.update(LinkEvent(t=7.0, state=LinkState.LOST))  # high priority
    assert st.paused_until is None and any(
        isinstance(c, PauseChange) and c.state is PauseState.BROKEN for c in st.changes)


def test_pause_expires() -> None:
    m = Monitor()
    feed(m, [97] * 5)
    m.pause(5.0, seconds=30)
    st = feed(m, [97] * 40, t0=5.0)
    assert st.paused_until is None


def test_latching_high_alarm_waits_for_acknowledgement() -> None:
    m = Monitor()
    feed(m, [97] * 20)
    feed(m, [80] * 30, t0=20.0)
    st = feed(m, [97] * 30, t0=50.0)
    sev = [a for a in st.alarms if a.kind == "spo2_severe"]
    assert sev and sev[0].latched
    st = m.acknowledge(80.0, "spo2_severe")
    assert all(a.kind != "spo2_severe" for a in st.alarms)


def test_acknowledge_marks_active_alarms() -> None:
    m = Monitor()
    feed(m, [97] * 20)
    feed(m, [80] * 30, t0=20.0)
    st = m.acknowledge(50.0)
    assert st.alarms and all(a.acknowledged for a in st.alarms)
    st = feed(m, [97] * 30, t0=50.0)
    assert all(a.kind != "spo2_severe" for a in st.alarms)  # acknowledged: no latch


def test_desaturation_events_and_count() -> None:
    m = Monitor()
    feed(m, [97] * 60)
    feed(m, [92] * 20, t0=60.0)
    st = feed(m, [97] * 30, t0=80.0)
    lv = {d.level for d in m.desaturations}
    assert lv == {3.0, 4.0}
    assert st.desat_count == 1
    d3 = next(d for d in m.desaturations if d.level == 3.0)
    assert d3.baseline == 97.0 and d3.nadir == 92.0 and d3.end is not None


def test_wave_only_readings_do_not_touch_vitals() -> None:
    m = Monitor()
    feed(m, [97] * 5)
    st = m.update(Reading(t=5.5, pleth=(1.0, 2.0), pleth_rate=50.0, wave_only=True))
    assert st.spo2 == 97.0 and m.pleth == (1.0, 2.0)


def test_out_of_order_reading_is_dropped() -> None:
    m = Monitor()
    feed(m, [97] * 5)
    st = m.update(Reading(t=1.0, spo2=60.0, pulse=70.0))
    assert st.spo2 == 97.0 and m.dropped == 1


def test_disabled_alarm_never_raises() -> None:
    cfg = AlarmConfig.default()
    rules = dict(cfg.rules)
    rules["finger_out"] = replace(rules["finger_out"], enabled=False)
    m = Monitor(replace(cfg, rules=rules))
    feed(m, [None] * 10)
    assert all(a.kind != "finger_out" for a in m.history)


def test_a_broken_timestamp_is_dropped_not_poisoning() -> None:
    m = Monitor()
    feed(m, [97] * 5)
    st = m.update(Reading(t=float("nan"), spo2=80.0, pulse=70.0))
    assert m.dropped == 1 and st.spo2 == 97.0
    st = m.update(Reading(t=5.0, spo2=97.0, pulse=70.0))
    assert st.spo2 == 97.0 and st.t == 5.0


def test_a_broken_time_from_the_caller_does_not_stall_a_pause() -> None:
    m = Monitor()
    feed(m, [97] * 5)
    st = m.pause(float("nan"), seconds=30)
    assert st.paused_until == 34.0  # counted from the Monitor's own latest time
    st = feed(m, [97] * 40, t0=5.0)
    assert st.paused_until is None


def test_no_reading_during_low_spo2_is_high_priority() -> None:
    m = Monitor()
    feed(m, [97] * 20)
    feed(m, [82] * 30, t0=20.0)  # spo2_low and spo2_severe raised
    st = feed(m, [None] * 5, t0=50.0)  # the finger slips out mid-event
    fo = next(a for a in st.alarms if a.kind == "finger_out")
    assert fo.priority is Priority.HIGH
    # long after the event: an ordinary medium equipment alarm
    m = Monitor()
    feed(m, [97] * 20)
    feed(m, [82] * 30, t0=20.0)
    feed(m, [97] * 200, t0=50.0)
    st = feed(m, [None] * 5, t0=250.0)
    fo = next(a for a in st.alarms if a.kind == "finger_out")
    assert fo.priority is Priority.MEDIUM


# ---------------------------------------------------------------- the overdose response (rule 5)

def _prio(st, kind: str) -> Priority:  # type: ignore[no-untyped-def]
    return next(a.priority for a in st.alarms if a.kind == kind)


def test_low_spo2_already_sounding_is_raised_to_high_when_the_response_begins() -> None:
    m = Monitor()
    feed(m, [97] * 20)
    st = feed(m, [88] * 20, t0=20.0)  # below 90, above 85: spo2_low only, medium
    assert _prio(st, "spo2_low") is Priority.MEDIUM
    st = m.set_response_active(40.0, True)  # 911 called
    assert _prio(st, "spo2_low") is Priority.HIGH
    esc = [c for c in st.changes if isinstance(c, AlarmChange)]
    assert [(c.kind, c.state, c.t, c.priority) for c in esc] == [
        ("spo2_low", AlarmState.ESCALATED, 40.0, Priority.HIGH)]
    rec = next(a for a in m.history if a.kind == "spo2_low")
    assert rec.priority is Priority.HIGH  # the history (and so the analysis) agrees


def test_no_reading_during_a_response_is_high_and_after_handover_medium_again() -> None:
    m = Monitor()
    feed(m, [97] * 20)
    m.set_response_active(20.0, True)
    st = feed(m, [None] * 5, t0=20.0)  # finger out, no SpO2 alarm before it
    assert _prio(st, "finger_out") is Priority.HIGH
    feed(m, [97] * 10, t0=25.0)
    m.set_response_active(35.0, False)  # EMS arrived
    st = feed(m, [None] * 5, t0=35.0)
    assert _prio(st, "finger_out") is Priority.MEDIUM
    assert m.responses() == [(20.0, 35.0)]


def test_without_a_response_low_spo2_stays_medium() -> None:
    st = feed(Monitor(), [97] * 20 + [88] * 20)
    assert _prio(st, "spo2_low") is Priority.MEDIUM


def test_response_escalation_can_be_turned_off() -> None:
    m = Monitor(replace(AlarmConfig.default(), response_escalates=False))
    feed(m, [97] * 20)
    m.set_response_active(20.0, True)
    st = feed(m, [88] * 20, t0=20.0)
    assert _prio(st, "spo2_low") is Priority.MEDIUM


def test_escalation_breaks_a_pause_that_held_a_medium_alarm() -> None:
    m = Monitor()
    feed(m, [97] * 20)
    feed(m, [88] * 20, t0=20.0)
    m.pause(40.0)
    st = m.set_response_active(41.0, True)
    assert st.paused_until is None
    assert any(isinstance(c, PauseChange) and c.state is PauseState.BROKEN for c in st.changes)
