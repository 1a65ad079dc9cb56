"""The breathing-rate counter: taps in, breaths/min out, never a stale rate shown as current."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxi_assist.breathing import BreathCounter, CountState


def taps(counter: BreathCounter, start: float, every: float, n: int) -> float:
    t = start
    for _ in range(n):
        counter.tap(t)
        t += every
    return t - every


def test_idle_until_the_first_tap() -> None:
    c = BreathCounter()
    assert c.count(100.0).state is CountState.IDLE
    assert c.count(100.0).per_min is None


def test_counting_until_enough_taps() -> None:
    c = BreathCounter()
    last = taps(c, 0.0, 5.0, 3)
    got = c.count(last)
    assert got.state is CountState.COUNTING
    assert got.per_min is None and got.taps == 3
    c.tap(last + 5.0)
    got = c.count(last + 5.0)
    assert got.state is CountState.READY
    assert got.per_min == pytest.approx(12.0)
    assert got.normal is True


def test_slow_breathing_is_reported_not_left_counting() -> None:
    c = BreathCounter()
    c.tap(0.0)
    c.tap(15.0)  # 4/min
    assert c.count(15.0).state is CountState.COUNTING
    got = c.count(20.0)  # two taps spanning 20 s since the first
    assert got.state is CountState.READY
    assert got.per_min is not None and got.per_min <= 4.0
    assert got.normal is False


def test_rate_uses_a_sliding_window() -> None:
    c = BreathCounter(window=60.0)
    last = taps(c, 0.0, 3.0, 20)  # 20/min for a minute
    last = taps(c, last + 8.0, 8.0, 10)  # then 7.5/min
    got = c.count(last)
    assert got.per_min == pytest.approx(7.5, abs=0.01)


def test_a_pause_pulls_the_rate_down_then_goes_stale() -> None:
    c = BreathCounter(stale_after=20.0)
    last = taps(c, 0.0, 5.0, 6)
    assert c.count(last).per_min == pytest.approx(12.0)
    got = c.count(last + 12.0)  # no breath for 12 s: the open gap counts
    assert got.state is CountState.READY
    assert got.per_min is not None and got.per_min < 10.0
    got = c.count(last + 21.0)
    assert got.state is CountState.STALE and got.per_min is None
    assert got.normal is None


def test_taps_out_of_order_are_clamped() -> None:
    c = BreathCounter()
    c.tap(10.0)
    c.tap(5.0)
    assert c.count(10.0).since_last == 0.0


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        BreathCounter(window=0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=30.0), min_size=1, max_size=60),
       st.floats(min_value=0.0, max_value=120.0))
def test_rate_is_finite_and_bounded(gaps: list[float], after: float) -> None:
    c = BreathCounter()
    t = 0.0
    for g in gaps:
        t += g
        c.tap(t)
    got = c.count(t + after)
    if got.state is CountState.READY:
        assert got.per_min is not None and 0.0 <= got.per_min < float("inf")
    else:
        assert got.per_min is None
    assert got.since_last is not None and got.since_last >= 0.0


def test_a_double_press_is_one_breath() -> None:
    c = BreathCounter()
    for t in (0.0, 0.1, 5.0, 5.05, 10.0, 15.0, 15.2):
        c.tap(t)
    got = c.count(15.0)
    assert got.taps == 4
    assert got.per_min == pytest.approx(12.0)
