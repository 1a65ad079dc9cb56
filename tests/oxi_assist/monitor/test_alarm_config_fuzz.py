"""Alarm configs fuzzed through the loader AND the live code: whatever the loader accepts, the
headless session (Monitor in a Session, as the screen runs it) and the offline analysis must
run sanely on it. A value the loader lets through that disables the 90 % alarm or shows an
impossible SpO2 (NaN did both) fails here, so the checker and the live code agree on what is
valid."""

from __future__ import annotations

import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.clock import VirtualClock
from drivers.errors import ConfigError
from drivers.reading import Reading, Status
from oxi_assist.analysis import Trace, analyze_trace
from oxi_assist.monitor import alarm_config as ac
from oxi_assist.monitor.monitor import Monitor
from oxi_assist.session import Session

EDGES = [math.nan, -math.nan, math.inf, -math.inf, 0.0, -0.0, -1.0, 1e308, -1e308, 5e-324]
#: (section path, key, accepted range as the loader documents it)
KEYS: list[tuple[str, str, tuple[float | None, float | None]]] = [
    *(("monitor", k, (lo, hi)) for k, (_t, lo, hi) in ac._MONITOR.items()),
    *((f"alarms.{kind}", "limit", rng) for kind, rng in ac._LIMIT_RANGE.items()),
    *((f"alarms.{kind}", k, (ac._RULE_KEYS[k][1], ac._RULE_KEYS[k][2]))
      for kind in ("spo2_low", "spo2_severe") for k in ("delay_s", "hysteresis", "rapid_drop",
                                                        "rapid_window_s")),
    ("desaturation", "baseline_window_s", (10.0, 600.0)),
    ("desaturation", "recovery", (0.0, 10.0)),
    ("desaturation", "min_duration_s", (0.0, 120.0)),
]


def _toml_number(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(float(x))


@st.composite
def configs(draw: st.DrawFn) -> dict[str, dict[str, float]]:
    chosen = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=4,
                           unique_by=lambda k: (k[0], k[1])))
    out: dict[str, dict[str, float]] = {}
    for section, key, (lo, hi) in chosen:
        inside = st.floats(lo if lo is not None else -1e3, hi if hi is not None else 1e3)
        bounds = [b for b in (lo, hi) if b is not None]
        value = draw(st.one_of(st.sampled_from(EDGES), inside, st.sampled_from(bounds or [0.0])))
        out.setdefault(section, {})[key] = value
    return out


def _text(cfg: dict[str, dict[str, float]]) -> str:
    return "".join(f"[{sec}]\n" + "".join(f"{k} = {_toml_number(v)}\n" for k, v in keys.items())
                   for sec, keys in cfg.items())


def _readings() -> list[Reading]:
    """Ten minutes at 1 Hz: normal, a deep desaturation to 70 % for four minutes, a finger-out
    stretch, recovery."""
    out = []
    for i in range(600):
        t = float(i)
        if 120 <= i < 360:
            spo2 = 70.0
        elif 400 <= i < 420:
            out.append(Reading(t=t, status=Status.FINGER_OUT))
            continue
        else:
            spo2 = 97.0
        out.append(Reading(t=t, spo2=spo2, pulse=72.0, pi=2.0))
    return out


def _run_session(cfg: ac.AlarmConfig) -> tuple[list[float], set[str]]:
    clock = VirtualClock()
    s = Session(clock=clock, monitor=Monitor(cfg), guide=None, source_label="sim:fuzz")
    shown: list[float] = []
    raised: set[str] = set()
    for r in _readings():
        clock.set(r.t)
        s.on_item(r)
        s.tick()
        v = s.vitals
        if v is not None:
            if v.spo2 is not None:
                shown.append(v.spo2)
            raised |= {a.kind for a in v.alarms}
    return shown, raised


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(cfg=configs())
def test_what_the_loader_accepts_the_live_session_can_use(tmp_path: Path,
                                                          cfg: dict[str, dict[str, float]]) -> None:
    p = tmp_path / "alarms.toml"
    p.write_text(_text(cfg), encoding="utf-8")
    try:
        loaded = ac.load_config(p)
    except ConfigError as e:
        msg = str(e)
        assert "\n" not in msg and msg.startswith(f"{p}:"), msg
        return
    for section, keys in cfg.items():  # every accepted number is a finite one
        for v in keys.values():
            assert math.isfinite(v), f"{section}: {v!r} was accepted"
    shown, raised = _run_session(loaded)
    assert all(math.isfinite(x) and 0.0 <= x <= 100.0 for x in shown), \
        f"SpO2 shown outside 0–100: {sorted(set(shown))[:5]}"
    low = loaded.rules["spo2_low"]
    # four minutes at 70 % must raise the low-SpO2 alarm unless it is off or set below 75
    if low.enabled and not low.limit < 75.0:  # written so that a NaN limit expects the alarm
        assert "spo2_low" in raised, f"spo2_low never raised with {cfg}"
    result = analyze_trace(Trace.from_items(_readings()), loaded)
    for view in (result.device, result.smoothed):
        assert view.min_spo2 is None or 0.0 <= view.min_spo2 <= 100.0
    if low.enabled and not low.limit < 75.0:
        assert any(a.kind == "spo2_low" for a in result.alarms), \
            f"the analysis raised no spo2_low with {cfg}"
