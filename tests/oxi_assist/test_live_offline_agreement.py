"""One set of rules, two speeds: the live Monitor and the offline analysis must produce the
same alarms (kind, priority, onset, start, end) and the same desaturation events on any trace —
gaps, finger-out, spikes, steps, ramps, flags, link drops, irregular and repeated timestamps,
with extra `tick` calls between items (time passing must not change the history), and with an
overdose response starting and ending anywhere (its alarms are high priority)."""

from __future__ import annotations

import math
import os
import random
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.reading import LinkEvent, LinkState, Reading, Status
from oxi_assist.analysis import Trace, analyze_trace
from oxi_assist.monitor.alarm_config import AlarmConfig
from oxi_assist.monitor.monitor import Monitor
from oxi_assist.monitor.records import AlarmRecord, DesatRecord

settings.register_profile("oxi-agreement", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("oxi-agreement-soak", max_examples=3000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])

FLAGS = [Status.NONE] * 6 + [Status.MOTION, Status.LOW_PERFUSION, Status.POOR_SIGNAL,
                             Status.SEARCHING, Status.SENSOR_FAULT, Status.FINGER_OUT,
                             Status.NO_SENSOR, Status.STARTUP, Status.MISSING]
NO_VALUE = (Status.SEARCHING | Status.SENSOR_FAULT | Status.NO_SENSOR | Status.STARTUP
            | Status.MISSING)


@st.composite
def traces(draw: st.DrawFn) -> tuple[list[Reading | LinkEvent], list[float]]:
    """Segments of physiology and equipment trouble, then link events and ticks."""
    t = draw(st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 3)))
    irregular = draw(st.booleans())
    rnd = random.Random(draw(st.integers(0, 2**32)))  # per-sample detail, cheap to draw
    items: list[Reading | LinkEvent] = []
    level = draw(st.floats(88, 100))
    pulse = draw(st.floats(40, 150))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flat", "ramp", "step", "gap", "finger", "flags",
                                     "spikes", "pulse", "wave"]))
        length = draw(st.integers(1, 60))
        target = level
        if kind == "ramp":
            target = draw(st.floats(60, 100))
        elif kind == "step":
            level = draw(st.floats(55, 100))
            target = level
        elif kind == "pulse":
            pulse = draw(st.floats(20, 260))
        elif kind == "gap":
            t += draw(st.floats(0.5, 45))
            continue
        for i in range(length):
            if irregular:
                t += rnd.choice([0.0, 0.25, 0.5, 1.0, 1.0, 1.3, 2.0, 3.7])
            else:
                t += 1.0
            t = round(t, 4)
            v = level + (target - level) * (i + 1) / length
            status = Status.NONE
            spo2: float | None = round(v, 1)
            p: float | None = pulse
            pi: float | None = None
            if kind == "finger":
                status, spo2, p = Status.FINGER_OUT, None, None
            elif kind == "flags":
                status = rnd.choice(FLAGS)
                if status & NO_VALUE:
                    spo2 = p = None
                pi = rnd.choice([None, 0.1, 2.0])
            elif kind == "spikes" and rnd.randrange(5) == 0:
                spo2 = rnd.choice([40.0, 70.0, 85.0, 100.0, 127.0])
            elif kind == "wave":
                items.append(Reading(t=t, pleth=(50.0,), pleth_rate=1.0, wave_only=True))
                continue
            items.append(Reading(t=t, spo2=spo2, pulse=p, pi=pi, status=status))
        level = target
    if items and draw(st.booleans()):
        t_max = max(x.t for x in items)
        for _ in range(draw(st.integers(1, 4))):
            lt = round(draw(st.floats(0, t_max + 20)), 3)
            state = draw(st.sampled_from([LinkState.LOST, LinkState.RECONNECTING,
                                          LinkState.CONNECTED, LinkState.CONNECTING]))
            items.append(LinkEvent(t=lt, state=state))
    # the order a live session sees: by time, readings before link events at the same time
    items.sort(key=lambda x: (x.t, isinstance(x, LinkEvent)))
    ticks = []
    if items and draw(st.booleans()):
        for _ in range(draw(st.integers(1, 12))):
            ticks.append(round(draw(st.floats(items[0].t, items[-1].t)), 3))
    return items, sorted(ticks)


@st.composite
def responses(draw: st.DrawFn, items: list[Reading | LinkEvent]
              ) -> list[tuple[float, float | None]]:
    """Response spans inside the trace (a start and, maybe, an end), as a session's keys make
    them: 911 pressed mid-trace, EMS arrived later."""
    if not items or not draw(st.booleans()):
        return []
    lo, hi = items[0].t, items[-1].t
    times = sorted(round(draw(st.floats(lo, hi)), 3) for _ in range(draw(st.integers(1, 4))))
    spans: list[tuple[float, float | None]] = []
    for i in range(0, len(times), 2):
        end = times[i + 1] if i + 1 < len(times) else None
        if end is not None and end <= times[i]:
            continue
        spans.append((times[i], end))
    return spans


@st.composite
def configs(draw: st.DrawFn) -> AlarmConfig:
    cfg = AlarmConfig.default()
    if not draw(st.booleans()):
        return cfg
    rules = dict(cfg.rules)
    for k in ("spo2_low", "spo2_severe", "finger_out", "signal_poor", "pulse_low",
              "falling_fast"):
        rules[k] = replace(rules[k], delay_s=draw(st.sampled_from([0.0, 2.0, 5.0, 15.0])))
    return replace(cfg, rules=rules,
                   window_s=draw(st.sampled_from([2.0, 4.0, 8.0, 12.0])),
                   stale_after_s=draw(st.sampled_from([3.0, 10.0, 30.0])),
                   no_data_after_s=draw(st.sampled_from([2.0, 5.0])),
                   trend_window_s=draw(st.sampled_from([10.0, 30.0])),
                   baseline_window_s=draw(st.sampled_from([20.0, 120.0])),
                   desat_min_duration_s=draw(st.sampled_from([0.0, 5.0, 10.0])),
                   desat_max_duration_s=draw(st.sampled_from([15.0, 30.0, 90.0])))


def run_live(items: list[Reading | LinkEvent], ticks: list[float], cfg: AlarmConfig,
             spans: list[tuple[float, float | None]] | None = None) -> Monitor:
    """Feeds the Monitor as a session does; a response starts or ends before any item or tick
    of the same instant (the responder's key is handled, then the data)."""
    m = Monitor(cfg)
    bounds = sorted([(a, True) for a, _ in spans or ()]
                    + [(b, False) for _, b in spans or () if b is not None])
    j = 0

    def respond_until(t: float) -> None:
        nonlocal j
        while j < len(bounds) and bounds[j][0] <= t:
            m.set_response_active(*bounds[j])
            j += 1

    k = 0
    for i, x in enumerate(items):
        nxt = items[i + 1].t if i + 1 < len(items) else None
        respond_until(x.t)
        m.update(x)
        # ticks strictly between this item and the next: time passing with no data
        while k < len(ticks) and ticks[k] < x.t:
            k += 1
        while k < len(ticks) and nxt is not None and ticks[k] < nxt:
            respond_until(ticks[k])
            m.tick(ticks[k])
            k += 1
    respond_until(math.inf)
    assert m.responses() == list(spans or [])
    return m


def _end(v: float | None) -> float:
    """A still-open alarm or event (end None) sorts after every ended one."""
    return float("inf") if v is None else v


def alarm_key(a: AlarmRecord) -> tuple:
    return (a.kind, a.priority, a.onset, a.start, _end(a.end))


def desat_key(d: DesatRecord) -> tuple:
    return (d.level, d.start, _end(d.end), d.nadir, d.baseline, d.depth, str(d.outcome),
            d.counted)


def compare(items: list[Reading | LinkEvent], ticks: list[float], cfg: AlarmConfig,
            spans: list[tuple[float, float | None]] | None = None) -> None:
    m = run_live(items, ticks, cfg, spans)
    live = m.summary()
    tr = Trace.from_items(items)
    tr.response = list(spans or [])
    off = analyze_trace(tr, cfg)
    # the same records, object for object
    assert sorted(off.alarms, key=alarm_key) == sorted(m.history, key=alarm_key)
    assert (sorted(off.desaturations, key=desat_key)
            == sorted(m.desaturations, key=desat_key))
    assert abs(off.shown_time_s - live["valid_time_s"]) < 1e-6
    for b, v in live["time_below"].items():
        assert abs(off.smoothed.time_below[b] - v) < 1e-6


# OXI_AGREEMENT_PROFILE=oxi-agreement-soak runs 3000 traces instead of 200
@settings(settings.get_profile(os.environ.get("OXI_AGREEMENT_PROFILE", "oxi-agreement")))
@given(traces(), configs(), st.data())
def test_live_and_offline_agree(trace: tuple[list, list[float]], cfg: AlarmConfig,
                                data: st.DataObject) -> None:
    items, ticks = trace
    spans = data.draw(responses(items))
    compare(items, ticks, cfg, spans)


def test_agreement_on_a_scripted_overdose() -> None:
    """A hand-made trace that exercises every alarm kind at least once."""
    items: list[Reading | LinkEvent] = []
    t = 0.0
    spo2 = [97.0] * 120 + [97 - 0.5 * i for i in range(1, 40)] + [77.0] * 60
    spo2 += [77 + i for i in range(1, 21)] + [97.0] * 60
    for v in spo2:
        items.append(Reading(t=t, spo2=v, pulse=45.0 if 150 < t < 250 else 150.0
                             if 260 < t < 290 else 80.0))
        t += 1.0
    for _ in range(8):
        items.append(Reading(t=t, status=Status.FINGER_OUT))
        t += 1.0
    for _ in range(15):
        items.append(Reading(t=t, spo2=96.0, pulse=80.0, pi=0.1, status=Status.MOTION))
        t += 1.0
    items.append(Reading(t=t, status=Status.SENSOR_FAULT))
    t += 20.0
    items.append(LinkEvent(t=t, state=LinkState.LOST))
    t += 3.0
    items.append(LinkEvent(t=t, state=LinkState.CONNECTED))
    items.append(Reading(t=t + 1, spo2=96.0, pulse=80.0))
    cfg = AlarmConfig.default()
    compare(items, [], cfg)
    kinds = {a.kind for a in analyze_trace(Trace.from_items(items), cfg).alarms}
    assert kinds >= {"spo2_low", "spo2_severe", "falling_fast", "pulse_low", "pulse_high",
                     "finger_out", "signal_poor", "sensor_fault", "no_data", "stale",
                     "link_lost"}


def test_agreement_when_an_spo2_alarm_and_a_no_reading_alarm_share_an_instant() -> None:
    """Two readings with the same time: the first raises spo2_low, the second finger_out.
    'Raised before' means an earlier time on both sides, so this one is not escalated."""
    cfg = AlarmConfig.default()
    rules = dict(cfg.rules)
    for k in ("spo2_low", "finger_out"):
        rules[k] = replace(rules[k], delay_s=0.0)
    cfg = replace(cfg, rules=rules, window_s=1.0)
    items: list[Reading | LinkEvent] = [Reading(t=float(i), spo2=97.0, pulse=70.0)
                                        for i in range(30)]
    items += [Reading(t=30.0, spo2=86.0, pulse=70.0), Reading(t=30.0, status=Status.FINGER_OUT)]
    compare(items, [], cfg)
    off = analyze_trace(Trace.from_items(items), cfg)
    fo = next(a for a in off.alarms if a.kind == "finger_out")
    assert fo.priority.label == "medium" and fo.start == 30.0
    assert any(a.kind == "spo2_low" and a.start == 30.0 for a in off.alarms)
