"""Offline analysis on hand-made traces with known answers, and on a real session file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from drivers.formats import load
from drivers.formats.native import SessionWriter
from drivers.reading import LinkEvent, LinkState, Reading, Status
from oxi_assist.analysis import Trace, _window_max, analyze, analyze_trace
from oxi_assist.monitor.alarm_rules import ON, solve
from oxi_assist.monitor.smoothing import smooth, window_start


def trace(values: list[float | None], dt: float = 1.0, pulse: float = 70.0) -> Trace:
    return Trace.from_items([
        Reading(t=i * dt, spo2=v, pulse=pulse if v is not None else None,
                status=Status.NONE if v is not None else Status.FINGER_OUT)
        for i, v in enumerate(values)])


def test_time_below_and_desaturation_on_a_square_dip() -> None:
    a = analyze_trace(trace([97.0] * 60 + [80.0] * 60 + [97.0] * 60))
    # the device's values: 60 one-second readings at 80 %
    assert a.device.min_spo2 == 80.0 and a.device.max_spo2 == 97.0
    assert a.device.time_below == {"90": 60.0, "85": 60.0, "80": 0.0}
    # smoothing (8 s window) turns the step into a ramp: 97→80 over 8 samples
    assert a.smoothed.min_spo2 == 80.0
    below = a.smoothed.time_below
    assert below["90"] > below["85"] > below["80"] == 0.0
    assert 55 < below["90"] < 65
    d3 = [d.to_dict() for d in a.desaturations if d.level == 3.0]
    assert len(d3) == 1 and d3[0]["baseline"] == 97.0 and d3[0]["nadir"] == 80.0
    assert d3[0]["depth"] == 17.0 and d3[0]["end_s"] == 120.0
    assert d3[0]["ended"] == "recovered" and d3[0]["counted"] is True
    # per valid hour: 180 one-second readings (the recording's interval is unknown, so the
    # last reading holds for no time)
    assert a.valid_time_s == 179.0
    assert a.odi3_per_h == pytest.approx(1 / (179 / 3600), abs=0.01)
    kinds = [x.kind for x in a.alarms]
    assert kinds.count("spo2_low") == 1 and kinds.count("spo2_severe") == 1


def test_gaps_are_gaps_not_values() -> None:
    vals: list[float | None] = [97.0] * 30 + [None] * 30 + [97.0] * 30
    a = analyze_trace(trace(vals))
    assert a.valid_fraction == pytest.approx(60 / 90)
    assert a.device.min_spo2 == 97.0 and a.smoothed.min_spo2 == 97.0
    kinds = {x.kind for x in a.alarms}
    assert {"finger_out", "stale"} <= kinds
    assert a.device.time_below["90"] == 0.0


def test_no_valid_value_at_all() -> None:
    a = analyze_trace(trace([None] * 20))
    assert a.device.min_spo2 is None and a.smoothed.mean_spo2 is None and a.odi3_per_h is None
    assert a.valid_fraction == 0.0
    assert any(x.kind == "stale" for x in a.alarms)


def test_empty_trace() -> None:
    a = analyze_trace(Trace.from_items([]))
    assert a.samples == 0 and a.alarms == [] and a.device.min_spo2 is None


def test_link_lost_from_link_events() -> None:
    items = [Reading(t=float(i), spo2=97.0, pulse=70.0) for i in range(10)]
    items.append(LinkEvent(t=9.5, state=LinkState.LOST))
    items += [Reading(t=float(i), spo2=97.0, pulse=70.0) for i in range(12, 15)]
    a = analyze_trace(Trace.from_items(items))
    ll = [x.to_dict() for x in a.alarms if x.kind == "link_lost"]
    assert ll == [{"kind": "link_lost", "priority": "high", "technical": True,
                   "onset_s": 9.5, "start_s": 9.5, "end_s": 12.0}]


def test_json_has_the_documented_keys() -> None:
    a = analyze_trace(trace([97.0] * 30 + [85.0] * 30))
    d = json.loads(a.to_json())
    for key in ("duration_s", "valid_fraction", "valid_time_s", "device", "smoothed",
                "desaturation_rule", "desaturations", "odi3_per_h", "odi4_per_h",
                "alarms_raised", "alarms_by_kind", "alarms", "startup_excluded_s"):
        assert key in d
    for view in ("device", "smoothed"):
        assert set(d[view]) >= {"min_spo2", "max_spo2", "mean_spo2", "pulse_min",
                                "pulse_max", "time_below"}
        assert set(d[view]["time_below"]) == {"90", "85", "80"}
    assert d["smoothed"]["smoothing"] == "median-of-3 + 8 s moving average"
    assert d["desaturation_rule"]["version"] == "aasm-preevent-1"
    assert d["alarms_raised"] == len(d["alarms"])
    assert {"start_s", "nadir", "depth", "duration_s"} <= set(d["desaturations"][0])
    assert {"kind", "priority", "start_s", "end_s"} <= set(d["alarms"][0])
    assert any(x["end_s"] is None for x in d["alarms"])  # still low at the end


def test_on_a_real_native_session_file(tmp_path: Path) -> None:
    p = tmp_path / "s.jsonl"
    with SessionWriter(p, source="test", start_wall=0.0) as w:
        for i in range(300):
            v = 97.0 if i < 100 or i > 200 else 83.0
            w.reading(Reading(t=float(i), spo2=v, pulse=64.0, pi=2.5))
    rec = load(p)
    a = analyze(rec)
    assert a.samples == 300 and a.device.min_spo2 == 83.0
    assert {x.kind for x in a.alarms} == {"spo2_low", "spo2_severe", "falling_fast"}


def test_smoothing_matches_a_plain_loop() -> None:
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.choice([0.0, 0.5, 1.0, 2.5], 2000))
    x = rng.integers(700, 1000, 2000)
    got = smooth(t, x, 8.0)
    for i in range(0, 2000, 37):
        w = [j for j in range(i + 1) if t[j] > t[i] - 8.0]
        m = []
        for j in w:
            prev = [q for q in range(j + 1) if t[q] > t[j] - 8.0][-3:]
            m.append(sorted(x[q] for q in prev)[1] if len(prev) == 3 else x[j])
        assert got[i] == round(sum(m) / len(m))


@pytest.mark.parametrize("side", ["left", "right"])
def test_window_start_equals_searchsorted(side: str) -> None:
    rng = np.random.default_rng(5)
    for t in (np.arange(5000.0), np.cumsum(rng.choice([0.0, 0.3, 1.0, 40.0], 5000)),
              np.concatenate([np.arange(1000.0), 3000 + np.arange(3000.0) * 0.01])):
        for span in (0.5, 8.0, 30.0, 120.0):
            assert (window_start(t, span, side) == np.searchsorted(t, t - span, side)).all()


def test_window_max_equals_brute_force() -> None:
    rng = np.random.default_rng(7)
    t = np.cumsum(rng.choice([0.0, 0.5, 1.0, 30.0], 3000))
    s = rng.integers(800, 1000, 3000)
    got = _window_max(t, s, 20.0)
    want = [s[(t >= t[i] - 20.0) & (np.arange(3000) <= i)].max() for i in range(3000)]
    assert (got == np.array(want)).all()


def test_solve_delay_and_breakers() -> None:
    t = np.arange(10.0)
    c = np.array([0, 2, 2, 2, 1, 2, 0, 2, 2, -1], dtype=np.int8)
    seg = solve(t, c, 1.5)
    # run 1..3 reaches 1.5 s at index 3; MID at 4 keeps it; OFF at 6 ends it
    # run 7..8 reaches 1.5 s only at 9, which is UNK: no second alarm
    assert seg.raised.tolist() == [3] and seg.ended.tolist() == [6] and seg.onset.tolist() == [1]
    seg = solve(t, c, 0.0, bypass=np.zeros(10, dtype=bool))
    assert seg.raised.tolist() == [1, 7] and seg.ended.tolist() == [6, 9]
    assert (c[seg.raised] == ON).all()


def test_statistics_skip_the_acquisition_window() -> None:
    """A finger just put back reads low for a couple of samples: not the minimum."""
    vals: list[float | None] = [97.0] * 60 + [None] * 20 + [70.0, 80.0] + [97.0] * 60
    a = analyze_trace(trace(vals))
    for view in (a.device, a.smoothed):
        assert view.min_spo2 is not None and view.min_spo2 > 90.0
        # but time below counts them, and the rules still see them
        assert view.time_below["90"] > 0.0


def _dips(values: list[float]) -> list[dict]:
    """Desaturations of a 1 Hz trace, checked equal between the live Monitor and the analysis."""
    from oxi_assist.monitor.monitor import Monitor

    tr = trace(values)
    off = [d.to_dict() for d in analyze_trace(tr).desaturations]
    m = Monitor()
    for i, v in enumerate(values):
        m.update(Reading(t=float(i), spo2=v, pulse=70.0))
    live = [d.to_dict() for d in m.desaturations]
    key = ("level", "start_s", "end_s", "nadir", "baseline", "ended", "counted")
    assert [[d[k] for k in key] for d in off] == [[d[k] for k in key] for d in live]
    return off


def test_a_dip_shorter_than_ten_seconds_is_not_a_desaturation() -> None:
    """AASM: an event lasts at least 10 s. Five seconds 4 points down is not one."""
    assert _dips([97.0] * 150 + [93.0] * 5 + [97.0] * 60) == []
    ten = _dips([97.0] * 150 + [93.0] * 11 + [97.0] * 60)
    assert [(d["level"], d["counted"]) for d in ten] == [(3.0, True), (4.0, True)]


def test_a_prolonged_low_is_listed_but_not_counted() -> None:
    """Not back within 1 point of the baseline 90 s after it began: a prolonged low, not a
    dip; the ODI leaves it out, the list keeps it."""
    d = _dips([97.0] * 150 + [90.0] * 200)
    first = next(x for x in d if x["level"] == 3.0)
    assert first["ended"] == "too_long" and first["counted"] is False
    assert analyze_trace(trace([97.0] * 150 + [90.0] * 200)).odi3_per_h == 0.0


def test_the_baseline_is_the_pre_event_one() -> None:
    """The baseline is the highest value in the 2 minutes before the drop, kept for the event:
    a slow recovery to 96 ends it (within 1 point of 97), a recovery to 95 does not."""
    ok = _dips([97.0] * 150 + [92.0] * 20 + [96.0] * 30)
    assert ok[0]["baseline"] == 97.0 and ok[0]["ended"] == "recovered"
    slow = _dips([97.0] * 150 + [92.0] * 20 + [95.0] * 100)
    assert slow[0]["ended"] == "too_long"


def test_columns_give_the_same_analysis_as_readings() -> None:
    """A reader's columns go into the analysis without a Reading per sample; the result is
    the one the same samples give as Readings (out-of-order and timeless samples dropped)."""
    from drivers.formats._base import ReadingArrays, Recording

    rng = np.random.default_rng(7)
    n = 5000
    t = np.cumsum(rng.choice([0.0, 0.5, 1.0, 1.0, 2.0, 30.0], n, p=[.02, .1, .5, .3, .07, .01]))
    spo2 = np.round(np.clip(92 + 6 * np.sin(t / 200) + rng.normal(0, 1.5, n), 60, 100), 1)
    pulse = np.round(rng.uniform(45, 150, n))
    st = rng.choice([0, 0, 0, 0, int(Status.FINGER_OUT), int(Status.SEARCHING),
                     int(Status.MOTION), int(Status.NO_SENSOR), int(Status.MISSING)], n)
    spo2[(st & int(Status.FINGER_OUT | Status.NO_SENSOR | Status.MISSING)) != 0] = np.nan
    t[100] = t[99] - 3.0  # a reading out of order
    t[200] = np.nan  # and one without a time
    pi = np.where(rng.random(n) < 0.5, np.nan, rng.uniform(0.1, 5, n))
    cols = ReadingArrays(t, spo2, pulse, st, pi)
    rec = Recording("x", "t", readings=cols, interval=1.0)  # type: ignore[arg-type]
    a = analyze(rec).to_dict()
    b = analyze(Trace.from_items(list(cols), interval=1.0)).to_dict()
    assert a == b and a["dropped_out_of_order"] == 2 and a["alarms"]
